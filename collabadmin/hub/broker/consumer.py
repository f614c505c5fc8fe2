"""Every instance's reader of the stream: the hub's source of batches in broker mode.

An ordered consumer (ephemeral, in stream order, re-created by the client
library from the next sequence whenever a message or a heartbeat goes
missing, the consumer is deleted or NATS restarts) brings the parts of each
batch; once a batch's parts are all in, it is handed to the hub
(:class:`~collabadmin.hub.source.BatchSource`).

The consumer checks the chain itself rather than trusting the stream: it
keeps the snapshot it has delivered up to (its *position*) and each entry
carries its transaction id, so

- a batch that ends at or before the position was delivered already: dropped;
- a batch that begins before the position (a publisher resumed from the
  database's older record after the stream lost its messages) is delivered
  without the entries visible in the position;
- a batch that begins after the position means batches were lost (the
  stream's storage was wiped, messages aged out, a part is missing): what
  is missing is read from the log (at most ``fill_limit`` entries; beyond
  that every subscriber is told to resync).

So every instance delivers every change exactly once, in commit order,
whatever the stream did, and reads the log only when the stream lost data.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import msgspec
import psycopg
from nats.aio.msg import Msg
from nats.js.api import ConsumerConfig, DeliverPolicy

from collabadmin.changelog.batches import read_between, visible_in
from collabadmin.changelog.position import snapshot_order
from collabadmin.db.engine import Database, Row
from collabadmin.hub.broker.link import NATS_ERRORS, Link, still_wanted
from collabadmin.hub.broker.store import recorded_position
from collabadmin.hub.broker.wire import PartHeaders, decode_entries, parse_part
from collabadmin.hub.source import Batch

__all__ = ["StreamConsumer"]

log = logging.getLogger("collabadmin.hub.broker")

WATCH_EVERY = 1.0  # seconds between two looks at the stream (lag, a stream made anew)


@dataclass
class _Assembly:
    """A batch whose parts are coming in."""

    lower: str
    upper: str
    received: int = 0
    intact: bool = True
    entries: list[Row] = field(default_factory=list)


class StreamConsumer:
    def __init__(
        self, db: Database, link: Link, *, heartbeat: float = 1.0, fill_limit: int = 10_000
    ) -> None:
        self.db = db
        self.link = link
        self.heartbeat = heartbeat
        self.fill_limit = fill_limit
        self.position = ""  # the snapshot delivered up to
        self.sequence = 0  # the last stream sequence taken
        self.stream_last = 0  # the stream's last sequence, as last seen
        # Counters (for /metrics): batches taken, and what the chain checks did.
        self.batches = 0
        self.dropped = 0  # batches already delivered
        self.overlaps = 0  # batches that began before the position
        self.gaps = 0  # losses filled from the log (or resync)
        self.log_reads = 0
        self.restarts = 0  # the stream was made anew: read again from its start
        self._batches: deque[Batch] = deque()
        self._assembly: _Assembly | None = None
        self._ready: Callable[[], None] = lambda: None
        self._created = ""
        self._lock = asyncio.Lock()
        self._sub: object | None = None
        self._watch: asyncio.Task[None] | None = None

    @property
    def lag(self) -> int:
        """Messages in the stream this instance has not taken yet."""
        return max(0, self.stream_last - self.sequence)

    # -- BatchSource ---------------------------------------------------------

    async def begin(self, ready: Callable[[], None]) -> str:
        self._ready = ready
        tail = await self.link.tail()
        if tail.part is not None:
            # Start after the stream's last message: its batch ends where we start.
            self.position = tail.part.upper
        else:
            self.position = await recorded_position(self.db, self.link.stream)
        self._created = tail.created
        self.stream_last = tail.last_seq
        await self._subscribe(tail.last_seq + 1)
        self._watch = asyncio.create_task(self._watch_stream(), name="collabadmin-stream-watch")
        return self.position

    def pending(self) -> Sequence[Batch]:
        return list(self._batches)

    def delivered(self, batch: Batch) -> None:
        if self._batches and self._batches[0] is batch:
            self._batches.popleft()

    async def stop(self) -> None:
        if self._watch is not None:
            self._watch.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watch
        await self._unsubscribe()

    # -- the subscription ----------------------------------------------------

    async def _subscribe(self, start: int) -> None:
        self.sequence = start - 1
        self._sub = await self.link.js.subscribe(
            self.link.subject(">"),
            stream=self.link.stream,
            cb=self._on_message,
            ordered_consumer=True,
            idle_heartbeat=self.heartbeat,
            deliver_policy=DeliverPolicy.BY_START_SEQUENCE,
            config=ConsumerConfig(opt_start_seq=max(1, start)),
        )

    async def _unsubscribe(self) -> None:
        sub, self._sub = self._sub, None
        if sub is not None:
            with contextlib.suppress(*NATS_ERRORS):
                await sub.unsubscribe()  # type: ignore[attr-defined]

    async def _on_message(self, msg: Msg) -> None:
        async with self._lock:
            meta = msg.metadata
            if meta.sequence.stream <= self.sequence:
                return  # redelivered after a reset of the consumer
            self.sequence = meta.sequence.stream
            self.stream_last = max(self.stream_last, self.sequence + meta.num_pending)
            part = parse_part(msg.headers)
            if part is None:
                log.warning("skipped a message of the stream that is not a change batch")
                return
            while True:
                still_wanted()
                try:
                    await self._take(part, msg.data)
                    return
                except (psycopg.Error, OSError) as exc:
                    # Filling a gap needs the database: try again until it answers.
                    log.warning("could not read the change log: %s", type(exc).__name__)
                    await asyncio.sleep(0.5)

    async def _watch_stream(self) -> None:
        """Lag, and a stream made anew (deleted, or its storage wiped): read it from its start."""
        while True:
            still_wanted()
            await asyncio.sleep(WATCH_EVERY)
            # Under the lock: no message is taken meanwhile, so the stream's last
            # sequence is never older than the one this consumer has taken.
            async with self._lock:
                try:
                    info = await self.link.js.stream_info(self.link.stream)
                except NATS_ERRORS:
                    continue
                except Exception:
                    log.exception("could not look at the stream")
                    continue
                created = str(info.created or "")
                renewed = created != self._created or info.state.last_seq < self.sequence
                self.stream_last = info.state.last_seq
                if not renewed:
                    continue
                log.warning("the stream %s was made anew; reading it again", self.link.stream)
                self._created = created
                self.restarts += 1
                self._assembly = None
                await self._unsubscribe()
                with contextlib.suppress(*NATS_ERRORS):
                    await self._subscribe(info.state.first_seq)

    # -- the chain -----------------------------------------------------------

    async def _take(self, part: PartHeaders, payload: bytes) -> None:
        assembly = self._assembly
        if assembly is not None and (assembly.lower, assembly.upper) != (part.lower, part.upper):
            # Another batch began before this one was whole: it never will be.
            self._assembly = None
            await self._accept(assembly.lower, assembly.upper, None)
            assembly = None
        if assembly is None:
            assembly = self._assembly = _Assembly(part.lower, part.upper)
        if part.index != assembly.received + 1 or part.omitted:
            assembly.intact = False  # a part is missing, or came without its entries
        elif assembly.intact:
            try:
                assembly.entries.extend(decode_entries(payload))
            except (msgspec.DecodeError, msgspec.ValidationError):
                log.warning("a part of the stream could not be read")
                assembly.intact = False
        assembly.received = part.index
        if part.last:
            self._assembly = None
            entries = assembly.entries if assembly.intact else None
            await self._accept(assembly.lower, assembly.upper, entries)

    async def _accept(self, lower: str, upper: str, entries: list[Row] | None) -> None:
        """Hand batch (lower, upper] to the hub, chained to the position (None: read it)."""
        position = self.position
        if snapshot_order(upper) <= snapshot_order(position):
            self.dropped += 1
            return
        if entries is None:
            # Its parts are not all here: the whole batch comes from the log.
            self.gaps += 1
            self._push(await self._fill(position, upper))
        else:
            if snapshot_order(lower) > snapshot_order(position):
                # Batches before this one are missing: read them from the log.
                self.gaps += 1
                self._push(await self._fill(position, lower))
            elif lower != position:
                # It begins before the position: leave out what was delivered.
                self.overlaps += 1
                entries = [e for e in entries if not visible_in(int(e["txid"]), position)]
                lower = position
            entries.sort(key=lambda e: int(e["id"]))
            self._push(Batch(lower, upper, entries, self.sequence))
        self.position = upper
        self.batches += 1
        self._ready()

    async def _fill(self, lower: str, upper: str) -> Batch:
        async with self.db.connection() as tx:
            self.log_reads += 1
            rows = await read_between(tx, lower, upper, limit=self.fill_limit + 1)
        if len(rows) > self.fill_limit:
            log.warning("the stream lost more changes than can be read back: resync")
            return Batch(lower, upper, [], 0, resync=True)
        log.warning("the stream lost %d changes; read them from the log", len(rows))
        return Batch(lower, upper, rows, 0)

    def _push(self, batch: Batch) -> None:
        self._batches.append(batch)
