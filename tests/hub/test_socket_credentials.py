"""A websocket lives no longer than its credentials, and follows its user's roles.

Each test signs in a user of its own (so changing its password or roles
touches nobody else) on the uvicorn-served app, opens a socket with that
session or token, ends or changes the credential one way or another, and
checks that the socket is closed with 4401 within a bounded wait, with no
change frame after the credential ended.
"""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import psycopg
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from collabadmin.auth.credentials import Credential, create_token, digest
from collabadmin.auth.middleware import SESSION_COOKIE
from collabadmin.auth.users import actor_from_row, create_user
from collabadmin.db.engine import Database
from collabadmin.demo.resources import demo_registry
from collabadmin.hub.clients import CLOSE_NOTICE
from collabadmin.hub.credential_watch import CredentialWatch
from collabadmin.hub.hub import Hub, HubSettings
from collabadmin.resources.policy import StaffPolicy
from tests.conftest import PASSWORD, ClientFor, Served
from tests.helpers import ok, patch_record
from tests.hub.conftest import Socket

pytestmark = pytest.mark.usefixtures("fresh_data")

# The periodic re-check runs every 2 s; a change announced by a trigger is
# seen in milliseconds. Generous for a loaded machine, far below "never".
CLOSE_WITHIN = 8.0


@dataclass
class Signed:
    """A user of the test's own, signed in over HTTP on the served app."""

    username: str
    http: httpx.AsyncClient
    session: str  # the cookie's secret
    opened: list[ClientConnection]

    async def socket(self, served: Served, **headers: str) -> Socket:
        return await self.open(served, {"Cookie": f"{SESSION_COOKIE}={self.session}", **headers})

    async def open(self, served: Served, headers: dict[str, str]) -> Socket:
        conn = await connect(served.ws, additional_headers=headers)
        self.opened.append(conn)
        return Socket(conn)


SignIn = Callable[..., Awaitable[Signed]]


@pytest.fixture
async def sign_in(served: Served, database_url: str) -> AsyncIterator[SignIn]:
    db = Database(database_url, pool_size=1)
    clients: list[httpx.AsyncClient] = []
    opened: list[ClientConnection] = []

    async def make(roles: tuple[str, ...] = ("viewer",)) -> Signed:
        username = "sock_" + secrets.token_hex(4)
        async with db.connection() as tx:
            await create_user(tx, username, PASSWORD, roles)
        http = httpx.AsyncClient(base_url=served.http, timeout=10)
        clients.append(http)
        body = ok(
            await http.post("/api/auth/login", json={"username": username, "password": PASSWORD})
        )
        http.headers["X-CSRF-Token"] = body["csrf_token"]
        session = http.cookies[SESSION_COOKIE]
        return Signed(username, http, session, opened)

    yield make
    for conn in opened:
        await conn.close()
    for client in clients:
        await client.aclose()
    await db.dispose()


async def closed_with(
    ws: Socket, timeout: float = CLOSE_WITHIN
) -> tuple[int, list[dict[str, Any]]]:
    """Read until the server closes the socket: its close code and the frames read meanwhile."""
    frames: list[dict[str, Any]] = []
    with pytest.raises(ConnectionClosed) as closed:  # noqa: PT012 - reads until it closes
        async with asyncio.timeout(timeout):
            while True:
                frames.append(json.loads(await ws.conn.recv()))
    assert closed.value.rcvd is not None, "closed without a close frame"
    return closed.value.rcvd.code, frames


async def _live(ws: Socket) -> None:
    await ws.subscribe("r/courses")
    await ws.quiet()


async def test_logout_closes_the_sessions_socket_and_nothing_follows(
    served: Served, sign_in: SignIn, client_for: ClientFor
) -> None:
    user = await sign_in()
    ws = await user.socket(served)
    await _live(ws)
    ok(await user.http.post("/api/auth/logout"))
    editor = await client_for("editor")
    ok(await patch_record(editor, "courses", 3, {"title": "After logout"}, if_match=1))
    code, frames = await closed_with(ws)
    assert code == 4401
    assert [f for f in frames if f["type"] == "change"] == []


