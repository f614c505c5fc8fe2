"""core: where broker mode's stream of change batches has got to

Revision ID: 0016_broker_position
Revises: 0015_action_source
Create Date: 2026-12-01

In broker mode one server instance at a time reads the change log and
publishes its batches to a NATS JetStream stream. The stream's last message
says where publishing got to; this table keeps the same, per stream, on the
database's side: the upper snapshot of a batch published (or the snapshot a
new stream starts at) and its sequence in the stream. A leader resumes from
the stream's tail; when the stream has lost its messages (its storage was
wiped) it resumes from here, so no change committed meanwhile is skipped.
"""

from __future__ import annotations

from alembic import op

revision = "0016_broker_position"
down_revision = "0015_action_source"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE collabadmin.collabadmin_broker (
            stream      text PRIMARY KEY,
            position    pg_snapshot NOT NULL,
            sequence    bigint NOT NULL DEFAULT 0,
            updated_at  timestamptz NOT NULL DEFAULT now()
        );
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE collabadmin.collabadmin_broker")
