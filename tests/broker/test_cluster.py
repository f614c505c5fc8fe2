"""Three instances in broker mode: one reads the log, all deliver, presence crosses over NATS."""

from __future__ import annotations

import time
from collections.abc import Iterator

import msgspec
import pytest

from collabadmin.changelog.position import Position
from collabadmin.ops.types import BrokerHealth, HealthBody
from tests.broker.harness import (
    broker_env,
    health,
    leaders,
    log_reads,
    login,
    start_cluster,
    until,
)
from tests.hub.conftest import SocketFor
from tests.servers import ServerProcess


def _place(cursor: str) -> tuple[str, str, int]:
    position = Position.decode(cursor)
    return position.lower, position.upper, position.after_id


@pytest.fixture
def trio(
    database_url: str, demo_users: None, fresh_data: None, nats_url: str, stream: str
) -> Iterator[list[ServerProcess]]:
    servers = start_cluster(database_url, 3, **broker_env(nats_url, stream))
    yield servers
    for server in servers:
        server.stop()


async def test_one_instance_reads_the_log_and_every_instance_delivers(
    trio: list[ServerProcess], socket_for: SocketFor
) -> None:
    await until(lambda: len(leaders(trio)) == 1, 30, "one leader")
    sockets = [await socket_for("viewer", url=server.ws) for server in trio]
    for ws in sockets:
        await ws.subscribe("r/courses")
    editor = await login(trio[1].http)
    try:
        for n in range(3):
            current = (await editor.get("/api/r/courses/11")).json()
            response = await editor.patch(
                "/api/r/courses/11",
                json={"title": f"through the second, {n}"},
                headers={"If-Match": f'"{current["_version"]}"'},
            )
            assert response.status_code == 200, response.text
    finally:
        await editor.aclose()
    received = [await ws.changes(3) for ws in sockets]
    for changes in received:
        assert [c["change"]["diff"]["title"]["new"] for c in changes] == [
            f"through the second, {n}" for n in range(3)
        ]
        # Every instance cut the same batches: the positions are the same everywhere.
        assert [_place(c["cursor"]) for c in changes] == [_place(c["cursor"]) for c in received[0]]
    for ws in sockets:
        await ws.quiet()

    [leader] = leaders(trio)
    for server in trio:
        body = msgspec.convert(health(server), HealthBody)
        assert body.status == "ok"
        assert isinstance(body.broker, BrokerHealth)
        assert body.broker.connection == "connected"
        assert body.broker.lag == 0
        assert body.broker.sequence >= 1
    reads = [log_reads(server) for server in trio]
    assert reads[leader]["publisher"] > 0
    for index, counted in enumerate(reads):
        assert counted["hub"] == 0, counted  # no instance reads the log for its own hub
        assert counted["stream_gaps"] == 0, counted
        if index != leader:
            # Nor evaluates workflows or seals the chain: that is the leader's work.
            assert sum(counted.values()) == 0, (index, counted)


async def test_presence_crosses_instances_within_a_second(
    trio: list[ServerProcess], socket_for: SocketFor
) -> None:
    editors = [
        await socket_for("editor", url=trio[0].ws),
        await socket_for("admin", url=trio[1].ws),
    ]
    watcher = await socket_for("viewer", url=trio[2].ws)
    await watcher.subscribe("r/courses/12")
    for ws in editors:
        await ws.subscribe("r/courses/12")
    started = time.monotonic()
    await editors[0].send(
        {"type": "presence", "topic": "r/courses/12", "state": "editing", "field": "title"}
    )
    await editors[1].send({"type": "presence", "topic": "r/courses/12", "state": "viewing"})
    while True:
        frame = await watcher.expect("presence", topic="r/courses/12", timeout=1.0)
        names = {u["name"]: u["state"] for u in frame["users"]}
        if names == {"Editor": "editing", "Admin": "viewing"}:
            break
    assert time.monotonic() - started < 1.0
    # Leaving is seen as fast.
    started = time.monotonic()
    await editors[0].send({"type": "unsubscribe", "topic": "r/courses/12"})
    while True:
        frame = await watcher.expect("presence", topic="r/courses/12", timeout=1.0)
        if {u["name"] for u in frame["users"]} == {"Admin"}:
            break
    assert time.monotonic() - started < 1.0


async def test_a_client_resumes_on_another_instance_with_its_cursor(
    trio: list[ServerProcess], socket_for: SocketFor
) -> None:
    first = await socket_for("viewer", url=trio[0].ws)
    cursor = await first.subscribe("r/courses/13")
    await first.conn.close()
    editor = await login(trio[2].http)
    try:
        for n in range(2):
            current = (await editor.get("/api/r/courses/13")).json()
            response = await editor.patch(
                "/api/r/courses/13",
                json={"title": f"while away {n}"},
                headers={"If-Match": f'"{current["_version"]}"'},
            )
            assert response.status_code == 200, response.text
    finally:
        await editor.aclose()
    again = await socket_for("viewer", url=trio[1].ws)
    await again.subscribe("r/courses/13", since=cursor)
    changes = await again.changes(2)
    titles = [c["change"]["diff"]["title"]["new"] for c in changes]
    assert titles == ["while away 0", "while away 1"]
    await again.quiet()
