"""Deleting sessions that have ended, so the table holds only sessions that may be used."""

from __future__ import annotations

import asyncio
import logging

import psycopg

from collabadmin.auth.credentials import purge_sessions
from collabadmin.db.background import BackgroundTask
from collabadmin.db.engine import Database

__all__ = ["SessionPurge"]

log = logging.getLogger("collabadmin.auth.purge")


class SessionPurge(BackgroundTask):
    """Every ``interval`` seconds, delete revoked, expired and idle sessions.

    Ended sessions are refused whether or not they are still stored; the
    purge only keeps the table (and a stolen copy of it) small. Several
    instances purging at once is harmless: a DELETE of rows already gone
    deletes nothing.
    """

    name = "collabadmin-session-purge"

    def __init__(self, db: Database, *, idle_seconds: int, interval: float) -> None:
        super().__init__()
        self.db = db
        self.idle_seconds = idle_seconds
        self.interval = interval
        self.purged = 0
        # Set after every pass, deleting or not: lets a caller wait for one.
        self.passed = asyncio.Event()

    async def run(self) -> None:
        while True:
            try:
                async with self.db.connection() as tx:
                    self.purged += await purge_sessions(tx, self.idle_seconds)
            except (psycopg.Error, OSError) as exc:
                log.warning("could not purge ended sessions: %s", type(exc).__name__)
            except Exception:
                log.exception("session purge failed")
            self.passed.set()
            await asyncio.sleep(self.interval)
