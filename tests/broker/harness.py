"""Several ``collabadmin serve`` processes in broker mode, and what they are checked against.

- :func:`start_cluster`: N instances on one database and one stream.
- :class:`Follower`: a socket that follows ``r/courses`` and, when its
  instance goes away, resumes on another with the cursor of the last frame
  it saw, recording every change with its cursor.
- :class:`Writers`: people editing courses through every instance that is up.
- :func:`check_against_the_log`: every follower got every committed change
  exactly once, each in the batch its cursor names (checked with PostgreSQL's
  own snapshot visibility), batches in commit order, all in the same order.
- :func:`log_reads`: the change-log reads each instance reports in /metrics.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import httpx
import psycopg
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake

from collabadmin.changelog.position import Position, snapshot_order
from tests.conftest import PASSWORD
from tests.servers import ServerProcess, start_server

METRICS_TOKEN = "broker-tests"
FAST_PRESENCE = {"COLLABADMIN_PRESENCE_HEARTBEAT": "0.5", "COLLABADMIN_PRESENCE_EXPIRY": "2"}


def broker_env(nats_url: str, stream: str) -> dict[str, str]:
    return {
        "COLLABADMIN_BROKER": nats_url,
        "COLLABADMIN_BROKER_STREAM": stream,
        "COLLABADMIN_METRICS_TOKEN": METRICS_TOKEN,
        # Several instances share the machine's PostgreSQL with other test runs.
        "COLLABADMIN_POOL_SIZE": "4",
        **FAST_PRESENCE,
    }


def start_cluster(database_url: str, count: int, **env: str) -> list[ServerProcess]:
    """``count`` instances started at once (each waits for its /health)."""
    with ThreadPoolExecutor(count) as pool:
        futures = [pool.submit(start_server, database_url, **env) for _ in range(count)]
        servers = []
        errors = []
        for future in futures:
            try:
                servers.append(future.result())
            except Exception as exc:
                errors.append(exc)
    if errors:
        for server in servers:
            server.stop()
        raise errors[0]
    return servers


def metrics(server: ServerProcess) -> dict[str, float]:
    """``name{labels}`` -> value, from the instance's /metrics."""
    text = httpx.get(
        f"{server.http}/metrics",
        headers={"Authorization": f"Bearer {METRICS_TOKEN}"},
        timeout=10,
    ).text
    values = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            values[name] = float(value)
    return values


def log_reads(server: ServerProcess) -> dict[str, float]:
    prefix = 'collabadmin_log_reads_total{reader="'
    return {
        name[len(prefix) : -2]: value
        for name, value in metrics(server).items()
        if name.startswith(prefix)
    }


def health(server: ServerProcess) -> dict[str, Any]:
    body: dict[str, Any] = httpx.get(f"{server.http}/health", timeout=10).json()
    return body


def leaders(servers: Sequence[ServerProcess]) -> list[int]:
    """Indexes of the instances that say they lead."""
    return [i for i, s in enumerate(servers) if health(s)["broker"]["leader"]]


async def until(check: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll ``check`` (cheap, or a request) until it holds; fail after ``timeout`` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not await asyncio.to_thread(check):
        assert loop.time() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.05)  # sleep-ok: polling a condition with a deadline


async def login(base: str, username: str = "editor") -> httpx.AsyncClient:
    client = httpx.AsyncClient(base_url=base, timeout=15)
    response = await client.post(
        "/api/auth/login", json={"username": username, "password": PASSWORD}
    )
    assert response.status_code == 200, response.text
    client.headers["X-CSRF-Token"] = response.json()["csrf_token"]
    return client


def session_cookie(client: httpx.AsyncClient) -> str:
    return f"collabadmin_session={client.cookies['collabadmin_session']}"


@dataclass
class Received:
    id: int
    cursor: Position


@dataclass
class Follower:
    """Follows ``r/courses``; resumes with its last cursor on another instance when cut off."""

    cookie: str
    changed: asyncio.Condition
    seen: list[Received] = field(default_factory=list)
    cursor: str | None = None
    resyncs: int = 0
    connections: int = 0
    subscribed: asyncio.Event = field(default_factory=asyncio.Event)

    async def follow(self, urls: Callable[[], list[str]], start: int) -> None:
        """Follow on ``urls()[start]``; on a cut, resume on the next url up."""
        index = start
        while True:
            choices = urls()
            url = choices[index % len(choices)]
            with contextlib.suppress(OSError, ConnectionClosed, InvalidHandshake):
                await self._follow_on(url)
            index += 1

    async def _follow_on(self, url: str) -> None:
        async with connect(url, additional_headers={"Cookie": self.cookie}) as ws:
            self.connections += 1
            frame: dict[str, Any] = {"type": "subscribe", "topic": "r/courses"}
            if self.cursor is not None:
                frame["since"] = self.cursor
            await ws.send(json.dumps(frame))
            async for raw in ws:
                message = json.loads(raw)
                if message["type"] == "subscribed":
                    self.cursor = self.cursor or message["cursor"]
                    self.subscribed.set()
                elif message["type"] == "change":
                    self.cursor = message["cursor"]
                    self.seen.append(
                        Received(message["change"]["id"], Position.decode(message["cursor"]))
                    )
                    async with self.changed:
                        self.changed.notify_all()
                elif message["type"] == "resync":
                    self.resyncs += 1


