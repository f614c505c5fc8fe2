"""The hash chain over the change log: sealing, verification and kept heads.

The SQL lives in the migrations (``collabadmin_seal()`` in ``0004_audit_chain``,
``collabadmin_verify(whole)`` in ``0009_audit_roles``); this module runs it.
Every server seals once a second (concurrent sealers take turns on a row
lock), and verification seals first, so it covers every committed entry.

Verification is incremental: it recomputes the chain from the last point
it verified (kept in ``collabadmin_verify_state``), so the audit page's
check costs what was written since, not the whole log; ``whole=True``
recomputes from the anchor. The *head* (the last seal's position and hash)
is what an operator keeps outside the database: :func:`check_heads` proves
the chain still passes through every kept head, which a rewrite or a
truncation by the database's owner, who can recompute every seal, cannot
fake.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import weakref
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import psycopg

from collabadmin.db.background import BackgroundTask
from collabadmin.db.engine import Database, Tx

__all__ = [
    "FullCheck",
    "Head",
    "HeadCheck",
    "Sealer",
    "Verification",
    "check_heads",
    "head",
    "parse_heads",
    "seal",
    "verify",
]

log = logging.getLogger("collabadmin.audit.chain")


@dataclass(frozen=True, slots=True)
class Verification:
    ok: bool
    checked: int
    first_bad: int | None

    def body(self) -> dict[str, object]:
        return {"ok": self.ok, "checked": self.checked, "first_bad": self.first_bad}


@dataclass(frozen=True, slots=True)
class Head:
    """The sealed chain's last link: its position, hash and entry."""

    seq: int
    hash: str
    id: int | None  # the entry's id; None when the chain is empty or pruned to its end
    at: dt.datetime | None  # when that entry was written


async def seal(tx: Tx) -> int:
    """Seal the entries committed since the last seal; returns how many."""
    return int(await tx.value("SELECT collabadmin.collabadmin_seal()"))


async def verify(db: Database, *, whole: bool = False) -> Verification:
    """Seal, then verify from the last verified point (``whole``: from the anchor)."""
    async with db.connection() as tx:
        await seal(tx)
        row = await tx.row(
            "SELECT checked, first_bad FROM collabadmin.collabadmin_verify(%(whole)s)",
            {"whole": whole},
        )
    assert row is not None
    return Verification(row["first_bad"] is None, int(row["checked"]), row["first_bad"])


class FullCheck:
    """At most one full verification at a time per server; callers meanwhile share it.

    A full check costs about a minute per million entries of database CPU;
    requests asking for one while it runs get its answer instead of starting
    another, so repeated ``?full=true`` cannot pile up work on the database.
    """

    _of: weakref.WeakKeyDictionary[Database, FullCheck] = weakref.WeakKeyDictionary()

    def __init__(self, db: Database) -> None:
        self.db = db
        self.started = 0  # how many checks ran (tests read it)
        self.waiting = 0  # callers awaiting the running check
        self._running: asyncio.Task[Verification] | None = None

    @classmethod
    def of(cls, db: Database) -> FullCheck:
        if db not in cls._of:
            cls._of[db] = cls(db)
        return cls._of[db]

    async def run(self) -> Verification:
        if self._running is None or self._running.done():
            self.started += 1
            self._running = asyncio.create_task(verify(self.db, whole=True))
        self.waiting += 1
        try:
            # Shielded: one caller going away does not cancel the others' check.
            return await asyncio.shield(self._running)
        finally:
            self.waiting -= 1


_HEAD = """
SELECT st.last_seq AS seq, st.last_hash AS hash, s.change_id AS id, c.at
  FROM collabadmin.collabadmin_seal_state st
  LEFT JOIN collabadmin.collabadmin_seal s ON s.seq = st.last_seq AND st.last_seq > st.anchor_seq
  LEFT JOIN collabadmin.collabadmin_change c ON c.id = s.change_id
 WHERE st.id = 1
"""


async def head(db: Database) -> Head:
    """Seal, then the chain's head."""
    async with db.connection() as tx:
        await seal(tx)
        row = await tx.row(_HEAD)
    assert row is not None
    return Head(int(row["seq"]), row["hash"], row["id"], row["at"])


