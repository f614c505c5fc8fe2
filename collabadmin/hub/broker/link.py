"""The instance's one NATS connection, and the stream of change batches.

The connection reconnects by itself, forever, while the instance lives
(NATS restarted, a network blip); what was subscribed is subscribed again,
and the parts that depend on the connection look at :attr:`Link.state`.
Starting needs NATS: an instance started in broker mode without a
reachable NATS server refuses to start, as it does without its database.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal

import nats
import nats.errors
import nats.js.errors
from nats.aio.client import Client as Nats
from nats.js import JetStreamContext
from nats.js.api import DiscardPolicy, RetentionPolicy, StorageType, StreamConfig

from collabadmin.hub.broker.wire import PartHeaders, parse_part

__all__ = ["BrokerError", "Link", "StreamTail", "default_stream_name", "still_wanted"]

log = logging.getLogger("collabadmin.hub.broker")

State = Literal["connecting", "connected", "reconnecting", "closed"]
# Errors of a NATS operation that a retry may get past (NATS away, a timeout).
NATS_ERRORS = (nats.errors.Error, OSError, asyncio.TimeoutError)


_DESCRIBED = "collabadmin change batches of database "


class BrokerError(ValueError):
    """Broker mode cannot work as configured (said in words for the operator)."""


def still_wanted() -> None:
    """Raise CancelledError if this task was asked to stop.

    On Python 3.11 ``asyncio.wait_for`` (which nats-py and psycopg_pool use)
    swallows a cancellation that arrives as its wait ends; the request to
    stop is still counted on the task, so loops that must end when told ask
    here once a turn.
    """
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError


def default_stream_name(database: str) -> str:
    """``COLLABADMIN_<database>``: one stream per database, in a name NATS accepts."""
    return "COLLABADMIN_" + re.sub(r"[^A-Za-z0-9_-]", "_", database)


@dataclass(frozen=True, slots=True)
class StreamTail:
    """The stream's last message: its sequence and place in its batch (None if empty)."""

    first_seq: int
    last_seq: int
    created: str
    part: PartHeaders | None


class Link:
    """A NATS connection with JetStream, for one stream of one database."""

    def __init__(self, url: str, stream: str, database: str, *, max_age: float) -> None:
        self.servers = [u.strip() for u in url.split(",") if u.strip()]
        if not self.servers or not all(s.startswith(("nats://", "tls://")) for s in self.servers):
            raise BrokerError("COLLABADMIN_BROKER must be nats:// URLs, comma-separated")
        if not re.fullmatch(r"[A-Za-z0-9_-]{1,200}", stream):
            raise BrokerError("the broker stream name may hold only letters, digits, '_' and '-'")
        self.stream = stream
        self.prefix = stream
        self.database = database
        self.max_age = max_age
        self.state: State = "connecting"
        self.nc: Nats | None = None
        self._js: JetStreamContext | None = None
        self._reconnected: list[Callable[[], Awaitable[None]]] = []
        self._errors: set[str] = set()

    @property
    def js(self) -> JetStreamContext:
        assert self._js is not None, "the link is not connected"
        return self._js

    @property
    def connected(self) -> bool:
        return self.nc is not None and self.nc.is_connected

    @property
    def max_payload(self) -> int:
        """The largest message NATS takes (its ``max_payload``)."""
        return self.nc.max_payload if self.nc is not None else 1024 * 1024

    def subject(self, token: str) -> str:
        return f"{self.prefix}.changes.{token}"

    def on_reconnected(self, callback: Callable[[], Awaitable[None]]) -> None:
        self._reconnected.append(callback)

    async def connect(self, seconds: float = 10.0) -> None:
        """Connect (retrying for up to ``seconds``), then make sure the stream exists."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        try:
            # Once connected it reconnects forever; so does a first connect,
            # which is why it is given a deadline.
            self.nc = await asyncio.wait_for(
                nats.connect(
                    servers=self.servers,
                    name=f"collabadmin {self.stream}",
                    connect_timeout=2,
                    reconnect_time_wait=0.25,
                    max_reconnect_attempts=-1,
                    error_cb=self._error,
                    disconnected_cb=self._disconnected,
                    reconnected_cb=self._back,
                    closed_cb=self._closed,
                ),
                max(0.1, deadline - loop.time()),
            )
        except NATS_ERRORS as exc:
            raise BrokerError(
                f"cannot reach NATS at COLLABADMIN_BROKER ({type(exc).__name__})"
            ) from None
        self._js = self.nc.jetstream(timeout=2.0)
        self.state = "connected"
        await self._ensure_stream()

    async def close(self) -> None:
        self.state = "closed"
        if self.nc is not None and not self.nc.is_closed:
            await self.nc.close()

    def _description(self) -> str:
        return f"{_DESCRIBED}{self.database}"

    async def _ensure_stream(self) -> None:
        config = StreamConfig(
            name=self.stream,
            description=self._description(),
            subjects=[f"{self.prefix}.changes.>"],
            retention=RetentionPolicy.LIMITS,
            storage=StorageType.FILE,
            discard=DiscardPolicy.OLD,
            max_age=self.max_age,
            duplicate_window=120.0,
        )
        try:
            info = await self.js.stream_info(self.stream)
        except nats.js.errors.NotFoundError:
            try:
                await self.js.add_stream(config)
                return
            except nats.js.errors.BadRequestError:
                # Another instance created it at the same moment.
                info = await self.js.stream_info(self.stream)
        existing = info.config
        theirs = existing.description or ""
        if theirs.startswith(_DESCRIBED) and theirs != config.description:
            raise BrokerError(
                f"the NATS stream {self.stream} carries another database's changes"
                f" ({theirs!r}): set COLLABADMIN_BROKER_STREAM"
            )
        if (existing.description, existing.max_age, existing.subjects) != (
            config.description,
            config.max_age,
            config.subjects,
        ):
            # A stream made by an operator (replicated, placed) is adopted:
            # only what collabadmin relies on changes.
            existing.description = config.description
            existing.max_age = config.max_age
            existing.subjects = config.subjects
            await self.js.update_stream(existing)

    async def tail(self) -> StreamTail:
        """Where the stream ends now (one stream info request, and one read of the last).

        A stream that is gone (deleted by an operator) is made anew, empty.
        """
        try:
            info = await self.js.stream_info(self.stream)
        except nats.js.errors.NotFoundError:
            await self._ensure_stream()
            info = await self.js.stream_info(self.stream)
        state = info.state
        created = str(info.created or "")
        part = None
        if state.messages and state.last_seq >= state.first_seq:
            try:
                message = await self.js.get_msg(self.stream, seq=state.last_seq)
                part = parse_part(message.headers)
            except nats.js.errors.NotFoundError:
                part = None  # aged out just now: as if empty
        return StreamTail(state.first_seq, state.last_seq, created, part)

    async def _error(self, exc: Exception) -> None:
        # Once per kind of error until the connection is back: not every 0.25 s.
        kind = type(exc).__name__
        if kind not in self._errors:
            self._errors.add(kind)
            log.warning("NATS: %s", kind)

    async def _disconnected(self) -> None:
        if self.state != "closed":
            self.state = "reconnecting"
            log.warning("NATS connection lost; reconnecting")

    async def _back(self) -> None:
        self.state = "connected"
        self._errors.clear()
        log.info("NATS connection back")
        for callback in self._reconnected:
            try:
                await callback()
            except Exception:
                log.exception("reconnect callback failed")

    async def _closed(self) -> None:
        self.state = "closed"
