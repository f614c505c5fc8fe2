"""core: imports — previews of imports, and drafts staged in batches

Revision ID: 0020_import
Revises: 0019_bulk_jobs
Create Date: 2026-12-01

An import (API.md, "Bulk, export and import":
``POST /api/r/{resource}/import``) writes each row as a change of its own
with ``source: "import"``, so an auditor can tell a spreadsheet loaded from
a hand edit (the log's ``source`` check lists it since ``0019_bulk_jobs``).

``collabadmin_import_preview`` keeps what a dry run showed its user: the
file's SHA-256 and the version of each record it would update. Applying
with that preview refuses to overwrite a field changed since (a conflict),
exactly as a PATCH with ``X-Base-Version`` does.

An import *as drafts* stages each line as a draft, submitted for review;
the drafts of one import share a ``batch`` (from
``collabadmin_draft_batch_seq``), listed and published together.
"""

from __future__ import annotations

from alembic import op

revision = "0020_import"
down_revision = "0019_bulk_jobs"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE collabadmin.collabadmin_import_preview (
            id          bigserial PRIMARY KEY,
            actor_id    bigint,
            resource    text NOT NULL,
            key         text NOT NULL,
            sha256      text NOT NULL,
            versions    jsonb NOT NULL DEFAULT '{}',
            created_at  timestamptz NOT NULL DEFAULT now()
        );
        CREATE INDEX collabadmin_import_preview_created
            ON collabadmin.collabadmin_import_preview (created_at);
        CREATE SEQUENCE collabadmin.collabadmin_draft_batch_seq;
        ALTER TABLE collabadmin.collabadmin_draft ADD COLUMN batch bigint;
        CREATE INDEX collabadmin_draft_batch ON collabadmin.collabadmin_draft (batch)
            WHERE batch IS NOT NULL;
        """
    )


def downgrade() -> None:
    op.execute(
        "DROP TABLE collabadmin.collabadmin_import_preview;"
        " ALTER TABLE collabadmin.collabadmin_draft DROP COLUMN batch;"
        " DROP SEQUENCE collabadmin.collabadmin_draft_batch_seq"
    )
