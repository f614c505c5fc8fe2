"""core: failed sign-in attempts, for throttling

Revision ID: 0003_login_throttle
Revises: 0001_core
Create Date: 2026-11-23
"""

from __future__ import annotations

from alembic import op

revision = "0003_login_throttle"
down_revision = "0001_core"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE collabadmin_login_failure (
            id        bigserial PRIMARY KEY,
            username  text NOT NULL,
            address   text,
            at        timestamptz NOT NULL DEFAULT now()
        );
        CREATE INDEX collabadmin_login_failure_username ON collabadmin_login_failure (username, at);
        CREATE INDEX collabadmin_login_failure_address ON collabadmin_login_failure (address, at);
        CREATE INDEX collabadmin_login_failure_at ON collabadmin_login_failure (at);
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE collabadmin_login_failure")
