"""core: bulk edits and imports in the change log; background jobs

Revision ID: 0019_bulk_jobs
Revises: 0017_live_views
Create Date: 2026-12-03

A bulk edit (``POST /api/r/{resource}/bulk``) writes each row as a change of
its own with ``source: "bulk"``, an import with ``source: "import"``: the
log's ``source`` check lists both (as ``0015_action_source`` added
``action``).

``collabadmin_job`` keeps the background jobs a long bulk edit runs as
(``202 {"job": id}``): whose it is, what it does, how far it has got
(``done`` of ``total``, written in each batch's own transaction, so it
counts exactly the rows committed) and, once finished, its result, so that
``GET /api/jobs/{id}`` answers after a reconnect or on another instance.
Jobs are not records: the table is not tracked and its rows are not audit
entries (the rows a job writes are).
"""

from __future__ import annotations

from alembic import op

revision = "0019_bulk_jobs"
down_revision = "0017_live_views"
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
    _replace_check(("api", "draft", "revert", "workflow", "action", "bulk", "import", "db"))
    op.execute(
        """
        CREATE TABLE collabadmin.collabadmin_job (
            id           bigserial PRIMARY KEY,
            kind         text NOT NULL,
            owner_id     bigint,
            owner_name   text NOT NULL,
            resource     text NOT NULL,
            op           text NOT NULL,
            state        text NOT NULL DEFAULT 'running'
                         CHECK (state IN ('running', 'done', 'failed')),
            done         integer NOT NULL DEFAULT 0,
            total        integer NOT NULL DEFAULT 0,
            result       jsonb,
            created_at   timestamptz NOT NULL DEFAULT now(),
            updated_at   timestamptz NOT NULL DEFAULT now(),
            finished_at  timestamptz
        );
        CREATE INDEX collabadmin_job_owner ON collabadmin.collabadmin_job (owner_id, id);
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE collabadmin.collabadmin_job")
    _replace_check(("api", "draft", "revert", "workflow", "action", "db"), valid=False)
