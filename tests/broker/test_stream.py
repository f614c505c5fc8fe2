"""The stream of batches itself: publishing, resuming, and a consumer that trusts nothing.

In one process, against the real NATS and PostgreSQL, with the faults made
by hand: a leader that died between two parts of a batch, two publishers at
once, a publisher resuming from an old position, messages lost from the
stream, the stream deleted under a running consumer.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import decimal
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

import psycopg
import pytest

from collabadmin.changelog.batches import read_batch, read_between
from collabadmin.changelog.changes import change_body
from collabadmin.db.engine import Database, Row
from collabadmin.hub.broker.consumer import StreamConsumer
from collabadmin.hub.broker.link import Link
from collabadmin.hub.broker.publisher import Publisher
from collabadmin.hub.broker.store import recorded_position
from collabadmin.hub.broker.wire import decode_entries, parse_part, split, subject_token
from collabadmin.hub.clients import encode_frame
from collabadmin.hub.source import Batch

DEADLINE = 20.0


@pytest.fixture
async def db(database_url: str, fresh_data: None) -> AsyncIterator[Database]:
    database = Database(database_url, pool_size=3)
    yield database
    await database.dispose()


@pytest.fixture
async def link(nats_url: str, stream: str, database_url: str) -> AsyncIterator[Link]:
    connected = Link(nats_url, stream, "tests", max_age=3600.0)
    await connected.connect()
    yield connected
    await connected.close()


def write(conninfo: str, *statements: str) -> None:
    """One transaction of outside SQL (the capture trigger logs it with source 'db')."""
    with psycopg.connect(conninfo, autocommit=True) as conn, conn.transaction():
        for statement in statements:
            conn.execute(statement)


@dataclass
class Taker:
    """Takes the batches a consumer hands over, as the hub would."""

    consumer: StreamConsumer
    batches: list[Batch] = field(default_factory=list)
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    def ready(self) -> None:
        for batch in self.consumer.pending():
            self.batches.append(batch)
            self.consumer.delivered(batch)
        self.changed.set()

    def ids(self) -> list[int]:
        """The change log's entries received, in order.

        A live view's moves (source ``view``) travel in the same batches but
        are written by the evaluator whenever it catches up (after a test
        database is reset, for every course), so they are left out here.
        """
        return [int(e["id"]) for b in self.batches for e in b.entries if e["source"] != "view"]

    async def until(self, check: Callable[[], bool]) -> None:
        async def wait() -> None:
            while not check():
                self.changed.clear()
                await self.changed.wait()

        await asyncio.wait_for(wait(), DEADLINE)


async def start_consumer(db: Database, link: Link) -> Taker:
    consumer = StreamConsumer(db, link, heartbeat=0.5)
    taker = Taker(consumer)
    await consumer.begin(taker.ready)
    return taker


def chained(batches: list[Batch], start: str) -> bool:
    position = start
    for batch in batches:
        if batch.lower != position:
            return False
        position = batch.upper
    return True


def logged_ids(conninfo: str, after: int = 0) -> list[int]:
    """The change log's entries after ``after`` (see :meth:`Taker.ids` for the derived log)."""
    with psycopg.connect(conninfo) as conn:
        return [
            r[0]
            for r in conn.execute(
                "SELECT id FROM collabadmin.collabadmin_change WHERE id > %s ORDER BY id", (after,)
            )
        ]


def test_parts_carry_entries_exactly() -> None:
    at = dt.datetime(2026, 12, 1, 10, 30, 0, 123456, tzinfo=dt.UTC)
    entries: list[Row] = [
        {
            "id": n,
            "at": at,
            "resource": "orders" if n % 2 else "order.lines*>",
            "pk": f"{n},\u00e9",
            "op": "update",
            "actor_id": None,
            "actor_name": None,
            "db_role": "app",
            "source": "db",
            "request_id": None,
            "version": 2,
            "diff": {
                "total": {"old": decimal.Decimal("12.50"), "new": decimal.Decimal("1e-30")},
                "note": {"old": "\u2028 line\u00a0sep \U0001f600", "new": None},
                "n": {"old": 2**62, "new": 0.1},
            },
            "txid": 1000 + n,
        }
        for n in range(1, 400)
    ]
    parts = split(entries, limit=8 * 1024)
    assert len(parts) > 2
    assert all(len(p.payload) <= 8 * 1024 for p in parts)
    assert [p.index for p in parts] == list(range(1, len(parts) + 1))
    assert {p.count for p in parts} == {len(parts)}
    # A resource per part, in name order; a subject token NATS accepts.
    assert [p.resource for p in parts] == sorted(p.resource for p in parts)
    assert subject_token("order.lines*>") == "order=2e=lines=2a==3e="
    decoded = [e for p in parts for e in decode_entries(p.payload)]
    assert sorted(decoded, key=lambda e: e["id"]) == entries
    first = decoded[0]["diff"]["total"]
    assert str(first["old"]) == "12.50"
    assert str(first["new"]) == "1E-30"
    headers = parts[0].headers("1:2:", "3:3:", 7)
    assert headers["Nats-Expected-Last-Sequence"] == "7"
    place = parse_part(headers)
    assert place is not None
    assert (place.index, place.count) == (1, len(parts))
    assert parse_part({**headers, "Collabadmin-Part": "3/2"}) is None
    assert parse_part({**headers, "Collabadmin-Lower": "x"}) is None


