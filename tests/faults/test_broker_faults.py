"""Broker mode under faults: three instances, one NATS server of the test's own.

Twelve subscribers follow ``r/courses``, spread over the three instances;
six people edit courses through all three; three people are present on one
course, one per instance, and a watcher on each instance follows who is
there. Then, mid-stream, one fault:

- the leader is killed (SIGKILL): its subscribers resume on the others with
  their cursors, another instance takes the lock and resumes publishing from
  the stream's tail;
- NATS is restarted while writes go on: the leader publishes what was
  committed meanwhile, every consumer picks up where it was;
- an instance's consumer is deleted on the NATS server: it is made again
  from the next sequence.

Each time every subscriber gets every committed change exactly once, in
commit order, all in the same order (checked against the log with
PostgreSQL's own snapshot visibility), presence converges on every
instance, and only one instance at a time reads the change log (each
instance's ``collabadmin_log_reads`` in /metrics).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import nats
import pytest
from websockets.asyncio.client import ClientConnection, connect

from tests.broker.conftest import own_nats
from tests.broker.harness import (
    Follower,
    Writers,
    all_received,
    broker_env,
    check_against_the_log,
    committed_courses,
    first_change_id,
    health,
    leaders,
    log_reads,
    login,
    metrics,
    session_cookie,
    start_cluster,
    until,
)
from tests.broker.nats import NatsServer
from tests.servers import ServerProcess

__all__ = ["own_nats"]

SUBSCRIBERS = 12
WRITERS = 6
WRITES = 30  # successful writes before the fault, and again after it
PRESENT = ("admin", "editor", "reviewer")  # one on each instance
NAMES = {"admin": "Admin", "editor": "Editor", "reviewer": "Reviewer"}
TOPIC = "r/courses/50"
LEADER_READERS = ("publisher", "workflows", "sealer")


@pytest.fixture
def trio(
    database_url: str, demo_users: None, fresh_data: None, own_nats: NatsServer
) -> Iterator[list[ServerProcess]]:
    servers = start_cluster(database_url, 3, **broker_env(own_nats.url, "FAULTS"))
    yield servers
    for server in servers:
        server.stop()


@dataclass
class Watcher:
    """Who the instance says is on :data:`TOPIC` (the last presence frame)."""

    conn: ClientConnection
    names: set[str] = field(default_factory=set)
    subscribed: asyncio.Event = field(default_factory=asyncio.Event)

    async def watch(self) -> None:
        with contextlib.suppress(Exception):
            async for raw in self.conn:
                frame = json.loads(raw)
                if frame["type"] == "subscribed":
                    self.subscribed.set()
                elif frame["type"] == "presence" and frame["topic"] == TOPIC:
                    self.names = {u["name"] for u in frame["users"]}


@dataclass
class Scene:
    servers: list[ServerProcess]
    own_nats: NatsServer
    alive: list[ServerProcess]
    clients: list[httpx.AsyncClient]
    cookies: dict[str, str]
    present: list[ClientConnection] = field(default_factory=list)
    watchers: list[Watcher] = field(default_factory=list)
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    leader_counts: list[int] = field(default_factory=list)
    followers: list[Follower] = field(default_factory=list)

    def live_clients(self) -> list[httpx.AsyncClient]:
        return [c for c, s in zip(self.clients, self.servers, strict=True) if s in self.alive]

    def urls(self) -> list[str]:
        return [s.ws for s in self.alive]


@contextlib.asynccontextmanager
async def scene(servers: list[ServerProcess], nats_server: NatsServer) -> AsyncIterator[Scene]:
    clients = [await login(s.http) for s in servers]
    cookies = {}
    for username in PRESENT:
        client = await login(servers[0].http, username)
        cookies[username] = session_cookie(client)
        await client.aclose()
    cookies["subscriber"] = session_cookie(clients[0])
    staged = Scene(servers, nats_server, list(servers), clients, cookies)
    try:
        yield staged
    finally:
        for task in staged.tasks:
            task.cancel()
        await asyncio.gather(*staged.tasks, return_exceptions=True)
        for conn in staged.present:
            await conn.close()
        for watcher in staged.watchers:
            await watcher.conn.close()
        for client in clients:
            await client.aclose()


async def be_present(staged: Scene) -> None:
    """A watcher of :data:`TOPIC` on each instance, then one person there through each."""
    for server in staged.servers:
        watcher_conn = await connect(
            server.ws, additional_headers={"Cookie": staged.cookies["subscriber"]}
        )
        watcher = Watcher(watcher_conn)
        staged.watchers.append(watcher)
        staged.tasks.append(asyncio.create_task(watcher.watch()))
        await watcher_conn.send(json.dumps({"type": "subscribe", "topic": TOPIC}))
    await asyncio.wait_for(asyncio.gather(*(w.subscribed.wait() for w in staged.watchers)), 30)
    for username, server in zip(PRESENT, staged.servers, strict=True):
        conn = await connect(server.ws, additional_headers={"Cookie": staged.cookies[username]})
        staged.present.append(conn)
        await conn.send(json.dumps({"type": "subscribe", "topic": TOPIC}))
        await conn.send(json.dumps({"type": "presence", "topic": TOPIC, "state": "viewing"}))
        staged.tasks.append(asyncio.create_task(drain(conn)))


async def drain(conn: ClientConnection) -> None:
    with contextlib.suppress(Exception):
        async for _ in conn:
            pass


async def presence_converges(staged: Scene, expected: set[str], timeout: float) -> None:
    watchers = [
        w for w, s in zip(staged.watchers, staged.servers, strict=True) if s in staged.alive
    ]
    await until(
        lambda: all(w.names == expected for w in watchers),
        timeout,
        f"every instance to see {sorted(expected)} on {TOPIC}",
    )


async def count_leaders(staged: Scene) -> None:
    """Sample how many instances say they lead, all along (never two at once)."""
    while True:
        alive = list(staged.alive)
        with contextlib.suppress(httpx.HTTPError):
            staged.leader_counts.append(len(await asyncio.to_thread(leaders, alive)))
        await asyncio.sleep(0.2)  # sleep-ok: a sampling period, not a wait for a result


def reader_counts(servers: list[ServerProcess]) -> list[dict[str, float]]:
    return [log_reads(s) for s in servers]


async def assert_one_reader(staged: Scene) -> None:
    """Over a quiet second of writes, only the leader's counters of log reads move."""
    alive = staged.alive
    await until(lambda: len(leaders(alive)) == 1, 30, "one leader")
    before = reader_counts(alive)
    editor = staged.live_clients()[0]
    for n in range(3):
        current = (await editor.get("/api/r/courses/60")).json()
        response = await editor.patch(
            "/api/r/courses/60",
            json={"title": f"quiet {n}"},
            headers={"If-Match": f'"{current["_version"]}"'},
        )
        assert response.status_code == 200, response.text
    [leader] = leaders(alive)
    await until(
        lambda: log_reads(alive[leader])["sealer"] > before[leader]["sealer"],
        30,
        "the leader to seal",
    )
    after = reader_counts(alive)
    for index, (was, now) in enumerate(zip(before, after, strict=True)):
        assert now["hub"] == 0, now
        assert now["stream_gaps"] == 0, now
        moved = {k for k in LEADER_READERS if now[k] != was[k]}
        if index == leader:
            assert {"publisher", "sealer"} <= moved, (was, now)
        else:
            assert moved == set(), (index, was, now)


