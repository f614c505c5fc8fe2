"""Several server processes on one database: the stream and presence cross instances.

Run as separate ``collabadmin serve`` processes, so that killing one is a
real crash (SIGKILL), not a polite shutdown.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import psycopg
import pytest

from tests.conftest import PASSWORD
from tests.helpers import ok
from tests.hub.conftest import SocketFor
from tests.servers import ServerProcess, start_server

FAST_PRESENCE = {"COLLABADMIN_PRESENCE_HEARTBEAT": "0.5", "COLLABADMIN_PRESENCE_EXPIRY": "2"}


@pytest.fixture
def pair(
    database_url: str, demo_users: None, fresh_data: None
) -> Iterator[tuple[ServerProcess, ServerProcess]]:
    first = start_server(database_url, **FAST_PRESENCE)
    try:
        second = start_server(database_url, **FAST_PRESENCE)
    except Exception:
        first.stop()
        raise
    yield first, second
    first.stop()
    second.stop()


@contextmanager
def _login(base: str, username: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base, timeout=10) as client:
        body = ok(
            client.post(
                "/api/auth/login",
                json={"username": username, "password": PASSWORD},
            )
        )
        client.headers["X-CSRF-Token"] = body["csrf_token"]
        yield client


async def test_a_change_through_one_instance_reaches_sockets_on_the_other(
    pair: tuple[ServerProcess, ServerProcess], socket_for: SocketFor
) -> None:
    first, second = pair
    ws = await socket_for("viewer", url=second.ws)
    await ws.subscribe("r/courses")
    with _login(first.http, "editor") as editor:
        ok(
            editor.patch(
                "/api/r/courses/11", json={"title": "via first"}, headers={"If-Match": '"1"'}
            )
        )
    [change] = await ws.changes(1)
    assert change["change"]["diff"]["title"]["new"] == "via first"
    await ws.quiet()


async def test_presence_crosses_instances_and_a_crashed_one_drops_out(
    pair: tuple[ServerProcess, ServerProcess], socket_for: SocketFor
) -> None:
    first, second = pair
    on_first = await socket_for("editor", url=first.ws)
    on_second = await socket_for("viewer", url=second.ws)
    await on_first.subscribe("r/courses/12")
    await on_second.subscribe("r/courses/12")
    await on_first.send(
        {"type": "presence", "topic": "r/courses/12", "state": "editing", "field": "title"}
    )
    frame = await on_second.expect("presence", topic="r/courses/12")
    assert [(u["name"], u["state"], u["field"]) for u in frame["users"]] == [
        ("Editor", "editing", "title")
    ]
    first.kill()
    # The crashed instance's member expires (2 s here, 30 s by default).
    frame = await on_second.expect("presence", timeout=15, topic="r/courses/12")
    assert frame["users"] == []


async def test_a_client_moves_from_a_killed_instance_with_its_cursor(
    pair: tuple[ServerProcess, ServerProcess], socket_for: SocketFor, conninfo: str
) -> None:
    first, second = pair
    ws = await socket_for("viewer", url=first.ws)
    await ws.subscribe("r/courses")
    with _login(second.http, "editor") as editor:
        ok(editor.patch("/api/r/courses/13", json={"title": "one"}, headers={"If-Match": '"1"'}))
        [seen] = await ws.changes(1)
        first.kill()
        ok(editor.patch("/api/r/courses/13", json={"title": "two"}, headers={"If-Match": '"2"'}))
        with psycopg.connect(conninfo, autocommit=True) as conn:
            conn.execute("UPDATE courses SET title = 'three' WHERE id = 14")
        moved = await socket_for("viewer", url=second.ws)
        await moved.subscribe("r/courses", since=seen["cursor"])
        missed = await moved.changes(2)
        assert [(c["change"]["pk"], c["change"]["version"]) for c in missed] == [
            ("13", 3),
            ("14", 2),
        ]
        ok(editor.patch("/api/r/courses/13", json={"title": "four"}, headers={"If-Match": '"3"'}))
        [live] = await moved.changes(1)
        assert live["change"]["version"] == 4
        await moved.quiet()
