"""Server-side sessions and personal API tokens.

Both are random secrets handed to the client once; the database keeps only
their SHA-256, so a leaked table does not leak credentials. Sessions carry a
CSRF token that cookie-authenticated unsafe requests must echo in
``X-CSRF-Token``. Revoking either takes effect at once on this process and
on other instances as soon as they hear the ``collabadmin_credentials``
notification (which empties their cache), and within :data:`CACHE_SECONDS`
at worst (resolved credentials are cached briefly so that a busy client
does not cost a lookup per request).

A session ends at the first of: logout (revoked), its absolute expiry, being
idle (unused) for the configured idle time, its user's password changing (a
trigger revokes it), or its user being deactivated. Use refreshes
``last_seen_at`` at most once per :data:`SEEN_GRANULARITY`, so a busy session
does not write on every request; the idle timeout is therefore exact to
about a minute.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import ColumnElement, and_, delete, func, or_, select, union_all, update

from collabadmin.auth.tables import API_TOKENS, SESSIONS, USERS
from collabadmin.auth.users import actor_from_row
from collabadmin.db.engine import Actor, Tx

__all__ = [
    "CACHE_SECONDS",
    "Credential",
    "CredentialCache",
    "credentials_in_force",
    "digest",
    "new_secret",
    "purge_sessions",
]

CACHE_SECONDS = 2.0
SEEN_GRANULARITY = dt.timedelta(minutes=1)
DEFAULT_IDLE_SECONDS = 8 * 3600
TOKEN_PREFIX = "ca_"  # noqa: S105 - a prefix, not a secret


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Credential:
    """A resolved credential: who, and how they authenticated."""

    actor: Actor
    kind: Literal["session", "token"]
    key: str  # the stored digest
    csrf_token: str | None = None


class CredentialCache:
    """A tiny TTL cache from credential digest to :class:`Credential`."""

    def __init__(self, ttl: float = CACHE_SECONDS, capacity: int = 10_000) -> None:
        self.ttl = ttl
        self.capacity = capacity
        self._entries: dict[str, tuple[float, Credential]] = {}
        self._on_end: list[Callable[[str], object]] = []

    def get(self, key: str) -> Credential | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        expires, credential = entry
        if expires < time.monotonic():
            self._entries.pop(key, None)
            return None
        return credential

    def put(self, credential: Credential) -> None:
        if len(self._entries) >= self.capacity:
            self._entries.clear()
        self._entries[credential.key] = (time.monotonic() + self.ttl, credential)

    def forget(self, key: str) -> None:
        self._entries.pop(key, None)

    def on_end(self, callback: Callable[[str], object]) -> None:
        """``callback(key)`` when a credential is ended here (its sockets close: the hub)."""
        self._on_end.append(callback)

    def end(self, key: str) -> None:
        """The credential ``key`` was revoked by this server: forget it, tell who holds it.

        Other instances hear of it from the database (the credentials NOTIFY).
        """
        self.forget(key)
        for callback in self._on_end:
            callback(key)

    def clear(self) -> None:
        """Forget everything (credentials changed somewhere: look them up again)."""
        self._entries.clear()

    def forget_user(self, user_id: int) -> None:
        for key in [k for k, (_, c) in self._entries.items() if c.actor.id == user_id]:
            self._entries.pop(key, None)


async def create_session(tx: Tx, user_id: int, ttl_seconds: int) -> tuple[str, str]:
    """A new session for the user: returns (cookie secret, CSRF token)."""
    secret, csrf = new_secret(), new_secret()
    await tx.run(
        SESSIONS.insert().values(
            id=digest(secret),
            user_id=user_id,
            csrf_token=csrf,
            expires_at=func.now() + dt.timedelta(seconds=ttl_seconds),
        )
    )
    return secret, csrf


async def revoke_session(tx: Tx, key: str) -> None:
    await tx.run(
        update(SESSIONS)
        .where(SESSIONS.c.id == key, SESSIONS.c.revoked_at.is_(None))
        .values(revoked_at=func.now())
    )


def _session_in_force(idle_seconds: int) -> ColumnElement[bool]:
    """A session that may still be used: not revoked, expired or idle, of an active user."""
    return and_(
        SESSIONS.c.revoked_at.is_(None),
        SESSIONS.c.expires_at > func.now(),
        SESSIONS.c.last_seen_at > func.now() - dt.timedelta(seconds=idle_seconds),
        USERS.c.is_active,
    )


def _token_in_force() -> ColumnElement[bool]:
    return and_(
        API_TOKENS.c.revoked_at.is_(None),
        or_(API_TOKENS.c.expires_at.is_(None), API_TOKENS.c.expires_at > func.now()),
        USERS.c.is_active,
    )


async def resolve_session(
    tx: Tx, secret: str, idle_seconds: int = DEFAULT_IDLE_SECONDS
) -> Credential | None:
    key = digest(secret)
    query = (
        select(
            USERS,
            SESSIONS.c.csrf_token,
            (SESSIONS.c.last_seen_at < func.now() - SEEN_GRANULARITY).label("seen_long_ago"),
        )
        .join(SESSIONS, SESSIONS.c.user_id == USERS.c.id)
        .where(SESSIONS.c.id == key, _session_in_force(idle_seconds))
    )
    row = await tx.row(query)
    if row is None:
        return None
    if row["seen_long_ago"]:
        await tx.run(update(SESSIONS).where(SESSIONS.c.id == key).values(last_seen_at=func.now()))
    return Credential(actor_from_row(row), "session", key, row["csrf_token"])


async def credentials_in_force(
    tx: Tx, sessions: Collection[str], tokens: Collection[str], idle_seconds: int
) -> dict[str, Actor]:
    """Of the given session and token digests, those still in force, with their user now.

    One query however many there are: the websocket hub asks this every few
    seconds for all its open sockets. Using a session over a socket does not
    refresh its idle time (only requests do), so a tab left open still idles out.
    """
    session_rows = (
        select(SESSIONS.c.id.label("credential_key"), USERS)
        .join(USERS, USERS.c.id == SESSIONS.c.user_id)
        .where(SESSIONS.c.id.in_(list(sessions)), _session_in_force(idle_seconds))
    )
    token_rows = (
        select(API_TOKENS.c.token_hash.label("credential_key"), USERS)
        .join(USERS, USERS.c.id == API_TOKENS.c.user_id)
        .where(API_TOKENS.c.token_hash.in_(list(tokens)), _token_in_force())
    )
    rows = await tx.rows(union_all(session_rows, token_rows))
    return {row["credential_key"]: actor_from_row(row) for row in rows}


async def purge_sessions(tx: Tx, idle_seconds: int) -> int:
    """Delete sessions that can no longer be used (expired, idle or revoked); returns how many."""
    return await tx.run(
        delete(SESSIONS).where(
            or_(
                SESSIONS.c.revoked_at.is_not(None),
                SESSIONS.c.expires_at <= func.now(),
                SESSIONS.c.last_seen_at <= func.now() - dt.timedelta(seconds=idle_seconds),
            )
        )
    )


async def create_token(tx: Tx, user_id: int, name: str, expires_in: int | None) -> tuple[int, str]:
    """A new personal API token: returns (id, secret). The secret is shown once."""
    secret = TOKEN_PREFIX + new_secret()
    expires = func.now() + dt.timedelta(seconds=expires_in) if expires_in else None
    token_id = await tx.value(
        API_TOKENS.insert()
        .values(user_id=user_id, name=name, token_hash=digest(secret), expires_at=expires)
        .returning(API_TOKENS.c.id)
    )
    return int(token_id), secret


async def revoke_token(tx: Tx, user_id: int, token_id: int) -> str | None:
    """Revoke one of the user's tokens; returns its digest, or None if not found."""
    value = await tx.value(
        update(API_TOKENS)
        .where(
            API_TOKENS.c.id == token_id,
            API_TOKENS.c.user_id == user_id,
            API_TOKENS.c.revoked_at.is_(None),
        )
        .values(revoked_at=func.now())
        .returning(API_TOKENS.c.token_hash)
    )
    return str(value) if value is not None else None


async def resolve_token(tx: Tx, secret: str) -> Credential | None:
    if not secret.startswith(TOKEN_PREFIX) or len(secret) > 200:
        return None
    key = digest(secret)
    query = (
        select(USERS)
        .join(API_TOKENS, API_TOKENS.c.user_id == USERS.c.id)
        .where(API_TOKENS.c.token_hash == key, _token_in_force())
    )
    row = await tx.row(query)
    if row is None:
        return None
    await tx.run(
        update(API_TOKENS)
        .where(
            and_(
                API_TOKENS.c.token_hash == key,
                or_(
                    API_TOKENS.c.last_used_at.is_(None),
                    API_TOKENS.c.last_used_at < func.now() - dt.timedelta(minutes=1),
                ),
            )
        )
        .values(last_used_at=func.now())
    )
    return Credential(actor_from_row(row), "token", key)