class Writers:
    """``count`` people editing courses 1..count, each through the instances that are up."""

    def __init__(self, clients: Callable[[], list[httpx.AsyncClient]], count: int) -> None:
        self.clients = clients
        self.count = count
        self.successes = 0
        self.statuses: list[int] = []
        self.changed = asyncio.Condition()
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        self._tasks = [asyncio.create_task(self._write(pk)) for pk in range(1, self.count + 1)]

    async def stop(self) -> None:
        self._stop.set()
        await asyncio.gather(*self._tasks)

    async def until(self, successes: int, timeout: float) -> None:
        async def wait() -> None:
            async with self.changed:
                await self.changed.wait_for(lambda: self.successes >= successes)

        await asyncio.wait_for(wait(), timeout)

    async def _write(self, pk: int) -> None:
        n = 0
        while not self._stop.is_set():
            n += 1
            clients = self.clients()
            client = clients[(pk + n) % len(clients)]
            try:
                current = await client.get(f"/api/r/courses/{pk}")
                if current.status_code != 200:
                    self.statuses.append(current.status_code)
                    continue
                response = await client.patch(
                    f"/api/r/courses/{pk}",
                    json={"title": f"w{pk} n{n}"},
                    headers={"If-Match": f'"{current.json()["_version"]}"'},
                )
            except httpx.TransportError:
                continue  # its instance was killed: the next attempt goes to another
            self.statuses.append(response.status_code)
            if response.status_code == 200:
                self.successes += 1
                async with self.changed:
                    self.changed.notify_all()


def first_change_id(conninfo: str) -> int:
    with psycopg.connect(conninfo) as db:
        row = db.execute(
            "SELECT coalesce(max(id), 0) FROM collabadmin.collabadmin_change"
        ).fetchone()
    return int(row[0]) if row else 0


def committed_courses(conninfo: str, after_id: int) -> list[int]:
    with psycopg.connect(conninfo, autocommit=True) as db:
        rows = db.execute(
            "SELECT id FROM collabadmin.collabadmin_change"
            " WHERE id > %s AND resource = 'courses' ORDER BY id",
            (after_id,),
        ).fetchall()
    return [r[0] for r in rows]


async def all_received(followers: Sequence[Follower], count: int, timeout: float) -> None:
    async def wait(follower: Follower) -> None:
        async with follower.changed:
            await follower.changed.wait_for(lambda: len(follower.seen) >= count)

    await asyncio.wait_for(asyncio.gather(*(wait(f) for f in followers)), timeout)


def check_against_the_log(
    conninfo: str, followers: Sequence[Follower], committed: list[int]
) -> None:
    """Exactly once, in commit order, the same order for everyone; checked by PostgreSQL.

    Each change must belong to the batch its cursor names: its transaction is
    visible in the batch's upper snapshot and not in its lower one. Batches
    must come in commit order (their snapshots never go back) and entries
    within a batch by id.
    """
    reference = [r.id for r in followers[0].seen]
    for follower in followers:
        ids = [r.id for r in follower.seen]
        assert len(ids) == len(set(ids)), "a change was delivered twice"
        assert sorted(ids) == committed, "a committed change was not delivered"
        assert ids == reference, "followers saw different orders"
        assert follower.resyncs == 0
    first = followers[0].seen
    with psycopg.connect(conninfo, autocommit=True) as db:
        wrong = db.execute(
            "SELECT c.id FROM collabadmin.collabadmin_change c"
            " JOIN unnest(%s::bigint[], %s::text[], %s::text[]) AS r(id, lower, upper)"
            "   ON r.id = c.id"
            " WHERE NOT (pg_visible_in_snapshot(c.txid, r.upper::pg_snapshot)"
            "        AND NOT pg_visible_in_snapshot(c.txid, r.lower::pg_snapshot))",
            (
                [r.id for r in first],
                [r.cursor.lower for r in first],
                [r.cursor.upper for r in first],
            ),
        ).fetchall()
    assert wrong == [], f"changes outside the batch their cursor names: {wrong}"
    for before, after in itertools.pairwise(first):
        a, b = snapshot_order(before.cursor.upper), snapshot_order(after.cursor.upper)
        assert a <= b, "a batch came after a later one"
        if before.cursor.upper == after.cursor.upper:
            assert before.id < after.id, "entries of a batch out of id order"
