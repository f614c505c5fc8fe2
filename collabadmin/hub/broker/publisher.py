"""The leader's work: read the change log in batches and append them to the stream.

While this instance leads (:mod:`collabadmin.hub.broker.election`) it reads
the log the way the hub does without a broker, from the snapshot where the
stream ends, and appends each non-empty batch as its parts
(:mod:`collabadmin.hub.broker.wire`). Every part is appended only right
after the message the publisher read last (``Nats-Expected-Last-Sequence``),
so the stream stays one unbroken chain of batches even if two instances
briefly both believe they lead: the second append fails, and its publisher
resumes from the stream's tail, as a new leader does.

Resuming: the stream's last message says where publishing got to. If it
ends a batch, publishing goes on from that batch's upper snapshot; if the
previous leader died between two parts of a batch, the batch is read again
from the log (a batch is defined by its two snapshots, so it reads the same)
and its remaining parts are published. A stream with no messages resumes
from the position the database records (:mod:`collabadmin.hub.broker.store`).
So a leader's death loses and repeats nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Sequence

import nats.js.errors
import psycopg

from collabadmin.changelog.batches import read_batch, read_between
from collabadmin.db.engine import Database
from collabadmin.hub.broker.link import NATS_ERRORS, Link, still_wanted
from collabadmin.hub.broker.store import record_position, recorded_position
from collabadmin.hub.broker.wire import Part, split, subject_token

__all__ = ["Publisher"]

log = logging.getLogger("collabadmin.hub.broker")

WRONG_LAST_SEQUENCE = 10071
HEADER_ROOM = 64 * 1024
RECORD_EVERY = 1.0  # seconds between two writes of the position to the database


class _Overtaken(Exception):
    """Someone else appended to the stream: resume from its tail."""


class Publisher:
    """Reads the log and publishes its batches, while :meth:`lead` runs."""

    def __init__(self, db: Database, link: Link, *, interval: float) -> None:
        self.db = db
        self.link = link
        self.interval = interval
        self.reads = 0  # change-log reads (one per batch, and per batch completed)
        self.published = 0  # batches appended (by this publisher, not found there already)
        self.resumes = 0
        self.position: str | None = None  # the upper snapshot of the last batch published
        self.sequence = 0  # the stream sequence of its last part
        self._wake = asyncio.Event()

    def wake(self) -> None:
        self._wake.set()

    async def lead(self) -> None:
        """Publish for as long as this instance leads (the task is cancelled when it stops)."""
        while True:
            still_wanted()
            try:
                await self._publish_from_tail()
            except _Overtaken:
                log.warning("another publisher appended to the stream; resuming from its tail")
            except (psycopg.Error, *NATS_ERRORS) as exc:
                log.warning("publishing change batches failed: %s", type(exc).__name__)
                await asyncio.sleep(0.25)
            except Exception:
                log.exception("publishing change batches failed")
                await asyncio.sleep(1.0)

    async def _publish_from_tail(self) -> None:
        position, expected = await self._resume()
        self.position, self.sequence = position, expected
        recorded = time.monotonic()
        while True:
            still_wanted()
            # asyncio.timeout, not wait_for: on Python 3.11 wait_for may swallow a
            # cancellation that comes as the wait ends, and leading must stop when told.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.interval):
                    await self._wake.wait()
            self._wake.clear()
            async with self.db.connection() as tx:
                self.reads += 1
                upper, entries = await read_batch(tx, position)
            if not entries:
                # Nothing committed: the next batch still starts where the stream ends.
                continue
            expected = await self._append(position, upper, split(entries), expected)
            position = upper
            self.position, self.sequence = position, expected
            if time.monotonic() - recorded >= RECORD_EVERY:
                await record_position(self.db, self.link.stream, position, expected)
                recorded = time.monotonic()

    async def _resume(self) -> tuple[str, int]:
        """Where the stream ends: (the snapshot to publish from, the last sequence)."""
        self.resumes += 1
        tail = await self.link.tail()
        part = tail.part
        if part is None:
            # No batch in the stream (new, or its messages were lost): the database's record.
            return await recorded_position(self.db, self.link.stream), tail.last_seq
        if part.last:
            return part.upper, tail.last_seq
        # The last leader died between two parts of a batch: publish the rest of it.
        async with self.db.connection() as tx:
            self.reads += 1
            entries = await read_between(tx, part.lower, part.upper)
        parts = split(entries)
        if len(parts) != part.count:
            # The log no longer holds that batch as it was: consumers fill the gap.
            log.warning("cannot complete the stream's last batch; consumers will read it")
            return part.upper, tail.last_seq
        expected = await self._append(part.lower, part.upper, parts[part.index :], tail.last_seq)
        return part.upper, expected

    async def _append(self, lower: str, upper: str, parts: Sequence[Part], expected: int) -> int:
        """Append ``parts`` of batch (lower, upper] right after ``expected``; the last sequence."""
        fresh = False
        for part in parts:
            still_wanted()
            # Room for the headers (two snapshots) under NATS's limit.
            omitted = len(part.payload) > self.link.max_payload - HEADER_ROOM
            try:
                ack = await self.link.js.publish(
                    self.link.subject(subject_token(part.resource)),
                    b"" if omitted else part.payload,
                    headers=part.headers(lower, upper, expected, omitted=omitted),
                )
            except nats.js.errors.APIError as exc:
                if exc.err_code == WRONG_LAST_SEQUENCE:
                    raise _Overtaken from None
                raise
            expected = ack.seq
            fresh = fresh or not ack.duplicate
        if fresh:
            # (Not a batch another publisher had appended already, same snapshots.)
            self.published += 1
        return expected
