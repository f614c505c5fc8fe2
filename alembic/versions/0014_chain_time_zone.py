"""core: the hash chain reads timestamps in one time zone, whoever seals or verifies

Revision ID: 0014_chain_time_zone
Revises: 0013_own_schema
Create Date: 2026-11-30

``collabadmin_change_content`` renders an entry as JSON text for the hash
chain, and a ``timestamptz`` (the entry's ``at``) renders in the session's
``TimeZone``. The function claimed to be immutable, but a chain sealed by
the server in one time zone and verified from a ``psql`` session set to
another reported its first entry as tampered with: an auditor's own
settings made a sound log look forged.

The function now carries its own ``TimeZone``. So that chains already
sealed keep verifying, it is the zone sessions of this database get by
default at the time of the upgrade (``reset_val``: the server's, database's
or role's setting), which is the zone the server sealed in unless it was
started with a ``PGTZ`` of its own. The alternative, UTC for everyone,
would have made every existing chain sealed elsewhere fail at once.
"""

from __future__ import annotations

from alembic import op

revision = "0014_chain_time_zone"
down_revision = "0013_own_schema"
branch_labels = None
depends_on = None

FUNCTION = "collabadmin.collabadmin_change_content(collabadmin.collabadmin_change)"


def upgrade() -> None:
    zone = (
        op.get_bind()
        .exec_driver_sql("SELECT reset_val FROM pg_settings WHERE name = 'TimeZone'")
        .scalar_one()
    )
    literal = "'" + str(zone).replace("'", "''") + "'"
    op.execute(f"ALTER FUNCTION {FUNCTION} SET TimeZone = {literal}")


def downgrade() -> None:
    op.execute(f"ALTER FUNCTION {FUNCTION} RESET TimeZone")
