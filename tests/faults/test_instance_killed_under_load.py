"""A server instance killed (SIGKILL) under load; its clients resume on another one.

Writers keep committing through the surviving instance while 20 subscribers
follow the collection on the instance that dies. Each reconnects to the
survivor with the cursor of the last frame it saw, and in the end has every
committed change exactly once, in the same order as every other subscriber.
"""

from __future__ import annotations

import asyncio
import contextlib
import json

import httpx
import psycopg
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from tests.conftest import PASSWORD
from tests.faults.test_restart_under_load import Progress, committed_changes
from tests.helpers import ok
from tests.hub.test_instances import pair
from tests.servers import ServerProcess

__all__ = ["pair"]

WRITERS = 8
SUBSCRIBERS = 20
WRITES = 40  # before the kill, and again after it


class Follower:
    """Follows r/courses on one instance, then resumes on another with its cursor."""

    def __init__(self, cookie: str, progress: Progress) -> None:
        self.cookie = cookie
        self.progress = progress
        self.seen: list[int] = []
        self.cursor: str | None = None
        self.subscribed = asyncio.Event()

    async def follow(self, url: str) -> None:
        async with connect(url, additional_headers={"Cookie": self.cookie}) as ws:
            frame = {"type": "subscribe", "topic": "r/courses"}
            if self.cursor is not None:
                frame["since"] = self.cursor
            await ws.send(json.dumps(frame))
            with contextlib.suppress(ConnectionClosed):
                async for raw in ws:
                    message = json.loads(raw)
                    assert message["type"] != "resync", message
                    if message["type"] == "subscribed":
                        self.cursor = self.cursor or message["cursor"]
                        self.subscribed.set()
                    elif message["type"] == "change":
                        self.seen.append(message["change"]["id"])
                        self.cursor = message["cursor"]
                        await self.progress.bump()


async def test_clients_of_a_killed_instance_resume_on_another_and_miss_nothing(
    pair: tuple[ServerProcess, ServerProcess], conninfo: str
) -> None:
    doomed, survivor = pair
    progress = Progress()
    async with httpx.AsyncClient(base_url=survivor.http, timeout=15) as client:
        login = ok(
            await client.post("/api/auth/login", json={"username": "editor", "password": PASSWORD})
        )
        client.headers["X-CSRF-Token"] = login["csrf_token"]
        cookie = f"collabadmin_session={client.cookies['collabadmin_session']}"
        with psycopg.connect(conninfo) as db:
            row = db.execute(
                "SELECT coalesce(max(id), 0) FROM collabadmin.collabadmin_change"
            ).fetchone()
        first_id = row[0] if row else 0

        followers = [Follower(cookie, progress) for _ in range(SUBSCRIBERS)]
        on_doomed = [asyncio.create_task(f.follow(doomed.ws)) for f in followers]
        await asyncio.wait_for(asyncio.gather(*(f.subscribed.wait() for f in followers)), 30)

        successes = 0
        stop = asyncio.Event()

        async def writer(pk: int) -> None:
            nonlocal successes
            while not stop.is_set():
                current = ok(await client.get(f"/api/r/courses/{pk}"))
                response = await client.patch(
                    f"/api/r/courses/{pk}",
                    json={"title": f"w{pk} {successes}"},
                    headers={"If-Match": f'"{current["_version"]}"'},
                )
                assert response.status_code == 200, response.text
                successes += 1
                await progress.bump()

        writers = [asyncio.create_task(writer(pk)) for pk in range(1, WRITERS + 1)]
        await progress.until(lambda: successes >= WRITES, 60)
        doomed.kill()
        await asyncio.gather(*on_doomed)  # each sees its connection drop
        for f in followers:
            f.subscribed.clear()
        on_survivor = [asyncio.create_task(f.follow(survivor.ws)) for f in followers]
        target = successes + WRITES
        await progress.until(lambda: successes >= target, 60)
        stop.set()
        await asyncio.gather(*writers)

        committed = committed_changes(conninfo, first_id)
        await progress.until(lambda: all(len(f.seen) >= len(committed) for f in followers), 60)
        for task in on_survivor:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    for f in followers:
        assert len(f.seen) == len(set(f.seen)), "a change was delivered twice"
        assert sorted(f.seen) == committed, "a committed change was missed"
    assert all(f.seen == followers[0].seen for f in followers), "followers saw different orders"
