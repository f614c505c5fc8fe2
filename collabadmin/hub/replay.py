"""Resuming: what a client missed between its cursor and the hub's position.

A subscribe with ``since`` goes live at the hub's position P at once (see
:mod:`collabadmin.hub.hub`); what it missed from its cursor up to P is sent
from here, by a task of its own, while the topic's live frames are held
behind it. The hub records the upper snapshot of every batch it reads
(:meth:`Replays.record`), and a replay splits what it reads at those same
boundaries, so a resumed client sees changes in the order a live one did,
not merely in id order.

The work is bounded whatever the cursor says: one query of at most
``replay_limit`` entries (beyond that the client is told to ``resync``), at
most ``replay_concurrency`` replays at a time (each holds a database
connection), and a yield to the event loop between chunks of frames.
"""

from __future__ import annotations

import asyncio
import bisect
import time
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager

import psycopg

from collabadmin.changelog.batches import read_missed, visible_in
from collabadmin.changelog.position import Position, snapshot_order
from collabadmin.db.engine import Database, Row, Tx
from collabadmin.hub.clients import Client
from collabadmin.hub.settings import HubSettings
from collabadmin.hub.topics import Topic

__all__ = ["Replays"]

# A recorded batch boundary: (sort key, upper snapshot, when it was read).
_Tick = tuple[tuple[int, int], str, float]

# Offers ``entries`` of the batch at a position to ``subscriptions`` (replay frames).
Deliver = Callable[[Tx, Sequence[Row], Position, dict[str, dict[Client, Topic]]], Awaitable[object]]


class Replays:
    """The hub's batch boundaries, and the bounded replays read along them."""

    def __init__(
        self,
        db: Database,
        settings: HubSettings,
        deliver: Deliver,
        delivering: Callable[[], AbstractAsyncContextManager[None]],
    ) -> None:
        self.db = db
        self.settings = settings
        self._deliver = deliver
        self._delivering = delivering
        self.slots = asyncio.Semaphore(settings.replay_concurrency)
        # Upper snapshots of the batches read, oldest first.
        self.ticks: deque[_Tick] = deque(maxlen=settings.tick_history)
        self.reads = 0  # change-log reads of replays

    def record(self, upper: str) -> None:
        """The hub read a batch up to snapshot ``upper``."""
        self.ticks.append((snapshot_order(upper), upper, time.time()))

    def _between(self, after: str, upto: Position) -> list[_Tick]:
        """Recorded batch boundaries later than ``after`` up to ``upto``, oldest first.

        Two binary searches and a slice (no per-tick Python work): the
        history holds up to ``tick_history`` boundaries.
        """
        ticks = list(self.ticks)
        start = bisect.bisect_right(ticks, snapshot_order(after), key=_tick_order)
        end = bisect.bisect_right(ticks, snapshot_order(upto.upper), key=_tick_order)
        between = ticks[start:end]
        if not between or between[-1][1] != upto.upper:
            between.append((snapshot_order(upto.upper), upto.upper, upto.at))
        return between

    async def cursor_in_order(self, since: Position, now: Position) -> bool:
        """The cursor's snapshots are in order and not ahead of the hub's position ``now``.

        Their syntax was checked when the cursor was decoded; this compares
        them with the hub's position, which only moves forward.
        """
        try:
            async with self.db.connection() as tx:
                ordered = await tx.value(
                    "SELECT pg_snapshot_xmin(%(l)s::pg_snapshot)"
                    " <= pg_snapshot_xmin(%(u)s::pg_snapshot)"
                    " AND pg_snapshot_xmax(%(u)s::pg_snapshot)"
                    " <= pg_snapshot_xmax(%(now)s::pg_snapshot)",
                    {"l": since.lower, "u": since.upper, "now": now.upper},
                )
        except psycopg.DataError:
            return False
        return bool(ordered)

    async def replay(
        self,
        client: Client,
        topic: Topic,
        since: Position,
        upto: Position,
        resources: list[str] | None,
    ) -> bool:
        """Send what ``client`` missed on ``topic`` up to ``upto``; False if too far back.

        ``resources`` are the log resources whose entries may go to the topic
        (None: all, for the audit). One read of at most ``replay_limit``
        entries, split into the batches the live stream delivered. The
        cursor's time is the client's word; it only decides between
        replaying (bounded) and resync, so trusting it costs nothing.
        """
        if time.time() - since.at > self.settings.replay_window:
            return False
        limit = self.settings.replay_limit
        chunk = self.settings.replay_chunk
        async with self.slots, self.db.connection() as tx:
            self.reads += 1
            entries = await read_missed(
                tx,
                since.lower,
                since.upper,
                since.after_id,
                upto.upper,
                limit=limit + 1,
                resources=resources,
            )
            if len(entries) > limit:
                return False
            only = {topic.name: {client: topic}}
            for span, rows in await _into_batches(entries, since, self._between(since.upper, upto)):
                for start in range(0, len(rows), chunk):
                    if client.closed or client.topics.get(topic.name) is not topic:
                        return False
                    overflows = client.overflows
                    async with self._delivering():
                        await self._deliver(tx, rows[start : start + chunk], span, only)
                    if client.overflows != overflows:
                        return False
                    # Let the hub and every other socket run between chunks.
                    await asyncio.sleep(0)
        return not client.closed and client.topics.get(topic.name) is topic


def _tick_order(tick: _Tick) -> tuple[int, int]:
    return tick[0]


async def _into_batches(
    entries: list[Row], since: Position, ticks: list[_Tick]
) -> list[tuple[Position, list[Row]]]:
    """Split entries (by id) into the batches between ``since`` and each tick in turn.

    An entry belongs to the first batch whose upper snapshot sees its
    transaction (visibility only grows from one boundary to the next), found
    by binary search; the rest of the cursor's own batch comes first. Yields
    to the event loop now and then: this is CPU work of up to
    ``replay_limit`` entries.
    """
    groups: dict[int, list[Row]] = {}
    positions = range(len(ticks))
    for count, entry in enumerate(entries, 1):
        txid = int(entry.pop("txid"))
        if not since.at_boundary and visible_in(txid, since.upper):
            index = -1
        else:
            index = bisect.bisect_left(positions, True, key=lambda i: visible_in(txid, ticks[i][1]))
            index = min(index, len(ticks) - 1)  # every entry read is visible in the last
        groups.setdefault(index, []).append(entry)
        if count % 500 == 0:
            await asyncio.sleep(0)
    batches = []
    for index in sorted(groups):
        if index == -1:
            span = Position(since.lower, since.upper, 0, since.at)
        else:
            lower = since.upper if index == 0 else ticks[index - 1][1]
            span = Position(lower, ticks[index][1], 0, ticks[index][2])
        batches.append((span, groups[index]))
    return batches
