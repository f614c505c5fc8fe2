"""The hub without sockets: overflow, listener loss and poll mode, on a real database."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import psycopg
import pytest

from collabadmin.db.engine import SYSTEM, Database
from collabadmin.demo.resources import demo_registry
from collabadmin.hub.clients import Client
from collabadmin.hub.hub import Hub, HubSettings
from collabadmin.hub.listener import ChangeListener
from collabadmin.resources.policy import StaffPolicy

pytestmark = pytest.mark.usefixtures("fresh_data")


@pytest.fixture
async def hub_parts(database_url: str) -> AsyncIterator[tuple[Hub, ChangeListener, Database]]:
    db = Database(database_url, pool_size=4)
    hub = Hub(db, demo_registry(), StaffPolicy(), HubSettings(queue_capacity=100))
    listener = ChangeListener(database_url)
    listener.subscribe(hub.wake)
    await db.open()
    await listener.start()
    await listener.wait_listening(10)
    await hub.start()
    yield hub, listener, db
    await hub.stop()
    await listener.stop()
    await db.dispose()


async def _frames(client: Client, count: int, timeout: float = 10) -> list[dict[str, object]]:
    return [json.loads(await asyncio.wait_for(client.queue.get(), timeout)) for _ in range(count)]


def _touch(conninfo: str, *pks: int) -> None:
    with psycopg.connect(conninfo, autocommit=True) as conn:
        for pk in pks:
            conn.execute(
                "UPDATE courses SET description = md5(random()::text) WHERE id = %s", (pk,)
            )


async def test_a_client_that_stops_reading_gets_resync_and_holds_no_memory(
    hub_parts: tuple[Hub, ChangeListener, Database], conninfo: str
) -> None:
    hub, _, _ = hub_parts
    slow = hub.connect(SYSTEM)
    slow.capacity = 5  # a small queue, so that 20 changes overflow it
    reader = hub.connect(SYSTEM)
    await hub.subscribe(slow, "r/courses", None)
    await hub.subscribe(reader, "r/courses", None)
    assert [f["type"] for f in await _frames(slow, 1)] == ["subscribed"]
    assert [f["type"] for f in await _frames(reader, 1)] == ["subscribed"]
    delivered = asyncio.Event()
    hub.observe(lambda d: delivered.set())
    _touch(conninfo, *range(1, 21))  # 20 changes, one transaction each
    received = []
    while len(received) < 20:  # the reader keeps up, the slow client never reads
        received.extend(await _frames(reader, 1))
    assert [f["type"] for f in received] == ["change"] * 20
    await asyncio.wait_for(delivered.wait(), 10)
    # The slow client overflowed: its queue holds only the resync notice.
    assert slow.overflows >= 1
    assert slow.queue.qsize() == 1
    assert await _frames(slow, 1) == [{"type": "resync", "topic": "r/courses"}]
    assert "r/courses" not in slow.topics
    assert slow not in hub.subscriptions.get("r/courses", {})


async def test_listener_connection_killed_mid_stream_loses_nothing(
    hub_parts: tuple[Hub, ChangeListener, Database], conninfo: str
) -> None:
    hub, listener, _ = hub_parts
    client = hub.connect(SYSTEM)
    await hub.subscribe(client, "r/courses", None)
    await _frames(client, 1)
    _touch(conninfo, 1)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        killed = conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE query LIKE 'LISTEN collabadmin%%' AND pid <> pg_backend_pid()"
            " AND datname = current_database()"
        ).fetchall()
        assert killed
    _touch(conninfo, 2, 3)  # committed while the listener is down or reconnecting
    await listener.wait_listening(10)
    _touch(conninfo, 4)
    frames = await _frames(client, 4)
    assert [f["change"]["pk"] for f in frames] == ["1", "2", "3", "4"]  # type: ignore[index]
    assert client.queue.empty()


async def test_poll_mode_delivers_the_same_stream_without_notify(
    database_url: str, conninfo: str
) -> None:
    db = Database(database_url, pool_size=2, session_settings={"collabadmin.notify": "off"})
    hub = Hub(db, demo_registry(), StaffPolicy(), HubSettings(wake="poll", poll_interval=0.005))
    await hub.start()
    try:
        client = hub.connect(SYSTEM)
        await hub.subscribe(client, "r/courses", None)
        await _frames(client, 1)
        with psycopg.connect(conninfo, autocommit=True) as listen:
            listen.execute("LISTEN collabadmin_change")
            async with db.transaction(SYSTEM) as tx:  # the server's own writes: no NOTIFY
                await tx.run("UPDATE courses SET title = 'polled' WHERE id = 5")
                ours = await tx.value("SELECT pg_backend_pid()")
            # Only this write's connection counts: an evaluator of a server still
            # running for other tests may write (and notify) in reaction to it.
            assert [n for n in listen.notifies(timeout=0.2) if n.pid == ours] == []
        [frame] = await _frames(client, 1)
        assert frame["change"]["pk"] == "5"  # type: ignore[index]
    finally:
        await hub.stop()
        await db.dispose()
