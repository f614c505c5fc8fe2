"""Open websockets live no longer than their credentials.

Each socket's client records the credential that opened it (a session or an
API token, by digest). A socket is ended (closed with 4401, no frame after)
as soon as its credential is no longer in force:

* at once, on this process, when the credential is revoked here (logout,
  ``DELETE /api/auth/tokens/{id}``: the routes call :meth:`Hub.end_credential`);
* within milliseconds on every process when a trigger announces a change on
  ``collabadmin_credentials`` (a revoke on another instance, a password
  changed by the CLI, a user deactivated or its roles changed in SQL);
* within :attr:`CredentialWatch.interval` otherwise: a session that expires
  or idles out changes no row, so every open socket's credential is
  re-checked periodically, with one query for all of them.

The same query returns each credential's user as it is now; a client whose
user changed (roles, name) has its permissions re-applied before its next
frame (:meth:`Hub.reapply`). While the database is unreachable nothing is
re-checked: the sockets stay open but receive nothing either, since the hub
reads the same database; the first check after it returns ends what has to end.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

import psycopg

from collabadmin.auth.credentials import CredentialCache, credentials_in_force
from collabadmin.db.background import BackgroundTask
from collabadmin.db.engine import Database
from collabadmin.hub.clients import Client
from collabadmin.hub.hub import Hub

__all__ = ["CredentialWatch"]

log = logging.getLogger("collabadmin.hub.credentials")

TopicLost = Callable[[Client, str], Awaitable[None]]


class CredentialWatch(BackgroundTask):
    name = "collabadmin-credential-watch"

    def __init__(
        self,
        db: Database,
        hub: Hub,
        *,
        idle_seconds: int,
        interval: float = 2.0,
        on_topic_lost: TopicLost | None = None,
        cache: CredentialCache | None = None,
    ) -> None:
        super().__init__()
        self.db = db
        self.hub = hub
        self.idle_seconds = idle_seconds
        self.interval = interval
        self.on_topic_lost = on_topic_lost
        self.cache = cache
        self.checks = 0
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """Re-check now (a credential changed somewhere)."""
        self._wake.set()

    async def run(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.interval)
            self._wake.clear()
            try:
                await self.check()
            except (psycopg.Error, OSError) as exc:
                log.warning("could not re-check socket credentials: %s", type(exc).__name__)
            except Exception:
                log.exception("socket credential check failed")

    async def check(self) -> None:
        """One query for every open socket's credential; end or re-apply as needed."""
        clients = [c for c in self.hub.clients if c.credential is not None and not c.closed]
        self.checks += 1
        if not clients:
            return
        sessions = {
            c.credential.key for c in clients if c.credential and c.credential.kind == "session"
        }
        tokens = {
            c.credential.key for c in clients if c.credential and c.credential.kind == "token"
        }
        async with self.db.connection() as tx:
            in_force = await credentials_in_force(tx, sessions, tokens, self.idle_seconds)
        for client in clients:
            assert client.credential is not None
            if client.closed:
                continue
            actor = in_force.get(client.credential.key)
            if actor is None:
                self.hub.end(client, "credentials ended")
                if self.cache is not None:  # nor may a request use it
                    self.cache.forget(client.credential.key)
            elif actor != client.actor:
                for name in await self.hub.reapply(client, actor):
                    if self.on_topic_lost is not None:
                        await self.on_topic_lost(client, name)
