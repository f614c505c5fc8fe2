"""Sessions: the idle timeout besides the absolute one, and the purge of ended sessions."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Iterator

import httpx
import psycopg
import pytest
from litestar import Litestar

from collabadmin.auth.credentials import CredentialCache, digest, purge_sessions
from collabadmin.auth.middleware import SESSION_COOKIE
from collabadmin.auth.purge import SessionPurge
from collabadmin.context import services_of
from collabadmin.db.engine import Database
from collabadmin.settings import Settings
from tests.conftest import PASSWORD
from tests.helpers import ok, problem

IDLE = Settings().session_idle_seconds


def _cache(app: Litestar) -> CredentialCache:
    return services_of(app).get(CredentialCache)


async def _login(anon: httpx.AsyncClient, username: str = "viewer") -> str:
    """Sign in; returns the stored session id (the digest of the cookie)."""
    ok(await anon.post("/api/auth/login", json={"username": username, "password": PASSWORD}))
    return digest(anon.cookies[SESSION_COOKIE])


@pytest.fixture
def sql(conninfo: str) -> Iterator[psycopg.Connection[tuple[object, ...]]]:
    with psycopg.connect(conninfo, autocommit=True) as conn:
        yield conn


def _seen_ago(sql: psycopg.Connection[tuple[object, ...]], key: str) -> float:
    row = sql.execute(
        "SELECT extract(epoch FROM now() - last_seen_at) FROM collabadmin.collabadmin_session"
        " WHERE id = %s",
        (key,),
    ).fetchone()
    assert row is not None
    return float(row[0])  # type: ignore[arg-type]


async def test_use_refreshes_the_idle_clock_at_most_once_a_minute(
    app: Litestar, anon: httpx.AsyncClient, sql: psycopg.Connection[tuple[object, ...]]
) -> None:
    key = await _login(anon)
    cache = _cache(app)
    sql.execute(
        "UPDATE collabadmin.collabadmin_session"
        " SET last_seen_at = now() - interval '30 seconds' WHERE id = %s",
        (key,),
    )
    cache.clear()
    ok(await anon.get("/api/auth/me"))
    assert 29 < _seen_ago(sql, key) < 60  # recent enough: not written again
    sql.execute(
        "UPDATE collabadmin.collabadmin_session"
        " SET last_seen_at = now() - interval '5 minutes' WHERE id = %s",
        (key,),
    )
    cache.clear()
    ok(await anon.get("/api/auth/me"))
    assert _seen_ago(sql, key) < 10  # refreshed by this use


async def test_a_session_idle_for_longer_than_the_idle_timeout_has_ended(
    app: Litestar, anon: httpx.AsyncClient, sql: psycopg.Connection[tuple[object, ...]]
) -> None:
    key = await _login(anon)
    sql.execute(
        "UPDATE collabadmin.collabadmin_session"
        " SET last_seen_at = now() - make_interval(secs => %s) WHERE id = %s",
        (IDLE + 60, key),
    )
    _cache(app).clear()
    problem(await anon.get("/api/auth/me"), 401)
    # ... although its absolute expiry is days away.
    row = sql.execute(
        "SELECT expires_at > now() + interval '1 day' FROM collabadmin.collabadmin_session"
        " WHERE id = %s",
        (key,),
    ).fetchone()
    assert row == (True,)


def _insert_session(sql: psycopg.Connection[tuple[object, ...]], **times: str) -> str:
    key = digest(secrets.token_urlsafe(32))
    sql.execute(
        "INSERT INTO collabadmin.collabadmin_session"
        " (id, user_id, csrf_token, expires_at, revoked_at, last_seen_at)"
        " SELECT %s, id, 'x', now() + %s::interval, now() + %s::interval, now() + %s::interval"
        " FROM collabadmin.collabadmin_user WHERE username = 'viewer'",
        (
            key,
            times.get("expires", "1 day"),
            times.get("revoked"),
            times.get("seen", "0 seconds"),
        ),
    )
    return key


def _stored(sql: psycopg.Connection[tuple[object, ...]], *keys: str) -> set[str]:
    rows = sql.execute(
        "SELECT id FROM collabadmin.collabadmin_session WHERE id = ANY(%s)", (list(keys),)
    ).fetchall()
    return {str(r[0]) for r in rows}


async def test_ended_sessions_are_purged_and_live_ones_kept(
    database_url: str, demo_users: None, sql: psycopg.Connection[tuple[object, ...]]
) -> None:
    live = _insert_session(sql)
    expired = _insert_session(sql, expires="-1 second")
    revoked = _insert_session(sql, revoked="-1 second")
    idle = _insert_session(sql, seen=f"-{IDLE + 1} seconds")
    db = Database(database_url, pool_size=1)
    try:
        async with db.connection() as tx:
            assert await purge_sessions(tx, IDLE) >= 3
    finally:
        await db.dispose()
    assert _stored(sql, live, expired, revoked, idle) == {live}


async def test_the_purge_runs_by_itself(
    database_url: str, demo_users: None, sql: psycopg.Connection[tuple[object, ...]]
) -> None:
    db = Database(database_url, pool_size=1)
    purge = SessionPurge(db, idle_seconds=IDLE, interval=0.05)
    await db.open()
    await purge.start()
    try:
        expired = _insert_session(sql, expires="-1 second")
        live = _insert_session(sql)
        async with asyncio.timeout(10):
            # Each pass sets the event; the row is gone once a pass after the
            # insert has committed its DELETE.
            while _stored(sql, expired):
                purge.passed.clear()
                await purge.passed.wait()
        assert purge.purged >= 1
        assert _stored(sql, live) == {live}
    finally:
        await purge.stop()
        await db.dispose()


def test_the_idle_timeout_is_configurable() -> None:
    settings = Settings.from_env(
        {"COLLABADMIN_SESSION_IDLE_SECONDS": "900", "COLLABADMIN_SESSION_TTL_SECONDS": "3600"}
    )
    assert (settings.session_idle_seconds, settings.session_ttl_seconds) == (900, 3600)