async def test_frames_from_the_stream_are_those_from_the_log(
    db: Database, link: Link, conninfo: str
) -> None:
    async with db.connection() as tx:
        lower = str(await tx.value("SELECT pg_current_snapshot()::text"))
    write(
        conninfo,
        "UPDATE courses SET title = 'é\u00a0\U0001f600', internal_notes = 'n' WHERE id = 5",
    )
    async with db.connection() as tx:
        _, entries = await read_batch(tx, lower)
    assert entries
    through = [e for p in split(entries) for e in decode_entries(p.payload)]
    for direct, streamed in zip(entries, through, strict=True):
        for readable in (None, frozenset({"title"})):
            assert encode_frame(dict(change_body(direct, readable))) == encode_frame(
                dict(change_body(streamed, readable))
            )


async def test_a_batch_half_published_by_a_dead_leader_is_completed(
    db: Database, link: Link, conninfo: str, stream: str
) -> None:
    start = await recorded_position(db, stream)
    write(
        conninfo,
        "UPDATE courses SET title = 'both' WHERE id = 1",
        "UPDATE sessions SET enrollment_open = NOT enrollment_open WHERE id = 1",
    )
    async with db.connection() as tx:
        upper, entries = await read_batch(tx, start)
    parts = split(entries)
    # courses, sessions, and a course_overview part when a live view's
    # evaluator (of a server still running for other tests) moved it in time
    assert {"courses", "sessions"} <= {p.resource for p in parts}
    dead = Publisher(db, link, interval=0.05)
    await dead._append(start, upper, parts[:1], 0)  # then it died

    taker = await start_consumer_at(db, link, start)
    heir = Publisher(db, link, interval=0.05)
    position, sequence = await heir._resume()
    assert (position, sequence) == (upper, len(parts))
    await taker.until(lambda: len(taker.batches) == 1)
    [batch] = taker.batches
    assert (batch.lower, batch.upper) == (start, upper)
    assert [e["id"] for e in batch.entries] == [e["id"] for e in entries]
    assert taker.consumer.gaps == 0
    await taker.consumer.stop()


async def start_consumer_at(db: Database, link: Link, position: str) -> Taker:
    """A consumer that starts at ``position`` and the stream's first message."""
    consumer = StreamConsumer(db, link, heartbeat=0.5)
    taker = Taker(consumer)
    consumer._ready = taker.ready
    consumer.position = position
    await consumer._subscribe(1)
    return taker


async def test_two_publishers_at_once_still_make_one_chain(
    db: Database, link: Link, conninfo: str, stream: str
) -> None:
    first_id = logged_ids(conninfo)[-1] if logged_ids(conninfo) else 0
    start = await recorded_position(db, stream)
    taker = await start_consumer_at(db, link, start)
    publishers = [Publisher(db, link, interval=0.01) for _ in range(2)]
    leading = [asyncio.create_task(p.lead()) for p in publishers]
    try:
        for n in range(30):
            write(conninfo, f"UPDATE universities SET name = 'race {n}' WHERE id = {1 + n % 5}")
            for p in publishers:
                p.wake()
        expected = logged_ids(conninfo, first_id)
        await taker.until(lambda: taker.ids() == expected)
    finally:
        for task in leading:
            task.cancel()
        await asyncio.gather(*leading, return_exceptions=True)
        await taker.consumer.stop()
    assert chained(taker.batches, start)
    # The stream itself is one chain: every batch starts where the one before ended.
    tail = await link.tail()
    position = start
    for seq in range(1, tail.last_seq + 1):
        message = await link.js.get_msg(stream, seq=seq)
        place = parse_part(message.headers)
        assert place is not None
        if place.index == 1:
            assert place.lower == position
        position = place.upper
    assert taker.consumer.gaps == 0
    assert sum(p.published for p in publishers) == len(taker.batches)


async def test_a_publisher_resuming_from_an_old_position_repeats_nothing(
    db: Database, link: Link, conninfo: str, stream: str
) -> None:
    start = await recorded_position(db, stream)
    first_id = logged_ids(conninfo)[-1]
    taker = await start_consumer_at(db, link, start)
    publisher = Publisher(db, link, interval=0.01)
    leading = asyncio.create_task(publisher.lead())
    try:
        for n in range(3):
            write(conninfo, f"UPDATE universities SET name = 'before {n}' WHERE id = {n + 1}")
            publisher.wake()
        before = logged_ids(conninfo, first_id)
        await taker.until(lambda: taker.ids() == before)
        leading.cancel()
        await asyncio.gather(leading, return_exceptions=True)
        # The stream's messages are lost (its storage wiped): the publisher
        # resumes from the database's record, which is older than what was
        # delivered.
        await link.js.purge_stream(stream)
        write(
            conninfo,
            f"UPDATE collabadmin.collabadmin_broker SET position = '{start}'"
            f" WHERE stream = '{stream}'",
        )
        write(conninfo, "UPDATE universities SET name = 'after' WHERE id = 4")
        leading = asyncio.create_task(publisher.lead())
        publisher.wake()
        everything = logged_ids(conninfo, first_id)
        await taker.until(lambda: len(taker.ids()) >= len(everything))
    finally:
        leading.cancel()
        await asyncio.gather(leading, return_exceptions=True)
        await taker.consumer.stop()
    assert taker.ids() == everything
    assert chained(taker.batches, start)
    assert taker.consumer.overlaps == 1
    assert taker.consumer.log_reads == 0


