"""The process's one LISTEN connection.

The capture trigger NOTIFYs ``collabadmin_change`` with an empty payload:
the notification only says "the log has grown", never what changed, so
readers always go back to the log (which is the source of truth) and a lost
notification can at worst delay, never lose, a change. When the connection
drops (a terminated backend, a PostgreSQL restart) the listener reconnects
with capped exponential backoff and wakes its readers once it is back, so
they catch up from the log.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Literal

import psycopg

from collabadmin.db.engine import libpq_url

__all__ = ["CHANNEL", "CREDENTIALS_CHANNEL", "PRESENCE_CHANNEL", "ChangeListener"]

log = logging.getLogger("collabadmin.hub.listener")

CHANNEL = "collabadmin_change"
PRESENCE_CHANNEL = "collabadmin_presence"
# Sent (empty) by triggers when a session, token or user changes: re-check sockets.
CREDENTIALS_CHANNEL = "collabadmin_credentials"
Status = Literal["starting", "listening", "reconnecting", "stopped"]


class ChangeListener:
    """LISTENs on :data:`CHANNEL` and calls its subscribers on every wake-up."""

    def __init__(self, url: str, *, max_backoff: float = 5.0) -> None:
        self.conninfo = libpq_url(url)
        self.max_backoff = max_backoff
        self.status: Status = "starting"
        self.wakeups = 0
        self._callbacks: list[Callable[[], None]] = []
        self._presence: list[Callable[[str], None]] = []
        self._credentials: list[Callable[[], None]] = []
        self._task: asyncio.Task[None] | None = None
        self._connected = asyncio.Event()
        self._conn: psycopg.AsyncConnection[object] | None = None

    def subscribe(self, callback: Callable[[], None]) -> None:
        """``callback()`` on every wake-up: a change committed, or the connection came back."""
        self._callbacks.append(callback)

    def on_presence(self, callback: Callable[[str], None]) -> None:
        """``callback(payload)`` for every presence message."""
        self._presence.append(callback)

    def on_credentials(self, callback: Callable[[], None]) -> None:
        """``callback()`` when credentials changed anywhere, and when the connection is back."""
        self._credentials.append(callback)

    def _wake(self) -> None:
        self.wakeups += 1
        for callback in self._callbacks:
            callback()

    def _credentials_changed(self) -> None:
        for callback in self._credentials:
            callback()

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="collabadmin-listener")

    async def wait_listening(self, seconds: float) -> None:
        await asyncio.wait_for(self._connected.wait(), seconds)

    async def stop(self) -> None:
        self.status = "stopped"
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._conn is not None:
            await self._conn.close()

    async def _run(self) -> None:
        backoff = 0.1
        while True:
            try:
                self._conn = await psycopg.AsyncConnection.connect(self.conninfo, autocommit=True)
                await self._conn.execute(f"LISTEN {CHANNEL}")
                await self._conn.execute(f"LISTEN {PRESENCE_CHANNEL}")
                await self._conn.execute(f"LISTEN {CREDENTIALS_CHANNEL}")
                self.status = "listening"
                self._connected.set()
                backoff = 0.1
                # Anything committed while we were away is in the log: wake readers.
                self._wake()
                self._credentials_changed()
                async for note in self._conn.notifies():
                    if note.channel == PRESENCE_CHANNEL:
                        for callback in self._presence:
                            callback(note.payload)
                    elif note.channel == CREDENTIALS_CHANNEL:
                        self._credentials_changed()
                    else:
                        self._wake()
            except asyncio.CancelledError:
                raise
            except (psycopg.Error, OSError) as exc:
                log.warning("change listener lost its connection: %s", type(exc).__name__)
            finally:
                self._connected.clear()
                if self._conn is not None:
                    with contextlib.suppress(Exception):
                        await self._conn.close()
                    self._conn = None
            if self.status == "stopped":
                return
            self.status = "reconnecting"
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, self.max_backoff)
