"""PostgreSQL restarted while 20 writers and 100 subscribers run.

After recovery, every change the database committed is in the change log,
and every subscriber received every one of them exactly once, in the same
order; writers saw no 5xx but 503 while the database was away.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable

import httpx
import psycopg
from websockets.asyncio.client import ClientConnection, connect

from collabadmin.db.embedded import EmbeddedPostgres
from collabadmin.db.engine import libpq_url
from tests.conftest import PASSWORD
from tests.helpers import ok
from tests.hub.test_restart import _until_healthy, app_on_own_postgres, own_postgres
from tests.servers import ServerProcess

__all__ = ["app_on_own_postgres", "own_postgres"]

WRITERS = 20
SUBSCRIBERS = 100
WRITES_BEFORE = 60  # successful writes before the outage, and again after it


def committed_changes(conninfo: str, after_id: int) -> list[int]:
    """Ids of the course changes the database committed after ``after_id``, in order."""
    with psycopg.connect(conninfo, autocommit=True) as db:
        rows = db.execute(
            "SELECT id FROM collabadmin.collabadmin_change"
            " WHERE id > %s AND resource = 'courses' ORDER BY id",
            (after_id,),
        ).fetchall()
    return [r[0] for r in rows]


class Progress:
    """Wait until a condition on shared counters holds, woken by whoever changes them."""

    def __init__(self) -> None:
        self.changed = asyncio.Condition()

    async def bump(self) -> None:
        async with self.changed:
            self.changed.notify_all()

    async def until(self, check: Callable[[], bool], timeout: float) -> None:
        async def wait() -> None:
            async with self.changed:
                await self.changed.wait_for(check)

        await asyncio.wait_for(wait(), timeout)


async def _subscriber(
    conn: ClientConnection, seen: list[int], ready: asyncio.Event, progress: Progress
) -> None:
    await conn.send(json.dumps({"type": "subscribe", "topic": "r/courses"}))
    async for raw in conn:
        frame = json.loads(raw)
        if frame["type"] == "subscribed":
            ready.set()
        elif frame["type"] == "change":
            seen.append(frame["change"]["id"])
            await progress.bump()
        else:
            assert frame["type"] != "resync", frame


async def test_restart_with_writers_and_subscribers_loses_and_repeats_nothing(
    own_postgres: tuple[EmbeddedPostgres, str], app_on_own_postgres: ServerProcess
) -> None:
    postgres, url = own_postgres
    server = app_on_own_postgres
    limits = httpx.Limits(max_connections=WRITERS + 5)
    async with httpx.AsyncClient(base_url=server.http, timeout=15, limits=limits) as client:
        login = ok(
            await client.post("/api/auth/login", json={"username": "editor", "password": PASSWORD})
        )
        client.headers["X-CSRF-Token"] = login["csrf_token"]
        cookie = f"collabadmin_session={client.cookies['collabadmin_session']}"
        with psycopg.connect(libpq_url(url), autocommit=True) as db:
            row = db.execute(
                "SELECT coalesce(max(id), 0) FROM collabadmin.collabadmin_change"
            ).fetchone()
        first_id = row[0] if row else 0

        conns = [
            await connect(server.ws, additional_headers={"Cookie": cookie})
            for _ in range(SUBSCRIBERS)
        ]
        seen: list[list[int]] = [[] for _ in conns]
        ready = [asyncio.Event() for _ in conns]
        progress = Progress()
        readers = [
            asyncio.create_task(_subscriber(c, s, r, progress))
            for c, s, r in zip(conns, seen, ready, strict=True)
        ]
        await asyncio.wait_for(asyncio.gather(*(r.wait() for r in ready)), 30)

        statuses: list[int] = []
        successes = 0
        stop = asyncio.Event()

        async def writer(pk: int) -> None:
            nonlocal successes
            n = 0
            while not stop.is_set():
                n += 1
                try:
                    current = await client.get(f"/api/r/courses/{pk}")
                    statuses.append(current.status_code)
                    await progress.bump()
                    if current.status_code != 200:
                        await asyncio.sleep(0.05)  # sleep-ok: backing off a refused request
                        continue
                    version = current.json()["_version"]
                    response = await client.patch(
                        f"/api/r/courses/{pk}",
                        json={"title": f"w{pk} n{n}"},
                        headers={"If-Match": f'"{version}"'},
                    )
                except httpx.TransportError:
                    continue
                statuses.append(response.status_code)
                successes += response.status_code == 200
                await progress.bump()

        tasks = [asyncio.create_task(writer(pk)) for pk in range(1, WRITERS + 1)]

        await progress.until(lambda: successes >= WRITES_BEFORE, 60)
        postgres.stop()
        await progress.until(lambda: 503 in statuses, 30)
        postgres.start()
        await _until_healthy(client, 60)
        target = successes + WRITES_BEFORE
        await progress.until(lambda: successes >= target, 60)
        stop.set()
        await asyncio.gather(*tasks)

        committed = committed_changes(libpq_url(url), first_id)

        await progress.until(lambda: all(len(s) >= len(committed) for s in seen), 60)
        for reader in readers:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader
        for conn in conns:
            await conn.close()

    assert len(committed) >= 2 * WRITES_BEFORE
    assert set(statuses) <= {200, 412, 503}, sorted(set(statuses))
    assert 503 in statuses
    for received in seen:
        assert len(received) == len(set(received)), "a change was delivered twice"
        assert sorted(received) == committed, "a committed change was not delivered"
    assert all(received == seen[0] for received in seen), "subscribers saw different orders"