async def run(
    servers: list[ServerProcess],
    nats_server: NatsServer,
    conninfo: str,
    fault: Callable[[Scene], Awaitable[set[str]]],
) -> Scene:
    async with scene(servers, nats_server) as staged:
        await until(lambda: len(leaders(servers)) == 1, 30, "one leader")
        first_id = first_change_id(conninfo)
        await be_present(staged)
        await presence_converges(staged, set(NAMES.values()), 10)

        cookie = staged.cookies["subscriber"]
        followers = [Follower(cookie, asyncio.Condition()) for _ in range(SUBSCRIBERS)]
        staged.followers = followers
        staged.tasks += [
            asyncio.create_task(f.follow(staged.urls, i)) for i, f in enumerate(followers)
        ]
        await asyncio.wait_for(asyncio.gather(*(f.subscribed.wait() for f in followers)), 30)
        staged.tasks.append(asyncio.create_task(count_leaders(staged)))

        writers = Writers(staged.live_clients, WRITERS)
        writers.start()
        try:
            await writers.until(WRITES, 90)
            expected = await fault(staged)
            await writers.until(writers.successes + WRITES, 90)
        finally:
            await writers.stop()
        assert set(writers.statuses) <= {200, 412, 503}, sorted(set(writers.statuses))

        committed = committed_courses(conninfo, first_id)
        assert len(committed) >= 2 * WRITES
        await all_received(followers, len(committed), 90)
        check_against_the_log(conninfo, followers, committed)
        await presence_converges(staged, expected, 15)
        assert max(staged.leader_counts) == 1, "two instances led at once"
        await assert_one_reader(staged)
    return staged


