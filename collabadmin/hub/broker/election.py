"""One leader per stream: the instance whose connection holds a PostgreSQL advisory lock.

Every instance keeps one connection of its own waiting in
``pg_advisory_lock``; the one that gets the lock leads, for as long as that
connection lives. When the leader's process dies, even by SIGKILL, its
connection closes, PostgreSQL releases the lock, and the next waiting
instance gets it at once: no lease to expire, no clock to trust. A leader
whose connection breaks (PostgreSQL restarted, a network cut) stops its
work at once and waits in line again.

What leads: the publisher (:mod:`collabadmin.hub.broker.publisher`), and
the work that must run once per cluster rather than once per instance,
registered with :meth:`Leadership.while_leader` (workflow evaluation, the
audit chain's sealing).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Coroutine
from typing import Any, Literal

import psycopg

from collabadmin.context import Startable
from collabadmin.hub.broker.link import still_wanted

__all__ = ["LOCK_CLASS", "Leadership"]

log = logging.getLogger("collabadmin.hub.broker")

# pg_advisory_lock(LOCK_CLASS, hashtext(stream)): one lock per stream.
LOCK_CLASS = 0x636F6C6C  # "coll"
CHECK_EVERY = 1.0  # seconds between two checks that the lock's connection is alive
STOP_WITHIN = 5.0  # seconds the leader's tasks get to stop when it stops leading

Role = Literal["candidate", "leader", "stopped"]


class Leadership:
    """Waits for the lock; while holding it, runs ``lead()`` and the leader's tasks."""

    def __init__(
        self, conninfo: str, stream: str, lead: Callable[[], Coroutine[Any, Any, None]]
    ) -> None:
        self.conninfo = conninfo
        self.stream = stream
        self._lead = lead
        self.role: Role = "candidate"
        self.elections = 0  # times this instance became the leader
        self._tasks: list[Startable] = []
        self._task: asyncio.Task[None] | None = None
        self.elected = asyncio.Event()

    @property
    def leader(self) -> bool:
        return self.role == "leader"

    def while_leader(self, *tasks: Startable) -> None:
        """Start ``tasks`` when this instance becomes the leader, stop them when it stops."""
        self._tasks.extend(tasks)

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="collabadmin-leadership")

    async def stop(self) -> None:
        self.role = "stopped"
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        backoff = 0.1
        while self.role != "stopped":
            still_wanted()
            try:
                conn = await psycopg.AsyncConnection.connect(self.conninfo, autocommit=True)
            except (psycopg.Error, OSError) as exc:
                log.warning("leader election cannot connect: %s", type(exc).__name__)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
                continue
            backoff = 0.1
            try:
                await conn.execute(
                    "SELECT pg_advisory_lock(%s, hashtext(%s))", (LOCK_CLASS, self.stream)
                )
                await self._lead_while(conn)
            except (psycopg.Error, OSError) as exc:
                log.warning("leader election lost its connection: %s", type(exc).__name__)
            except Exception:
                log.exception("leading the change stream failed")
                await asyncio.sleep(1.0)
            finally:
                with contextlib.suppress(Exception):
                    await conn.close()

    async def _lead_while(self, conn: psycopg.AsyncConnection[object]) -> None:
        """Lead until the lock's connection fails (or the instance stops)."""
        self.role = "leader"
        self.elections += 1
        self.elected.set()
        log.info("this instance leads the change stream %s", self.stream)
        started: list[Startable] = []
        work = asyncio.create_task(self._lead(), name="collabadmin-publisher")
        try:
            for task in self._tasks:
                await task.start()
                started.append(task)
            while True:
                still_wanted()
                done, _ = await asyncio.wait({work}, timeout=CHECK_EVERY)
                if done:
                    work.result()  # lead() only returns by raising: let it out
                    return
                await conn.execute("SELECT 1")
        finally:
            if self.role == "leader":
                self.role = "candidate"
            self.elected.clear()
            work.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await work
            for task in reversed(started):
                # Bounded: a task that does not stop must not keep this instance
                # out of the next election (the work it does is safe to repeat).
                with contextlib.suppress(Exception):
                    async with asyncio.timeout(STOP_WITHIN):
                        await task.stop()
            log.info("this instance no longer leads the change stream %s", self.stream)