async def test_messages_lost_from_the_stream_are_read_from_the_log(
    db: Database, link: Link, conninfo: str, stream: str
) -> None:
    start = await recorded_position(db, stream)
    first_id = logged_ids(conninfo)[-1]
    publisher = Publisher(db, link, interval=0.01)
    leading = asyncio.create_task(publisher.lead())
    taker: Taker | None = None
    try:
        sequences = []
        for n in range(4):
            write(conninfo, f"UPDATE universities SET name = 'lost? {n}' WHERE id = {n + 1}")
            publisher.wake()
            sequences.append(await sequence_of(link, stream, logged_ids(conninfo)[-1]))
        # The batches of the second and third writes, and any between them (a
        # live view's moves travel in batches of their own), are gone before
        # anyone read them: one gap.
        for seq in range(sequences[1], sequences[2] + 1):
            await link.js.delete_msg(stream, seq)
        taker = await start_consumer_at(db, link, start)
        expected = logged_ids(conninfo, first_id)
        await taker.until(lambda: taker.ids() == expected)
    finally:
        leading.cancel()
        await asyncio.gather(leading, return_exceptions=True)
        if taker is not None:
            await taker.consumer.stop()
    assert chained(taker.batches, start)
    assert taker.consumer.gaps == 1
    assert taker.consumer.log_reads == 1


async def sequence_of(link: Link, stream: str, log_id: int) -> int:
    """The stream sequence of the message carrying the change log's entry ``log_id``."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + DEADLINE
    while True:
        for seq in range(1, (await link.tail()).last_seq + 1):
            message = await link.js.get_msg(stream, seq=seq)
            entries = decode_entries(message.data or b"")
            if any(int(e["id"]) == log_id and e["source"] != "view" for e in entries):
                return seq
        assert loop.time() < deadline, f"entry {log_id} was not published"
        await asyncio.sleep(0.01)  # sleep-ok: polling NATS with a deadline


async def test_a_stream_deleted_under_a_running_consumer_is_read_again(
    db: Database, link: Link, conninfo: str, stream: str
) -> None:
    first_id = logged_ids(conninfo)[-1]
    taker = await start_consumer(db, link)
    start = taker.consumer.position
    publisher = Publisher(db, link, interval=0.01)
    leading = asyncio.create_task(publisher.lead())
    try:
        write(conninfo, "UPDATE universities SET name = 'first life' WHERE id = 1")
        publisher.wake()
        await taker.until(lambda: len(taker.ids()) == 1)
        # Deleted: the publisher makes it anew, and its sequences start over.
        await link.js.delete_stream(stream)
        write(conninfo, "UPDATE universities SET name = 'second life' WHERE id = 2")
        publisher.wake()
        expected = logged_ids(conninfo, first_id)
        await taker.until(lambda: taker.ids() == expected)
    finally:
        leading.cancel()
        await asyncio.gather(leading, return_exceptions=True)
        await taker.consumer.stop()
    assert chained(taker.batches, start)
    assert taker.consumer.restarts == 1


async def test_reading_a_batch_again_gives_the_same_entries(db: Database, conninfo: str) -> None:
    async with db.connection() as tx:
        lower = str(await tx.value("SELECT pg_current_snapshot()::text"))
    write(conninfo, "UPDATE courses SET title = 'again' WHERE id = 3")
    async with db.connection() as tx:
        upper, entries = await read_batch(tx, lower)
        again = await read_between(tx, lower, upper)
    assert entries == again


async def test_an_entry_larger_than_nats_takes_is_read_from_the_log(
    db: Database, link: Link, conninfo: str, stream: str
) -> None:
    start = await recorded_position(db, stream)
    first_id = logged_ids(conninfo)[-1]
    taker = await start_consumer_at(db, link, start)
    publisher = Publisher(db, link, interval=0.01)
    leading = asyncio.create_task(publisher.lead())
    huge = "x" * (link.max_payload + 1)
    try:
        write(conninfo, f"UPDATE courses SET description = '{huge}' WHERE id = 4")
        write(conninfo, "UPDATE courses SET title = 'small again' WHERE id = 4")
        publisher.wake()
        expected = logged_ids(conninfo, first_id)
        await taker.until(lambda: taker.ids() == expected)
    finally:
        leading.cancel()
        await asyncio.gather(leading, return_exceptions=True)
        await taker.consumer.stop()
    assert chained(taker.batches, start)
    [big] = [e for b in taker.batches for e in b.entries if e["id"] == expected[0]]
    assert big["diff"]["description"]["new"] == huge
    assert taker.consumer.log_reads >= 1
