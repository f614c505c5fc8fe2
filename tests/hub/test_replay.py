"""Replay (a subscribe with ``since``) costs the others nothing and is bounded.

The hub is driven directly, on a real database, with in-process clients
whose queues are the frames a socket would get.
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

import msgspec
import psycopg
import pytest

from collabadmin.changelog.position import BadPosition, Position, snapshot_order
from collabadmin.db.engine import SYSTEM, Actor, Database, Row, Tx
from collabadmin.demo.resources import demo_registry
from collabadmin.hub.clients import Client, encode_frame
from collabadmin.hub.feeds import Routed, Subscriptions
from collabadmin.hub.hub import Hub, HubSettings, SubscribeError
from collabadmin.hub.listener import ChangeListener
from collabadmin.hub.topics import Topic
from collabadmin.resources.policy import StaffPolicy

pytestmark = pytest.mark.usefixtures("fresh_data")


@asynccontextmanager
async def running_hub(database_url: str, **settings: Any) -> AsyncIterator[Hub]:
    db = Database(database_url, pool_size=6)
    hub = Hub(db, demo_registry(), StaffPolicy(), HubSettings(**settings))
    listener = ChangeListener(database_url)
    listener.subscribe(hub.wake)
    await db.open()
    await listener.start()
    await listener.wait_listening(10)
    await hub.start()
    try:
        yield hub
    finally:
        await hub.stop()
        await listener.stop()
        await db.dispose()


async def _frame(client: Client, timeout: float = 10) -> dict[str, Any]:
    frame: dict[str, Any] = json.loads(await asyncio.wait_for(client.queue.get(), timeout))
    return frame


async def _change(client: Client, timeout: float = 10) -> dict[str, Any]:
    frame = await _frame(client, timeout)
    assert frame["type"] == "change", frame
    return frame


def _touch(conninfo: str, *pks: int) -> None:
    with psycopg.connect(conninfo, autocommit=True) as conn:
        for pk in pks:
            conn.execute(
                "UPDATE courses SET description = md5(random()::text) WHERE id = %s", (pk,)
            )


async def _arrival(client: Client, conninfo: str, pk: int) -> float:
    """Seconds from a commit to its change frame in ``client``'s queue."""
    await asyncio.to_thread(_touch, conninfo, pk)
    committed = time.monotonic()
    frame = await _change(client, timeout=60)
    assert frame["change"]["pk"] == str(pk)
    return time.monotonic() - committed


async def test_a_hostile_cursor_does_not_delay_anyone_elses_frames(
    database_url: str, conninfo: str
) -> None:
    async with running_hub(database_url) as hub:
        watcher = hub.connect(SYSTEM)
        await hub.subscribe(watcher, "r/courses", None)
        await _frame(watcher)
        baseline = min([await _arrival(watcher, conninfo, pk) for pk in (1, 2, 3)])

        # A long uptime's worth of batch boundaries (the stall reported was
        # 8.5k of them), and a cursor crafted to replay from the beginning.
        assert hub.position is not None
        now = hub.position.upper
        hub.replays.ticks.extend([(snapshot_order(now), now, time.time())] * 50_000)
        crafted = Position("1:1:", "1:1:", 0, time.time())
        hostile = hub.connect(SYSTEM)
        replay = asyncio.create_task(hub.subscribe(hostile, "r/courses", crafted.encode()))
        assert (await _frame(hostile))["type"] == "subscribed"  # the replay has begun

        delayed = await _arrival(watcher, conninfo, 4)
        # Generous: a loaded machine may add a few hundred ms; a replay on
        # the fan-out path added seconds.
        assert delayed < baseline + 1.0, (baseline, delayed)
        await asyncio.wait_for(replay, 60)
        # The hostile client got a bounded replay and then went live like anyone.
        frames = [json.loads(hostile.queue.get_nowait()) for _ in range(hostile.queue.qsize())]
        assert {f["type"] for f in frames} <= {"change", "resync"}