async def test_the_leader_killed_mid_stream(
    trio: list[ServerProcess], own_nats: NatsServer, conninfo: str
) -> None:
    async def kill_the_leader(staged: Scene) -> set[str]:
        [index] = leaders(staged.servers)
        doomed = staged.servers[index]
        doomed_reads = log_reads(doomed)
        assert doomed_reads["publisher"] > 0
        staged.alive.remove(doomed)
        doomed.kill()
        await until(lambda: len(leaders(staged.alive)) == 1, 30, "a new leader")
        return {NAMES[u] for u, s in zip(PRESENT, staged.servers, strict=True) if s is not doomed}

    staged = await run(trio, own_nats, conninfo, kill_the_leader)
    # The killed instance's subscribers resumed elsewhere with their cursors.
    assert sum(f.connections == 2 for f in staged.followers) == SUBSCRIBERS // 3


async def test_nats_restarted_mid_stream(
    trio: list[ServerProcess], own_nats: NatsServer, conninfo: str
) -> None:
    async def restart_nats(staged: Scene) -> set[str]:
        staged.own_nats.stop()
        await until(
            lambda: all(health(s)["broker"]["connection"] != "connected" for s in staged.alive),
            30,
            "every instance to notice NATS is away",
        )
        async with httpx.AsyncClient() as client:
            for server in staged.alive:
                assert (await client.get(f"{server.http}/health")).status_code == 503
        staged.own_nats.start()
        await until(
            lambda: all(health(s)["status"] == "ok" for s in staged.alive),
            30,
            "every instance back on NATS",
        )
        return set(NAMES.values())

    await run(trio, own_nats, conninfo, restart_nats)


async def test_a_consumer_dropped_mid_stream(
    trio: list[ServerProcess], own_nats: NatsServer, conninfo: str
) -> None:
    async def drop_a_consumer(staged: Scene) -> set[str]:
        nc = await nats.connect(staged.own_nats.url)
        try:
            js = nc.jetstream()
            consumers = await js.consumers_info("FAULTS")
            assert len(consumers) == 3
            sequence = [metrics(s)["collabadmin_broker_consumer_sequence"] for s in trio]
            await js.delete_consumer("FAULTS", consumers[0].name)
            await until(lambda: len(_consumers(staged.own_nats.url)) == 3, 30, "a new consumer")
        finally:
            await nc.close()
        # Every instance still moves along the stream.
        await until(
            lambda: all(
                metrics(s)["collabadmin_broker_consumer_sequence"] > sequence[i]
                for i, s in enumerate(trio)
            ),
            30,
            "every consumer to move on",
        )
        return set(NAMES.values())

    await run(trio, own_nats, conninfo, drop_a_consumer)


def _consumers(url: str) -> list[Any]:
    async def names() -> list[Any]:
        nc = await nats.connect(url)
        try:
            return list(await nc.jetstream().consumers_info("FAULTS"))
        finally:
            await nc.close()

    return asyncio.run(names())
