"""The hash chain over the change log: sealing and verification.

The SQL lives in the ``0004_audit_chain`` migration (``collabadmin_seal()``
and ``collabadmin_verify()``); this module runs it. Every server seals once
a second (concurrent sealers take turns on a row lock), and verification
seals first, so it covers every committed entry.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

import psycopg

from collabadmin.db.background import BackgroundTask
from collabadmin.db.engine import Database, Tx

__all__ = ["Sealer", "Verification", "seal", "verify"]

log = logging.getLogger("collabadmin.audit.chain")


@dataclass(frozen=True, slots=True)
class Verification:
    ok: bool
    checked: int
    first_bad: int | None

    def body(self) -> dict[str, object]:
        return {"ok": self.ok, "checked": self.checked, "first_bad": self.first_bad}


async def seal(tx: Tx) -> int:
    """Seal the entries committed since the last seal; returns how many."""
    return int(await tx.value("SELECT collabadmin_seal()"))


async def verify(db: Database) -> Verification:
    async with db.connection() as tx:
        await seal(tx)
        row = await tx.row("SELECT checked, first_bad FROM collabadmin_verify()")
    assert row is not None
    return Verification(row["first_bad"] is None, int(row["checked"]), row["first_bad"])


class Sealer(BackgroundTask):
    """Seals every ``interval`` seconds in the background."""

    name = "collabadmin-sealer"

    def __init__(self, db: Database, interval: float = 1.0) -> None:
        super().__init__()
        self.db = db
        self.interval = interval

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                async with self.db.connection() as tx:
                    await seal(tx)
            except (psycopg.Error, OSError) as exc:
                log.warning("could not seal the change log: %s", type(exc).__name__)