async def test_a_resume_during_live_traffic_gets_every_change_once_in_order(
    database_url: str, conninfo: str
) -> None:
    # One frame per chunk: the replay yields between every frame, so live
    # batches are delivered (and held) while it runs.
    async with running_hub(database_url, replay_chunk=1) as hub:
        live = hub.connect(SYSTEM)
        await hub.subscribe(live, "r/courses", None)
        start = (await _frame(live))["cursor"]
        await asyncio.to_thread(_touch, conninfo, *range(1, 31))
        for _ in range(30):
            await _change(live)

        resumer = hub.connect(SYSTEM)
        subscribing = asyncio.create_task(hub.subscribe(resumer, "r/courses", start))
        writing = asyncio.create_task(asyncio.to_thread(_touch, conninfo, *range(31, 51)))
        assert (await _frame(resumer))["type"] == "subscribed"
        frames = [await _change(resumer) for _ in range(50)]
        await asyncio.wait_for(asyncio.gather(subscribing, writing), 30)
        expected = [await _change(live) for _ in range(20)]

        assert [f["change"]["pk"] for f in frames] == [str(pk) for pk in range(1, 51)]
        ids = [f["change"]["id"] for f in frames]
        assert ids == sorted(set(ids))
        # The live part is exactly what a client that never left saw.
        assert [f["cursor"] for f in frames[30:]] == [f["cursor"] for f in expected]
        assert resumer.queue.empty()
        assert resumer.held == {}


async def test_a_replay_beyond_the_limit_is_told_to_resync(
    database_url: str, conninfo: str
) -> None:
    async with running_hub(database_url, replay_limit=5) as hub:
        live = hub.connect(SYSTEM)
        await hub.subscribe(live, "r/courses", None)
        start = (await _frame(live))["cursor"]
        await asyncio.to_thread(_touch, conninfo, *range(1, 11))
        for _ in range(10):
            await _change(live)
        late = hub.connect(SYSTEM)
        await asyncio.wait_for(hub.subscribe(late, "r/courses", start), 10)
        assert [(await _frame(late))["type"] for _ in range(2)] == ["subscribed", "resync"]
        assert "r/courses" not in late.topics
        assert hub.too_far_back == 1
        # From the sixth change on, the replay fits in the limit.
        sixth = await asyncio.wait_for(_cursor_after(live, conninfo), 10)
        again = hub.connect(SYSTEM)
        await asyncio.wait_for(hub.subscribe(again, "r/courses", sixth), 10)
        assert (await _frame(again))["type"] == "subscribed"
        assert [(await _change(again))["change"]["pk"] for _ in range(3)] == ["1", "2", "3"]
        assert again.queue.empty()


async def _cursor_after(live: Client, conninfo: str) -> str:
    """Three more changes (courses 1, 2, 3): the cursor from just before them."""
    await asyncio.to_thread(_touch, conninfo, 40)
    cursor = str((await _change(live))["cursor"])
    await asyncio.to_thread(_touch, conninfo, 1, 2, 3)
    for _ in range(3):
        await _change(live)
    return cursor


class _BrokenFeed:
    """A feed whose frames cannot be built (a bug, a row it does not expect)."""

    log_resource = "courses"

    def follows(self, topic: Topic) -> bool:
        return topic.kind == "resource" and topic.resource == "courses"

    async def check(self, actor: Actor, topic: Topic) -> None:
        return None

    async def route(
        self, tx: Tx, entries: Sequence[Row], subscriptions: Subscriptions
    ) -> dict[int, list[Routed]]:
        raise RuntimeError("broken feed")


