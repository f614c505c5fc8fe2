"""core: the change log accepts ``source = 'action'`` (record actions)

Revision ID: 0015_action_source
Revises: 0014_chain_time_zone
Create Date: 2026-12-02

A record action (API.md, "Records": ``POST /api/r/{resource}/{pk}/actions/{name}``)
writes each row it changes as a change of its own with ``source: "action"``,
so an auditor can tell "Close course" from a hand edit of the status. The
log's ``source`` check listed the surfaces that existed before; it now lists
``action`` too. The capture trigger copies the setting the server made, so
nothing else changes.

Downgrading cannot rewrite entries already written (the log is append-only
and hash-chained): the old check comes back ``NOT VALID``, refusing new
``action`` entries while keeping the ones the log holds.
"""

from __future__ import annotations

from alembic import op

revision = "0015_action_source"
down_revision = "0014_chain_time_zone"
branch_labels = None
depends_on = None

TABLE = "collabadmin.collabadmin_change"
CHECK = "collabadmin_change_source_check"


def _replace_check(sources: tuple[str, ...], *, valid: bool = True) -> None:
    listed = ",".join(f"'{s}'" for s in sources)
    op.execute(
        f"ALTER TABLE {TABLE} DROP CONSTRAINT {CHECK},"
        f" ADD CONSTRAINT {CHECK} CHECK (source IN ({listed})){'' if valid else ' NOT VALID'}"
    )


def upgrade() -> None:
    _replace_check(("api", "draft", "revert", "workflow", "action", "db"))


def downgrade() -> None:
    _replace_check(("api", "draft", "revert", "workflow", "db"), valid=False)