async def test_a_revoked_token_closes_its_socket(served: Served, sign_in: SignIn) -> None:
    user = await sign_in()
    created = ok(await user.http.post("/api/auth/tokens", json={"name": "socket"}), 201)
    ws = await user.open(served, {"Authorization": f"Bearer {created['token']}"})
    await _live(ws)
    other = await user.socket(served)  # the same user's session is not affected
    await _live(other)
    assert (await user.http.delete(f"/api/auth/tokens/{created['id']}")).status_code == 204
    code, frames = await closed_with(ws)
    assert code == 4401
    assert [f for f in frames if f["type"] == "change"] == []
    await other.quiet()


async def test_a_token_revoked_in_sql_closes_its_socket_on_every_instance(
    served: Served, sign_in: SignIn, conninfo: str
) -> None:
    """No request reached this server: the trigger's notification (or the re-check) did."""
    user = await sign_in()
    created = ok(await user.http.post("/api/auth/tokens", json={"name": "socket"}), 201)
    ws = await user.open(served, {"Authorization": f"Bearer {created['token']}"})
    await _live(ws)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(
            "UPDATE collabadmin.collabadmin_api_token SET revoked_at = now() WHERE id = %s",
            (created["id"],),
        )
    code, _ = await closed_with(ws)
    assert code == 4401


async def test_a_password_change_ends_sessions_and_closes_their_sockets(
    served: Served, sign_in: SignIn, database_url: str
) -> None:
    user = await sign_in()
    ws = await user.socket(served)
    await _live(ws)
    # As `collabadmin user create --replace` does it, from another process.
    db = Database(database_url, pool_size=1)
    try:
        async with db.connection() as tx:
            await create_user(
                tx, user.username, "a new password entirely", ["viewer"], replace=True
            )
    finally:
        await db.dispose()
    code, _ = await closed_with(ws)
    assert code == 4401
    # The session is over for plain requests too.
    assert (await user.http.get("/api/auth/me")).status_code == 401


async def test_an_expired_session_closes_its_socket(
    served: Served, sign_in: SignIn, conninfo: str
) -> None:
    """Expiry changes no row: the periodic re-check catches it."""
    user = await sign_in()
    # A session that expires three seconds from now (inserting fires no trigger).
    secret = secrets.token_urlsafe(32)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO collabadmin.collabadmin_session (id, user_id, csrf_token, expires_at)"
            " SELECT %s, id, 'x', now() + interval '3 seconds'"
            " FROM collabadmin.collabadmin_user WHERE username = %s",
            (digest(secret), user.username),
        )
    short = Signed(user.username, user.http, secret, user.opened)
    ws = await short.socket(served)
    await _live(ws)
    code, _ = await closed_with(ws, timeout=3 + CLOSE_WITHIN)
    assert code == 4401


async def test_an_idle_session_closes_its_socket_and_refuses_requests(
    served: Served, sign_in: SignIn, conninfo: str
) -> None:
    user = await sign_in()
    ws = await user.socket(served)
    await _live(ws)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        # Unused for longer than the idle timeout (8 h by default); no trigger fires.
        conn.execute(
            "UPDATE collabadmin.collabadmin_session SET last_seen_at = now() - interval '9 hours'"
            " WHERE id = %s",
            (digest(user.session),),
        )
    code, _ = await closed_with(ws)
    assert code == 4401
    assert (await user.http.get("/api/auth/me")).status_code == 401


async def test_a_deactivated_user_loses_its_sockets(
    served: Served, sign_in: SignIn, conninfo: str
) -> None:
    user = await sign_in()
    ws = await user.socket(served)
    await _live(ws)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(
            "UPDATE collabadmin.collabadmin_user SET is_active = false WHERE username = %s",
            (user.username,),
        )
    code, _ = await closed_with(ws)
    assert code == 4401


