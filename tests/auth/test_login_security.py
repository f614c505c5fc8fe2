"""Sign-in throttling, session rotation and security headers."""

from __future__ import annotations

import httpx
import psycopg
import pytest
from litestar import Litestar

from tests.auth.test_auth import login
from tests.conftest import PASSWORD, anonymous_client
from tests.helpers import ok, problem

pytestmark = pytest.mark.usefixtures("fresh_data")


async def _attempt(client: httpx.AsyncClient, username: str, password: str) -> httpx.Response:
    return await client.post("/api/auth/login", json={"username": username, "password": password})


def _age_attempts(conninfo: str, seconds: int) -> None:
    """Move counted attempts into the past, as waiting that long would."""
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(
            "UPDATE collabadmin.collabadmin_login_attempt"
            " SET window_ends = window_ends - make_interval(secs => %(s)s),"
            " admitted_at = admitted_at - make_interval(secs => %(s)s)",
            {"s": seconds},
        )


async def test_repeated_failures_are_throttled_then_forgiven(
    anon: httpx.AsyncClient, conninfo: str
) -> None:
    for _ in range(5):
        problem(await _attempt(anon, "editor", "wrong"), 401)
    throttled = await _attempt(anon, "editor", PASSWORD)  # even the right password waits
    body = problem(throttled, 429)
    # Until the end of the pair's 15-minute window, counted from its first attempt.
    assert 14 * 60 < int(throttled.headers["retry-after"]) <= 15 * 60
    assert "Too many" in body["detail"]
    # Waiting does not reset the window; refused attempts do not extend it.
    _age_attempts(conninfo, 10 * 60)
    still = await _attempt(anon, "editor", PASSWORD)
    problem(still, 429)
    assert 4 * 60 < int(still.headers["retry-after"]) <= 5 * 60
    # Not locked out for long: once the window has passed, the owner signs in.
    _age_attempts(conninfo, 5 * 60)
    ok(await _attempt(anon, "editor", PASSWORD))


async def test_unknown_users_are_throttled_like_real_ones(anon: httpx.AsyncClient) -> None:
    for _ in range(5):
        problem(await _attempt(anon, "ghost", "wrong"), 401)
    problem(await _attempt(anon, "ghost", "wrong"), 429)
    # Another account from the same address is not yet affected.
    ok(await _attempt(anon, "viewer", PASSWORD))


async def test_one_address_guessing_many_accounts_is_throttled(anon: httpx.AsyncClient) -> None:
    for n in range(20):
        problem(await _attempt(anon, f"user{n}", "wrong"), 401)
    problem(await _attempt(anon, "viewer", PASSWORD), 429)


async def test_success_clears_the_username_count(anon: httpx.AsyncClient) -> None:
    for _ in range(4):
        problem(await _attempt(anon, "auditor", "wrong"), 401)
    ok(await _attempt(anon, "auditor", PASSWORD))
    for _ in range(4):
        problem(await _attempt(anon, "auditor", "wrong"), 401)
    ok(await _attempt(anon, "auditor", PASSWORD))


async def test_signing_in_again_ends_the_previous_session(app: Litestar) -> None:
    async with anonymous_client(app) as client:
        await login(client, "viewer")
        first = client.cookies.get("collabadmin_session")
        await login(client, "viewer")
    async with anonymous_client(app) as replay:
        replay.cookies.set("collabadmin_session", first or "")
        problem(await replay.get("/api/auth/me"), 401)


async def test_security_headers(anon: httpx.AsyncClient) -> None:
    page = await anon.get("/")
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp
    assert "frame-ancestors 'self'" in csp
    assert "'unsafe-inline'" not in csp
    for response in (page, await anon.get("/api/meta"), await anon.get("/health")):
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "same-origin"
        assert response.headers["x-frame-options"] == "SAMEORIGIN"
        assert len(response.headers["x-request-id"]) >= 8  # also on errors raised by middleware
    docs = await anon.get("/schema")
    assert "content-security-policy" not in docs.headers  # its viewer loads from a CDN


async def test_cookies_are_secure_over_https(app: Litestar) -> None:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="https://testserver"
    ) as client:
        response = await _attempt(client, "viewer", PASSWORD)
        ok(response)
        assert "Secure" in response.headers["set-cookie"]
    async with anonymous_client(app) as plain:
        response = await _attempt(plain, "viewer", PASSWORD)
        assert "Secure" not in response.headers["set-cookie"]
