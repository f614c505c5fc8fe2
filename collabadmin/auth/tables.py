"""Table definitions of the auth domain (created by the ``core`` migration)."""

from __future__ import annotations

from sqlalchemy import ARRAY, BigInteger, Boolean, Column, DateTime, MetaData, Table, Text

from collabadmin.own import OWN_SCHEMA

__all__ = ["API_TOKENS", "SESSIONS", "USERS"]

metadata = MetaData()

USERS = Table(
    "collabadmin_user",
    metadata,
    Column("id", BigInteger, primary_key=True),
    Column("username", Text, nullable=False),
    Column("display_name", Text, nullable=False),
    Column("password_hash", Text),
    Column("roles", ARRAY(Text), nullable=False),
    Column("is_active", Boolean, nullable=False),
    Column("created_at", DateTime(timezone=True)),
    schema=OWN_SCHEMA,
)

SESSIONS = Table(
    "collabadmin_session",
    metadata,
    Column("id", Text, primary_key=True),
    Column("user_id", BigInteger, nullable=False),
    Column("csrf_token", Text, nullable=False),
    Column("created_at", DateTime(timezone=True)),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("revoked_at", DateTime(timezone=True)),
    Column("last_seen_at", DateTime(timezone=True), nullable=False),  # migration 0009
    schema=OWN_SCHEMA,
)

API_TOKENS = Table(
    "collabadmin_api_token",
    metadata,
    Column("id", BigInteger, primary_key=True),
    Column("user_id", BigInteger, nullable=False),
    Column("name", Text, nullable=False),
    Column("token_hash", Text, nullable=False),
    Column("created_at", DateTime(timezone=True)),
    Column("expires_at", DateTime(timezone=True)),
    Column("last_used_at", DateTime(timezone=True)),
    Column("revoked_at", DateTime(timezone=True)),
    schema=OWN_SCHEMA,
)
