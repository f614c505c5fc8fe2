"""Table definitions of the drafts domain (created by migration ``0006_drafts``)."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, DateTime, Integer, MetaData, Table, Text
from sqlalchemy.dialects.postgresql import JSONB

from collabadmin.own import OWN_SCHEMA

__all__ = ["DRAFTS", "DRAFT_EVENTS", "STATUSES"]

STATUSES = ("draft", "submitted", "approved", "rejected", "published", "discarded")

metadata = MetaData()

DRAFTS = Table(
    "collabadmin_draft",
    metadata,
    Column("id", BigInteger, primary_key=True),
    Column("resource", Text, nullable=False),
    Column("pk", Text),
    Column("base_version", Integer),
    Column("data", JSONB, nullable=False),
    Column("status", Text, nullable=False),
    Column("author_id", BigInteger),
    Column("author_name", Text, nullable=False),
    Column("created_at", DateTime(timezone=True)),
    Column("updated_at", DateTime(timezone=True)),
    Column("publish_at", DateTime(timezone=True)),
    Column("scheduled_by", BigInteger),
    Column("scheduled_by_name", Text),
    Column("publish_error", JSONB),
    Column("published_at", DateTime(timezone=True)),
    Column("published_version", Integer),
    Column("version", Integer),
    Column("deleted_at", DateTime(timezone=True)),
    Column("batch", BigInteger),
    schema=OWN_SCHEMA,
)

DRAFT_EVENTS = Table(
    "collabadmin_draft_event",
    metadata,
    Column("id", BigInteger, primary_key=True),
    Column("draft_id", BigInteger, nullable=False),
    Column("at", DateTime(timezone=True)),
    Column("actor_id", BigInteger),
    Column("actor_name", Text, nullable=False),
    Column("action", Text, nullable=False),
    Column("from_status", Text),
    Column("to_status", Text),
    Column("comment", Text),
    schema=OWN_SCHEMA,
)
