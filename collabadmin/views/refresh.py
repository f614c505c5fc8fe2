"""Evaluating a live view's rows, diffing them with its copy, and writing what moved.

One statement reads the rows of the source that differ from the copy (for
the touched keys, or all of them) — new rows, changed rows, and rows that
left the view — so only those come to Python. Each becomes:

* the copy's row written (one ``INSERT ... ON CONFLICT`` per chunk, the
  values going back through ``jsonb_populate_recordset`` exactly as
  ``to_jsonb`` read them), its ``version`` raised by one; a row that left
  the view stays as a tombstone (``deleted_at``), so the row scope of its
  ``delete`` can still be decided;
* one entry in the derived log (``insert|update|delete``, the diff of the
  view's columns that moved, values in the change log's JSON forms), unless
  the copy is being filled for the first time, which nobody has seen.

The caller holds the view's lock (:mod:`collabadmin.views.evaluator`): the
copy is only written under it, so the diff is against what subscribers were
last told.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from typing import Any

import msgspec
from psycopg.types.json import Jsonb

from collabadmin.db.engine import Row, Tx
from collabadmin.views.compiled import CompiledView

__all__ = ["Moved", "refresh"]

log = logging.getLogger("collabadmin.views")

CHUNK = 5000
Moved = dict[str, Any]
"""One derived entry: ``pk``, ``op``, ``version``, ``diff``."""

_INSERT_ENTRIES = """
INSERT INTO collabadmin.collabadmin_live_change (view, pk, op, version, diff)
SELECT %(view)s, e.pk, e.op, e.version, e.diff
  FROM jsonb_to_recordset(%(entries)s)
       AS e(n integer, pk text, op text, version integer, diff jsonb)
 ORDER BY e.n
"""

_encoder = msgspec.json.Encoder(decimal_format="number")


def _jsonb(value: object) -> Jsonb:
    # Numbers stay exact: the values were read as exact Decimals (db.json).
    return Jsonb(value, dumps=_encoder.encode)


def _chunks(items: Sequence[Any]) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]


def plan(rows: Sequence[Row], now: str) -> tuple[list[dict[str, Any]], list[Moved]]:
    """The copy's new rows and the derived entries for the rows that moved."""
    writes: list[dict[str, Any]] = []
    moved: list[Moved] = []
    seen: set[str] = set()
    for row in rows:
        if row["key"] in seen:
            # The view shows two rows with one key: its key is not a key. The
            # first is kept; writing both would fail the whole batch.
            log.warning("live view key %r is not unique: its other rows are left out", row["key"])
            continue
        seen.add(row["key"])
        fresh: dict[str, Any] | None = row["fresh"]
        stored: dict[str, Any] | None = row["stored"]
        if fresh is not None:
            if stored is None or row["gone"]:
                op = "insert"
                version = 1 if stored is None else row["version"] + 1
                diff = {k: {"old": None, "new": v} for k, v in fresh.items() if v is not None}
            else:
                diff = {
                    k: {"old": stored.get(k), "new": v}
                    for k, v in fresh.items()
                    if stored.get(k) != v or k not in stored
                }
                if not diff:
                    continue  # equal as values (1.0 and 1.00): nothing moved
                op, version = "update", row["version"] + 1
            writes.append({**fresh, "version": version, "deleted_at": None})
        else:
            assert stored is not None
            op, version = "delete", row["version"] + 1
            diff = {"deleted_at": {"old": None, "new": now}}
            writes.append({**stored, "version": version, "deleted_at": now})
        moved.append({"pk": row["key"], "op": op, "version": version, "diff": diff})
    return writes, moved


async def refresh(
    tx: Tx, view: CompiledView, keys: set[str] | None, *, announce: bool = True
) -> list[Moved]:
    """Bring the copy's rows of ``keys`` (None: all) up to date; the entries written.

    ``announce=False`` fills the copy without derived entries (its first
    filling). Runs in the caller's transaction, under the view's lock.
    """
    if keys is not None:
        typed = view.key_param(keys)
        if not typed:
            return []
        rows = await tx.rows(view.diff_keys, {"keys": typed})
    else:
        rows = await tx.rows(view.diff_all)
    if not rows:
        return []
    now = str(await tx.value("SELECT to_jsonb(now()) #>> '{}'"))
    writes, moved = plan(rows, now)
    for chunk in _chunks(writes):
        await tx.run(view.upsert, {"rows": _jsonb(list(chunk))})
    if announce:
        for start, chunk in enumerate(_chunks(moved)):
            entries = [{"n": start * CHUNK + i, **m} for i, m in enumerate(chunk)]
            await tx.run(_INSERT_ENTRIES, {"view": view.name, "entries": _jsonb(entries)})
    return moved
