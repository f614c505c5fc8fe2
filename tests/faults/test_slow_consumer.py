"""A client that stops reading gets ``resync`` and costs the server a bounded queue.

Against a real server process with a small per-socket queue: a burst of
5,000 changes in one commit overflows a socket that is not reading; the
server drops what it had queued for it, tells it to resync and stops
sending it that topic, and its memory does not grow with the burst. (That a
client which keeps reading is not disturbed by a slow one is shown at the
hub level in tests/hub/test_hub_internals.py.)
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import psycopg
import pytest
from websockets.asyncio.client import connect

from tests.conftest import PASSWORD
from tests.servers import ServerProcess, start_server

QUEUE = 20
BURST = 5000


@pytest.fixture
def small_queue_server(
    database_url: str, demo_users: None, fresh_data: None
) -> Iterator[ServerProcess]:
    server = start_server(database_url, COLLABADMIN_WS_QUEUE=str(QUEUE))
    yield server
    server.stop()


def _rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


async def test_a_socket_that_stops_reading_is_told_to_resync(
    small_queue_server: ServerProcess, conninfo: str
) -> None:
    import httpx  # noqa: PLC0415 - only this test logs in over HTTP

    server = small_queue_server
    async with httpx.AsyncClient(base_url=server.http) as client:
        login = await client.post(
            "/api/auth/login", json={"username": "viewer", "password": PASSWORD}
        )
        assert login.status_code == 200
        cookie = f"collabadmin_session={client.cookies['collabadmin_session']}"
    headers = {"Cookie": cookie}
    # max_queue=1: the client library itself stops reading from the socket once
    # one frame waits, so TCP backpressure reaches the server.
    async with connect(server.ws, additional_headers=headers, max_queue=1) as slow:
        await slow.send(json.dumps({"type": "subscribe", "topic": "r/courses"}))
        assert json.loads(await slow.recv())["type"] == "subscribed"
        before = _rss_kib(server.process.pid)
        with psycopg.connect(conninfo, autocommit=True) as conn:
            conn.execute(
                "UPDATE courses SET description = description || '.' WHERE id <= %s", (BURST,)
            )
        # The slow socket now reads what it was left: a few changes, then resync.
        left: list[dict[str, str]] = []
        while not left or left[-1]["type"] != "resync":
            left.append(json.loads(await slow.recv()))
        assert left[-1] == {"type": "resync", "topic": "r/courses"}
        assert len(left) <= QUEUE + 1
        # It is no longer subscribed: a ping is answered with nothing in between.
        await slow.send(json.dumps({"type": "ping"}))
        assert json.loads(await slow.recv()) == {"type": "pong"}
        grown = _rss_kib(server.process.pid) - before
        assert grown < 20 * 1024, f"the server grew by {grown} KiB for one burst"
