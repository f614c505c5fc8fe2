"""core: drafts of record changes and their review trail

Revision ID: 0006_drafts
Revises: 0005_prefs
Create Date: 2026-11-23

A draft holds the fields it would change (``data``) apart from the live
table, pinned to the record's version when it was started
(``base_version``; null for a draft of a new record). Drafts are tracked by
the capture triggers like any record, so their edits and status changes are
in the change log (resource ``drafts``) and they carry their own ``version``
for optimistic locking. ``collabadmin_draft_event`` is the review trail:
who moved the draft from which status to which, when, with what comment.
"""

from __future__ import annotations

from alembic import op
from collabadmin.db.tracking import track_table, untrack_table

revision = "0006_drafts"
down_revision = "0005_prefs"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE collabadmin_draft (
            id                 bigserial PRIMARY KEY,
            resource           text NOT NULL,
            pk                 text,
            base_version       integer,
            data               jsonb NOT NULL DEFAULT '{}',
            status             text NOT NULL DEFAULT 'draft' CHECK (status IN
                                 ('draft', 'submitted', 'approved', 'rejected',
                                  'published', 'discarded')),
            author_id          bigint REFERENCES collabadmin_user (id) ON DELETE SET NULL,
            author_name        text NOT NULL,
            created_at         timestamptz NOT NULL DEFAULT now(),
            updated_at         timestamptz NOT NULL DEFAULT now(),
            publish_at         timestamptz,
            scheduled_by       bigint,
            scheduled_by_name  text,
            publish_error      jsonb,
            published_at       timestamptz,
            published_version  integer,
            version            integer NOT NULL DEFAULT 1,
            deleted_at         timestamptz,
            CHECK ((pk IS NULL) = (base_version IS NULL) OR status = 'published')
        );
        CREATE INDEX collabadmin_draft_record ON collabadmin_draft (resource, pk);
        CREATE INDEX collabadmin_draft_status ON collabadmin_draft (status, id);
        CREATE INDEX collabadmin_draft_author ON collabadmin_draft (author_id, id);
        CREATE INDEX collabadmin_draft_due ON collabadmin_draft (publish_at)
            WHERE status = 'approved' AND publish_at IS NOT NULL;

        CREATE TABLE collabadmin_draft_event (
            id           bigserial PRIMARY KEY,
            draft_id     bigint NOT NULL REFERENCES collabadmin_draft (id),
            at           timestamptz NOT NULL DEFAULT now(),
            actor_id     bigint,
            actor_name   text NOT NULL,
            action       text NOT NULL,
            from_status  text,
            to_status    text,
            comment      text
        );
        CREATE INDEX collabadmin_draft_event_draft ON collabadmin_draft_event (draft_id, id);
        """
    )
    track_table("collabadmin_draft", resource="drafts", functions_schema=None)


def downgrade() -> None:
    untrack_table("collabadmin_draft")
    op.execute("DROP TABLE collabadmin_draft_event; DROP TABLE collabadmin_draft")