async def test_a_replay_that_fails_answers_instead_of_hanging(
    database_url: str, conninfo: str
) -> None:
    db = Database(database_url, pool_size=4)
    hub = Hub(db, demo_registry(), StaffPolicy(), HubSettings(), feeds=[_BrokenFeed()])
    await db.open()
    await hub.start()
    try:
        assert hub.position is not None
        start = hub.position
        await asyncio.to_thread(_touch, conninfo, 1)
        # Nobody follows anything yet: the hub moves past the change without reading it.
        async with asyncio.timeout(10):
            while hub.position == start:
                hub.wake()
                await asyncio.sleep(0.01)  # sleep-ok: polling the hub's position, bounded
        late = hub.connect(SYSTEM)
        await asyncio.wait_for(hub.subscribe(late, "r/courses", start.encode()), 10)
        assert [(await _frame(late))["type"] for _ in range(2)] == ["subscribed", "resync"]
        assert hub.replay_failures == 1
    finally:
        await hub.stop()
        await db.dispose()


def test_held_frames_follow_the_replay_in_order() -> None:
    client = Client(SYSTEM, capacity=10)
    client.topics["r/x"] = Topic("r/x", "resource", "x")
    held = client.hold("r/x")
    assert client.offer(encode_frame({"n": "live-1"}), "r/x")
    assert client.offer(encode_frame({"n": "replay-1"}))  # replay frames are not held
    assert client.offer(encode_frame({"n": "live-2"}), "r/x")
    assert client.offer(encode_frame({"n": "other"}), "r/y")  # other topics flow
    assert client.release("r/x", held)
    order = [json.loads(client.queue.get_nowait())["n"] for _ in range(4)]
    assert order == ["replay-1", "other", "live-1", "live-2"]
    assert client.offer(encode_frame({"n": "live-3"}), "r/x")  # live again
    assert json.loads(client.queue.get_nowait())["n"] == "live-3"


def test_held_frames_beyond_the_capacity_are_dropped_and_reported() -> None:
    client = Client(SYSTEM, capacity=3)
    held = client.hold("r/x")
    for n in range(5):
        client.offer(encode_frame({"n": n}), "r/x")
    assert held.frames == []
    assert not client.release("r/x", held)
    assert client.queue.empty()


def _wire(lower: str, upper: str, after_id: int = 0, at: float | None = None) -> str:
    raw = msgspec.json.encode([lower, upper, after_id, time.time() if at is None else at])
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


@pytest.mark.parametrize(
    "cursor",
    [
        _wire("10:5:", "10:5:"),  # xmin after xmax
        _wire("5:10:12", "5:10:12"),  # a running xid outside [xmin, xmax)
        _wire("5:10:8,7", "5:10:8,7"),  # running xids out of order
        _wire("5:10:7,7", "5:10:7,7"),  # ... or repeated
        _wire("0:0:", "0:0:"),  # no transaction has id 0
        _wire("20:30:", "10:15:"),  # lower after upper
        _wire("99999999999999999999:99999999999999999999:", "1:1:"),  # beyond xid8
        _wire("1:1:", "1:1:", after_id=-1),
        _wire("1:1:", "1:1:", after_id=1 << 64),
        _wire("1:1:", "1:1:", at=time.time() + 86_400),  # from the future
        _wire("1:1:", "1:1:", at=-1),
        _wire("\u0661:\u0662:", "\u0661:\u0662:"),  # Arabic-Indic digits: not ours
        base64.urlsafe_b64encode(b'["1:1:","1:1:",0,1e999]').decode(),  # infinite time
    ],
)
def test_malformed_cursors_are_refused_before_any_work(cursor: str) -> None:
    with pytest.raises(BadPosition):
        Position.decode(cursor)


async def test_a_malformed_cursor_is_an_error_frame(database_url: str) -> None:
    async with running_hub(database_url) as hub:
        client = hub.connect(SYSTEM)
        with pytest.raises(SubscribeError) as refused:
            await hub.subscribe(client, "r/courses", _wire("10:5:", "10:5:"))
        assert refused.value.code == "bad_cursor"
        assert client.queue.empty()
