"""Where the hub's batches come from when it does not read the change log itself.

By default each instance's hub reads the log in snapshot batches
(:func:`collabadmin.changelog.batches.read_since`). In broker mode
(:mod:`collabadmin.hub.broker`) one instance reads it and publishes the
batches to a stream, and every hub takes them from a :class:`BatchSource`
instead: the same batches, cut at the same snapshots, for every instance.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from collabadmin.changelog.position import Position, snapshot_order
from collabadmin.db.engine import Row

if TYPE_CHECKING:
    from collabadmin.hub.hub import Hub

__all__ = ["Batch", "BatchSource", "SourceSteps"]

log = logging.getLogger("collabadmin.hub")


@dataclass(frozen=True, slots=True)
class Batch:
    """The entries committed between snapshots ``lower`` and ``upper``, by id.

    ``sequence`` is where the batch ends in the stream it came from (0 when
    it did not come from one, e.g. read from the log to fill a gap).
    ``resync``: the entries could not be had (too many to read back); every
    subscriber is told to resync, and the stream goes on from ``upper``.
    """

    lower: str
    upper: str
    entries: list[Row]
    sequence: int = 0
    resync: bool = False


class BatchSource(Protocol):
    async def begin(self, ready: Callable[[], None]) -> str:
        """Start; returns the snapshot the first batch starts at.

        ``ready()`` is called whenever batches are waiting.
        """
        ...

    def pending(self) -> Sequence[Batch]:
        """The batches waiting, in order: each starts where the one before ended."""
        ...

    def delivered(self, batch: Batch) -> None:
        """``batch`` (the first pending one) was delivered: forget it."""
        ...


class SourceSteps:
    """The hub's steps in broker mode: deliver the batches a source has waiting.

    What the hub does with a batch is the same as with one it read itself
    (record its boundary for replays, fan it out, move its position); only
    where batches come from differs.
    """

    def __init__(self, hub: Hub, source: BatchSource) -> None:
        self.hub = hub
        self.source = source
        self._moved = asyncio.Event()

    async def begin(self) -> str:
        return await self.source.begin(self.hub.wake)

    async def step(self) -> None:
        hub = self.hub
        assert hub.position is not None
        for batch in list(self.source.pending()):
            if batch.lower != hub.position.upper:
                # The source guarantees a chain of batches; a break is a bug there.
                log.error("batch does not start at the hub's position; skipped")
                self.source.delivered(batch)
                continue
            span = Position(batch.lower, batch.upper, 0, time.time())
            hub.replays.record(batch.upper)
            if batch.resync:
                self._resync_everyone()
            elif batch.entries:
                await self._deliver(batch, span)
            hub.position = Position.boundary(batch.upper)
            self.source.delivered(batch)
            self._moved.set()
            self._moved = asyncio.Event()
        # The position is as fresh as now, even when nothing was committed.
        hub.position = Position.boundary(hub.position.upper)

    async def _deliver(self, batch: Batch, span: Position) -> None:
        hub = self.hub
        entries = [{k: v for k, v in e.items() if k != "txid"} for e in batch.entries]
        if not hub.subscriptions:
            # Nobody here follows anything: no connection, no frames.
            await hub.deliver_live(None, entries, span)
            return
        async with hub.db.connection() as tx:
            await hub.deliver_live(tx, entries, span)

    def _resync_everyone(self) -> None:
        """Every subscription ends with ``resync`` (changes were lost to the stream)."""
        hub = self.hub
        hub.too_far_back += sum(len(c.topics) for c in hub.clients)
        for client in list(hub.clients):
            for name in list(client.topics):
                hub.unsubscribe(client, name)
                client.send({"type": "resync", "topic": name})

    async def caught_up(self, since: Position, seconds: float) -> None:
        """Wait (up to ``seconds``) until the hub has reached cursor ``since``.

        A cursor issued by an instance a few batches further along the
        stream is valid here too, as soon as this hub has taken those
        batches.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while self.hub.position is not None and snapshot_order(since.upper) > snapshot_order(
            self.hub.position.upper
        ):
            remaining = deadline - loop.time()
            if remaining <= 0:
                return
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(remaining):
                    await self._moved.wait()