async def test_a_role_change_applies_to_the_very_next_frame(
    served: Served, sign_in: SignIn, client_for: ClientFor, conninfo: str
) -> None:
    marker = "ROLE-MARKER-41c2"
    user = await sign_in(("auditor",))  # auditors read internal_notes and the audit log
    ws = await user.socket(served)
    await ws.subscribe("r/courses")
    await ws.subscribe("audit")
    admin = await client_for("admin")
    ok(await patch_record(admin, "courses", 5, {"internal_notes": "before"}, base=1))
    before = await ws.expect("change", topic="r/courses")
    assert before["change"]["diff"]["internal_notes"]["new"] == "before"
    await ws.expect("change", topic="audit")

    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(
            "UPDATE collabadmin.collabadmin_user SET roles = '{viewer}' WHERE username = %s",
            (user.username,),
        )
    # The audit log is no longer theirs: an error frame, and that subscription ends.
    lost = await ws.expect("error", topic="audit", code="forbidden")
    assert lost["message"]
    ok(await patch_record(admin, "courses", 5, {"internal_notes": marker, "title": "T"}, base=2))
    after = await ws.expect("change", topic="r/courses")
    assert after["change"]["diff"] == {"title": after["change"]["diff"]["title"]}
    await ws.quiet()
    assert marker not in json.dumps(ws.seen)
    # And the socket is still open, as the same user.
    await ws.send({"type": "subscribe", "topic": "audit"})
    await ws.expect("error", code="forbidden")


async def test_a_session_socket_from_a_page_with_another_scheme_is_refused(
    served: Served, sign_in: SignIn
) -> None:
    user = await sign_in()
    host = served.http.removeprefix("http://")
    same = await user.socket(served, Origin=f"http://{host}")
    await same.send({"type": "ping"})
    await same.expect("pong")
    for origin in (f"https://{host}", "http://evil.example", f"ws://{host}"):
        other = await user.socket(served, Origin=origin)
        code, frames = await closed_with(other)
        assert (code, frames) == (4403, []), origin


class _CountingDatabase:
    """The database, counting the connections taken (each check is one statement)."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.taken = 0

    def connection(self) -> Any:
        self.taken += 1
        return self.db.connection()


async def test_one_query_rechecks_every_open_socket(database_url: str, demo_users: None) -> None:
    db = Database(database_url, pool_size=2)
    await db.open()
    try:
        hub = Hub(db, demo_registry(), StaffPolicy(), HubSettings())
        clients = []
        async with db.connection() as tx:
            for username in ("viewer", "editor", "auditor") * 10:
                row = await tx.row(
                    "SELECT * FROM collabadmin.collabadmin_user WHERE username = %(u)s",
                    {"u": username},
                )
                assert row is not None
                token_id, secret = await create_token(tx, row["id"], "recheck", None)
                credential = Credential(actor_from_row(row), "token", digest(secret))
                clients.append((token_id, hub.connect(credential.actor, credential)))
            revoked = [token_id for token_id, _ in clients[::3]]
            await tx.run(
                "UPDATE collabadmin.collabadmin_api_token SET revoked_at = now()"
                " WHERE id = ANY(%(ids)s)",
                {"ids": revoked},
            )
        counting = _CountingDatabase(db)
        watch = CredentialWatch(counting, hub, idle_seconds=3600)  # type: ignore[arg-type]
        await watch.check()
        assert counting.taken == 1
        ended = {token_id for token_id, client in clients if client.ended}
        assert ended == set(revoked)
        for _, client in clients:
            if client.ended:  # nothing queued but the close notice
                assert [client.queue.get_nowait()] == [CLOSE_NOTICE]
                assert client.queue.empty()
    finally:
        await db.dispose()