@dataclass(frozen=True, slots=True)
class KeptHead:
    line: int
    seq: int | None
    id: int | None
    hash: str


def parse_heads(lines: Iterable[str]) -> list[KeptHead]:
    """JSON lines as ``GET /api/audit/head`` answers them (blank lines skipped)."""
    heads = []
    for number, text in enumerate(lines, 1):
        if not text.strip():
            continue
        try:
            value = json.loads(text)
        except ValueError:
            raise ValueError(f"line {number}: not JSON") from None
        if not isinstance(value, dict) or not isinstance(value.get("hash"), str):
            raise ValueError(f"line {number}: not a head (needs a hash)")
        seq, entry = value.get("seq"), value.get("id")
        if not isinstance(seq, int) and not isinstance(entry, int):
            raise ValueError(f"line {number}: a head needs its seq or its id")
        heads.append(
            KeptHead(
                number,
                seq if isinstance(seq, int) else None,
                entry if isinstance(entry, int) else None,
                value["hash"],
            )
        )
    return heads


@dataclass(frozen=True, slots=True)
class HeadCheck:
    """What a check of kept heads found: failures name the head's line."""

    matched: int
    pruned: int  # heads older than the retention anchor: only the archive holds them
    failures: list[str]

    @property
    def ok(self) -> bool:
        return not self.failures


async def check_heads(db: Database, heads: list[KeptHead]) -> HeadCheck:
    """Does the chain still pass through every kept head?

    A head kept earlier must be found at its position with its hash: a
    rewritten entry at or before it changes that hash however the later
    seals were recomputed, and a truncated log no longer reaches it. A
    head before the retention anchor is gone from the database by design;
    the anchor itself is compared when a head sits exactly on it.
    """
    matched = pruned = 0
    failures: list[str] = []
    async with db.connection() as tx:
        state = await tx.row(
            "SELECT anchor_seq, anchor_hash, last_seq FROM collabadmin.collabadmin_seal_state"
            " WHERE id = 1"
        )
        assert state is not None
        for kept in heads:
            where = f"head on line {kept.line}"
            row: dict[str, Any] | None
            if kept.seq is not None:
                row = await tx.row(
                    "SELECT seq, change_id, hash FROM collabadmin.collabadmin_seal"
                    " WHERE seq = %(s)s",
                    {"s": kept.seq},
                )
            else:
                row = await tx.row(
                    "SELECT seq, change_id, hash FROM collabadmin.collabadmin_seal"
                    " WHERE change_id = %(i)s",
                    {"i": kept.id},
                )
            seq = kept.seq if row is None else int(row["seq"])
            if row is None and seq is not None and seq > state["last_seq"]:
                failures.append(
                    f"{where}: seal {seq} is past the end of the chain ({state['last_seq']}):"
                    " the log was truncated or rolled back"
                )
            elif row is None and seq is not None and seq == state["anchor_seq"]:
                if kept.hash == state["anchor_hash"]:
                    matched += 1
                else:
                    failures.append(f"{where}: the retention anchor {seq} has another hash")
            elif row is None and seq is not None and seq < state["anchor_seq"]:
                pruned += 1
            elif row is None:
                failures.append(f"{where}: its seal is gone")
            elif row["hash"] != kept.hash:
                failures.append(f"{where}: seal {seq} has another hash: history was rewritten")
            elif kept.id is not None and row["change_id"] != kept.id:
                failures.append(f"{where}: seal {seq} now seals another entry")
            else:
                matched += 1
    return HeadCheck(matched, pruned, failures)


class Sealer(BackgroundTask):
    """Seals every ``interval`` seconds in the background.

    It works through the server's pool, as the server role: sealing runs as
    the log's owner inside ``collabadmin_seal()``, which only appends seals
    for what is committed, so the server needs no owner rights for it.
    """

    name = "collabadmin-sealer"

    def __init__(self, db: Database, interval: float = 1.0) -> None:
        super().__init__()
        self.db = db
        self.interval = interval
        self.reads = 0  # seals (each reads the log committed since the last)

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                async with self.db.connection() as tx:
                    self.reads += 1
                    await seal(tx)
            except (psycopg.Error, OSError) as exc:
                log.warning("could not seal the change log: %s", type(exc).__name__)
