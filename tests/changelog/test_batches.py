"""The sealer's batches and the readers' batches are the same batches.

``collabadmin_seal()`` keeps its own plpgsql copy of "committed between two
snapshots" (in a migration, which deployed databases already ran); the hub
and the workflow evaluator build theirs from
:func:`~collabadmin.changelog.batches.committed_between`. Both must cut the
log at the same places, or the chain and the live stream would disagree
about commit order. The case that matters is a long transaction: it takes a
low entry id, commits after a later transaction, and must land in the later
batch (by commit), not the earlier one (by id).
"""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from collabadmin.changelog.batches import read_missed, read_since, visible_in
from collabadmin.db.engine import Database

pytestmark = pytest.mark.usefixtures("fresh_data")


def _rename(conn: psycopg.Connection[Any], category: int, name: str) -> None:
    conn.execute("UPDATE categories SET name = %s WHERE id = %s", (name, category))


def _seal(sealer: psycopg.Connection[Any]) -> tuple[str, list[int]]:
    """Seal one batch; its upper snapshot and the entries sealed, in chain order."""
    before = sealer.execute("SELECT last_seq FROM collabadmin.collabadmin_seal_state").fetchone()
    assert before is not None
    sealer.execute("SELECT collabadmin.collabadmin_seal()")
    after = sealer.execute(
        "SELECT snapshot::text FROM collabadmin.collabadmin_seal_state"
    ).fetchone()
    assert after is not None
    sealed = sealer.execute(
        "SELECT change_id FROM collabadmin.collabadmin_seal WHERE seq > %s ORDER BY seq",
        (before[0],),
    ).fetchall()
    return str(after[0]), [int(r[0]) for r in sealed]


async def _batch(db: Database, lower: str, upper: str) -> list[dict[str, Any]]:
    """The readers' batch between two snapshots (the replay read, with explicit bounds)."""
    async with db.connection() as tx:
        return await read_missed(tx, lower, lower, 0, upper, limit=10_000)


async def test_a_long_transaction_lands_in_the_same_batch_for_the_sealer_and_the_readers(
    conninfo: str, database_url: str
) -> None:
    db = Database(database_url, pool_size=2)
    sealer = psycopg.connect(conninfo)  # one transaction: the state row stays ours
    long_tx = psycopg.connect(conninfo)
    try:
        # Hold the seal state's lock for the whole test, so that a server's
        # sealer running meanwhile waits, and every batch is cut by this test.
        sealer.execute("SELECT 1 FROM collabadmin.collabadmin_seal_state FOR NO KEY UPDATE")
        start, _ = _seal(sealer)  # everything before the test is sealed

        _rename(long_tx, 1, "Begun first, committed last")  # a low entry id, not committed
        with psycopg.connect(conninfo, autocommit=True) as short_tx:
            _rename(short_tx, 2, "Begun and committed second")
        first_upper, first_sealed = _seal(sealer)
        async with db.connection() as tx:
            _, live = await read_since(tx, start, ["categories"])

        long_tx.commit()
        second_upper, second_sealed = _seal(sealer)
        async with db.connection() as tx:
            _, live_after = await read_since(tx, first_upper, ["categories"])
        sealer.commit()

        # A live view's moves travel in the same batches, written by the
        # evaluator whenever it catches up; the sealer seals the change log.
        first = [e for e in await _batch(db, start, first_upper) if e["source"] != "view"]
        second = [e for e in await _batch(db, first_upper, second_upper) if e["source"] != "view"]
    finally:
        sealer.close()
        long_tx.close()
        await db.dispose()

    ours = [e for e in first + second if e["resource"] == "categories"]
    late, early = sorted(ours, key=lambda e: e["id"])
    assert (late["pk"], early["pk"]) == ("1", "2")  # the long transaction took the lower id
    # Commit order, not id order: the later transaction's entry comes first.
    assert [e["id"] for e in first] == first_sealed
    assert [e["id"] for e in second] == second_sealed
    assert early["id"] in first_sealed
    assert late["id"] in second_sealed
    # The hub's live read cuts the same batches (its upper is "now"; nothing
    # else wrote categories meanwhile).
    assert [e["id"] for e in live] == [early["id"]]
    assert [e["id"] for e in live_after] == [late["id"]]
    # And the replay's in-memory visibility test agrees with PostgreSQL's.
    for entry in first:
        assert visible_in(int(entry["txid"]), first_upper)
        assert not visible_in(int(entry["txid"]), start)
    for entry in second:
        assert visible_in(int(entry["txid"]), second_upper)
        assert not visible_in(int(entry["txid"]), first_upper)
