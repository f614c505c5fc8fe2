"""Table definitions of the workflows domain (created by migration ``0007_workflows``)."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Date, DateTime, Integer, MetaData, Table, Text
from sqlalchemy.dialects.postgresql import JSONB

from collabadmin.own import OWN_SCHEMA

__all__ = ["RUNS", "RUN_STATUSES"]

RUN_STATUSES = ("open", "done", "cancelled")

metadata = MetaData()

RUNS = Table(
    "collabadmin_workflow_run",
    metadata,
    Column("id", BigInteger, primary_key=True),
    Column("workflow", Text, nullable=False),
    Column("subject_resource", Text, nullable=False),
    Column("subject_pk", Text, nullable=False),
    Column("status", Text, nullable=False),
    Column("steps", JSONB, nullable=False),
    Column("started_by", BigInteger),
    Column("started_by_name", Text, nullable=False),
    Column("assignee_id", BigInteger),
    Column("due_date", Date),
    Column("created_at", DateTime(timezone=True)),
    Column("updated_at", DateTime(timezone=True)),
    Column("completed_at", DateTime(timezone=True)),
    Column("version", Integer),
    Column("deleted_at", DateTime(timezone=True)),
    schema=OWN_SCHEMA,
)
