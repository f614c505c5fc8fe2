"""core: per-user table views and views shared with everyone

Revision ID: 0005_prefs
Revises: 0004_audit_chain
Create Date: 2026-11-23
"""

from __future__ import annotations

from alembic import op

revision = "0005_prefs"
down_revision = "0004_audit_chain"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE collabadmin_view_pref (
            user_id     bigint NOT NULL REFERENCES collabadmin_user (id) ON DELETE CASCADE,
            resource    text NOT NULL,
            config      jsonb NOT NULL,
            updated_at  timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (user_id, resource)
        );
        CREATE TABLE collabadmin_shared_view (
            id          bigserial PRIMARY KEY,
            resource    text NOT NULL,
            name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 80),
            config      jsonb NOT NULL,
            created_by  bigint REFERENCES collabadmin_user (id) ON DELETE SET NULL,
            created_at  timestamptz NOT NULL DEFAULT now(),
            UNIQUE (resource, name)
        );
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE collabadmin_shared_view; DROP TABLE collabadmin_view_pref")
