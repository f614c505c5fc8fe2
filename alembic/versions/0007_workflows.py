"""core: workflow runs

Revision ID: 0007_workflows
Revises: 0006_drafts
Create Date: 2026-11-23

A run follows one workflow definition (declared in Python) for one subject
record. Its ``steps`` hold each step's state: ``{"key": {"done", "at",
"by"}}``. At most one live (not cancelled) run exists per workflow and
subject: a partial unique index says so, so concurrent starts cannot race
past a check. Runs are tracked by the capture triggers (resource
``workflow_runs``): their progress is in the change log and on the websocket.
"""

from __future__ import annotations

from alembic import op
from collabadmin.db.tracking import track_table, untrack_table

revision = "0007_workflows"
down_revision = "0006_drafts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE collabadmin_workflow_run (
            id                bigserial PRIMARY KEY,
            workflow          text NOT NULL,
            subject_resource  text NOT NULL,
            subject_pk        text NOT NULL,
            status            text NOT NULL DEFAULT 'open'
                                CHECK (status IN ('open', 'done', 'cancelled')),
            steps             jsonb NOT NULL DEFAULT '{}',
            started_by        bigint REFERENCES collabadmin_user (id) ON DELETE SET NULL,
            started_by_name   text NOT NULL,
            assignee_id       bigint REFERENCES collabadmin_user (id) ON DELETE SET NULL,
            due_date          date,
            created_at        timestamptz NOT NULL DEFAULT now(),
            updated_at        timestamptz NOT NULL DEFAULT now(),
            completed_at      timestamptz,
            version           integer NOT NULL DEFAULT 1,
            deleted_at        timestamptz
        );
        CREATE UNIQUE INDEX collabadmin_workflow_run_live
            ON collabadmin_workflow_run (workflow, subject_resource, subject_pk)
            WHERE status <> 'cancelled';
        CREATE INDEX collabadmin_workflow_run_status ON collabadmin_workflow_run (status, id);
        CREATE INDEX collabadmin_workflow_run_people
            ON collabadmin_workflow_run (started_by, assignee_id);
        """
    )
    track_table("collabadmin_workflow_run", resource="workflow_runs", functions_schema=None)


def downgrade() -> None:
    untrack_table("collabadmin_workflow_run")
    op.execute("DROP TABLE collabadmin_workflow_run")
