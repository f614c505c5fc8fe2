"""Sign-in under attack: parallel bursts, one account from many addresses, busy hashing.

Password checks are counted by the server's own counter
(:func:`~collabadmin.auth.passwords.password_checks`), throttle state is
read from its table: nothing about the database is mocked.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections import Counter
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import psycopg
import pytest
from litestar import Litestar

from collabadmin.auth.login_guard import LoginGuard
from collabadmin.auth.passwords import PasswordSlots, password_checks
from collabadmin.auth.throttle import Throttle
from collabadmin.context import services_of
from tests.conftest import PASSWORD
from tests.helpers import ok, problem

pytestmark = pytest.mark.usefixtures("fresh_data")

From = Callable[[str], httpx.AsyncClient]


@pytest.fixture
async def from_address(app: Litestar) -> AsyncIterator[From]:
    """Anonymous clients whose socket peer is the given address."""
    clients: list[httpx.AsyncClient] = []

    def make(address: str) -> httpx.AsyncClient:
        client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app, client=(address, 40000)),
            base_url="http://testserver",
        )
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.aclose()


def use_guard(
    app: Litestar, monkeypatch: pytest.MonkeyPatch, slots: int = 64, **limits: Any
) -> LoginGuard:
    """Give the app a guard with these limits (and enough slots not to interfere)."""
    guard = LoginGuard(Throttle(**limits), PasswordSlots(slots))
    monkeypatch.setitem(services_of(app), LoginGuard, guard)
    return guard


async def attempt(client: httpx.AsyncClient, username: str, password: str) -> httpx.Response:
    return await client.post("/api/auth/login", json={"username": username, "password": password})


def attempts_counted(conninfo: str, kind: str, key: str) -> int | None:
    with psycopg.connect(conninfo) as conn:
        row = conn.execute(
            "SELECT attempts FROM collabadmin.collabadmin_login_attempt"
            " WHERE kind = %s AND key = %s",
            (kind, key),
        ).fetchone()
    return None if row is None else int(row[0])


async def test_parallel_wrong_passwords_get_no_more_checks_than_the_limit(
    app: Litestar, monkeypatch: pytest.MonkeyPatch, from_address: From
) -> None:
    use_guard(app, monkeypatch)
    client = from_address("198.51.100.7")
    before = password_checks()
    responses = await asyncio.gather(*(attempt(client, "editor", "wrong") for _ in range(30)))
    checks = password_checks() - before
    statuses = Counter(r.status_code for r in responses)
    assert checks == 5, statuses
    assert statuses == {401: 5, 429: 25}
    for response in responses:
        if response.status_code == 429:
            assert int(response.headers["retry-after"]) > 0


async def test_parallel_unknown_users_get_no_more_checks_than_the_address_limit(
    app: Litestar, monkeypatch: pytest.MonkeyPatch, from_address: From
) -> None:
    use_guard(app, monkeypatch)
    client = from_address("198.51.100.8")
    before = password_checks()
    responses = await asyncio.gather(*(attempt(client, f"nobody{n}", "wrong") for n in range(60)))
    checks = password_checks() - before
    statuses = Counter(r.status_code for r in responses)
    assert checks == 20, statuses
    assert statuses == {401: 20, 429: 40}
    # Unknown and wrong: the same answer, so the throttle tells nobody which names exist.
    wrong = problem(await attempt(from_address("198.51.100.9"), "viewer", "wrong"), 401)
    unknown = problem(await attempt(from_address("198.51.100.9"), "nobody", "wrong"), 401)
    assert wrong == unknown


async def test_checks_beyond_the_password_slots_are_refused_at_once_and_given_back(
    app: Litestar, monkeypatch: pytest.MonkeyPatch, from_address: From, conninfo: str
) -> None:
    guard = use_guard(app, monkeypatch, slots=1)
    clients = [from_address(f"192.0.2.{n}") for n in range(1, 11)]
    before = password_checks()
    responses = await asyncio.gather(
        *(attempt(client, f"busy{n}", "wrong") for n, client in enumerate(clients))
    )
    statuses = Counter(r.status_code for r in responses)
    assert guard.slots.peak == 1  # never two argon2 hashes at once
    assert guard.slots.in_use == 0
    assert statuses[429] >= 1, statuses  # ten at once, one slot: not all could be checked
    assert statuses[401] == password_checks() - before
    assert statuses[401] + statuses[429] == 10
    assert guard.slots.refused == statuses[429]
    for n, response in enumerate(responses):
        if response.status_code == 429:
            assert response.headers["retry-after"] == "1"
            assert "at once" in response.json()["detail"]
            # The refused attempt was given back: it costs its pair nothing.
            assert attempts_counted(conninfo, "pair", f"192.0.2.{n + 1}|busy{n}") == 0


async def test_an_attacker_at_one_address_does_not_lock_out_the_owner_at_another(
    app: Litestar, monkeypatch: pytest.MonkeyPatch, from_address: From
) -> None:
    use_guard(app, monkeypatch)
    attacker, owner = from_address("203.0.113.66"), from_address("198.51.100.20")
    for _ in range(5):
        problem(await attempt(attacker, "editor", "wrong"), 401)
    problem(await attempt(attacker, "editor", PASSWORD), 429)
    ok(await attempt(owner, "editor", PASSWORD))
    problem(await attempt(attacker, "editor", PASSWORD), 429)  # still the attacker's pair


async def test_the_account_backstop_slows_many_addresses_but_not_a_known_one(
    app: Litestar, monkeypatch: pytest.MonkeyPatch, from_address: From, conninfo: str
) -> None:
    use_guard(app, monkeypatch, account_limit=4, account_interval=dt.timedelta(seconds=60))
    home = from_address("198.51.100.30")
    ok(await attempt(home, "auditor", PASSWORD))  # the owner's usual address becomes known
    for n in range(4):  # a botnet: every attempt from a fresh address
        problem(await attempt(from_address(f"203.0.113.{n + 1}"), "auditor", "wrong"), 401)
    # Beyond the backstop: one attempt a minute for the whole account, from anywhere new.
    slowed = await attempt(from_address("203.0.113.50"), "auditor", "wrong")
    problem(slowed, 429)
    assert 50 <= int(slowed.headers["retry-after"]) <= 60
    problem(await attempt(from_address("198.51.100.31"), "auditor", PASSWORD), 429)
    # Slowed, not locked: once the interval has passed, one attempt goes through.
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(
            "UPDATE collabadmin.collabadmin_login_attempt"
            " SET admitted_at = admitted_at - interval '61 s'"
            " WHERE kind = 'account' AND key = 'auditor'"
        )
    problem(await attempt(from_address("203.0.113.51"), "auditor", "wrong"), 401)
    problem(await attempt(from_address("203.0.113.52"), "auditor", "wrong"), 429)
    # The owner at the address they signed in from before is not slowed at all.
    ok(await attempt(home, "auditor", PASSWORD))


@pytest.mark.parametrize("username", ["edi\x00tor", "\x00", "editor\n", "a\x1bb"])
async def test_a_username_with_a_control_character_is_a_400(
    from_address: From, username: str
) -> None:
    body = problem(await attempt(from_address("198.51.100.40"), username, PASSWORD), 400)
    # A NUL anywhere in a JSON body is refused when the body is read; other
    # control characters by the sign-in form's own check.
    expected = "NUL" if "\x00" in username else "control character"
    assert expected in body["detail"]
