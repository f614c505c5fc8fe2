"""Presence across instances over NATS instead of PostgreSQL's NOTIFY.

The messages are the ones :class:`~collabadmin.hub.presence.Presence`
sends over NOTIFY without a broker (join, change, leave, and the
heartbeat that re-announces each member), on the core NATS subject
``{prefix}.presence``: nothing is stored, and a member not heard from for
the expiry is dropped, as before. An instance that starts, or whose NATS
connection comes back, asks the others to re-announce their members at once
(``{prefix}.presence.sync``), so it knows who is where within milliseconds
rather than a heartbeat later; and it re-announces its own, which the others
may have expired meanwhile.
"""

from __future__ import annotations

import logging

from nats.aio.msg import Msg

from collabadmin.hub.broker.link import NATS_ERRORS, Link
from collabadmin.hub.presence import Presence

__all__ = ["NatsPresence"]

log = logging.getLogger("collabadmin.hub.broker")


class NatsPresence:
    def __init__(self, link: Link, presence: Presence) -> None:
        self.link = link
        self.presence = presence
        self.subject = f"{link.prefix}.presence"
        self.sync_subject = f"{link.prefix}.presence.sync"
        self.received = 0

    async def start(self) -> None:
        nc = self.link.nc
        assert nc is not None
        await nc.subscribe(self.subject, cb=self._message)
        await nc.subscribe(self.sync_subject, cb=self._sync)
        self.presence.transport = self.publish
        self.link.on_reconnected(self._back)
        await self._ask()

    async def publish(self, payload: str) -> None:
        nc = self.link.nc
        if nc is None or not nc.is_connected:
            return  # the heartbeat repeats it once NATS is back
        await nc.publish(self.subject, payload.encode())

    async def _ask(self) -> None:
        nc = self.link.nc
        if nc is not None:
            try:
                await nc.publish(self.sync_subject, self.presence.instance.encode())
            except NATS_ERRORS as exc:
                log.warning("could not ask for presence: %s", type(exc).__name__)

    async def _back(self) -> None:
        await self._ask()
        await self.presence.reannounce()

    async def _message(self, msg: Msg) -> None:
        self.received += 1
        try:
            self.presence.received(msg.data.decode())
        except UnicodeDecodeError:
            return

    async def _sync(self, msg: Msg) -> None:
        if msg.data.decode(errors="replace") != self.presence.instance:
            await self.presence.reannounce()
