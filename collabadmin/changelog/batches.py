"""Reading the change log in snapshot batches (see :mod:`collabadmin.changelog.position`).

A batch is "the entries whose transaction committed between two snapshots".
That predicate is written once, by :func:`committed_between`, and every
reader of batches builds its SQL from it: the hub's live reads and replays
here, and the workflow evaluator's batch of touched subjects. The chain
sealer (``collabadmin_seal()``) has its own copy in plpgsql, in a migration
that deployed databases already ran; ``tests/changelog/test_batches.py`` checks
that it cuts the same batches as this one.

The stream is the change log *and* the derived log
(``collabadmin_live_change``: the rows of live views that moved, see
:mod:`collabadmin.views`). Both carry the writing transaction's ``txid`` and
draw their ids from one sequence, so the readers here take both with the
same predicate and order a batch by id across them: a cursor resumes both
at once. A derived entry reads as an entry of its view's resource, with
``source`` ``view`` and no actor.
"""

from __future__ import annotations

import functools

from collabadmin.changelog.types import Entry, Reader

__all__ = [
    "BATCH_COLUMNS",
    "CURRENT_SNAPSHOT",
    "DERIVED_LOG",
    "committed_between",
    "current_snapshot",
    "read_batch",
    "read_between",
    "read_missed",
    "read_since",
    "visible_in",
]


def committed_between(lower: str, upper: str, *, txid: str = "txid") -> str:
    """SQL: the entry's transaction committed after snapshot ``lower``, by snapshot ``upper``.

    ``lower`` and ``upper`` are SQL expressions of type ``pg_snapshot``, and
    ``txid`` the entry's ``xid8`` column. Visible in ``upper`` and not in
    ``lower`` is the definition; the two range conditions say the same for
    the index: everything below lower's xmin is visible in lower, and
    nothing at or above upper's xmax is visible in upper.
    """
    return (
        f"{txid} >= pg_snapshot_xmin({lower})"
        f" AND {txid} < pg_snapshot_xmax({upper})"
        f" AND pg_visible_in_snapshot({txid}, {upper})"
        f" AND NOT pg_visible_in_snapshot({txid}, {lower})"
    )


# The snapshot a batch read ends at, taken once per statement: the
# statement's own snapshot is pg_current_snapshot(), so every entry visible
# to it is visible in upper.
CURRENT_SNAPSHOT = "now AS MATERIALIZED (SELECT pg_current_snapshot() AS upper)"

BATCH_COLUMNS = (
    "id, at, resource, pk, op, actor_id, actor_name, db_role, source, request_id, version, diff"
)

DERIVED_LOG = "collabadmin.collabadmin_live_change"
# The derived log's entries in the change log's columns.
_DERIVED_COLUMNS = (
    "id, at, view AS resource, pk, op, NULL::bigint AS actor_id, NULL::text AS actor_name,"
    " NULL::text AS db_role, 'view'::text AS source, NULL::text AS request_id, version, diff"
)


def _both_logs(columns: str, derived_columns: str, where: str) -> str:
    """Entries of the change log and the derived log matching ``where`` (in either's terms).

    ``where`` names the entry's ``resource`` as ``{resource}``, since the
    derived log calls it ``view``.
    """
    return (
        f"SELECT {columns} FROM collabadmin.collabadmin_change"
        f" WHERE {where.replace('{resource}', 'resource')}"
        f" UNION ALL SELECT {derived_columns} FROM {DERIVED_LOG}"
        f" WHERE {where.replace('{resource}', 'view')}"
    )


# Entries committed since :lower up to the current snapshot, in one round trip.
_SINCE = f"""
WITH {CURRENT_SNAPSHOT}
SELECT now.upper::text AS upper, entries.*
  FROM now
  LEFT JOIN LATERAL (
      SELECT * FROM ({
    _both_logs(
        BATCH_COLUMNS,
        _DERIVED_COLUMNS,
        committed_between("%(lower)s::pg_snapshot", "now.upper")
        + " AND (%(resources)s::text[] IS NULL OR {resource} = ANY(%(resources)s::text[]))",
    )
}) AS logged
       ORDER BY id
       LIMIT %(limit)s
  ) AS entries ON true
 ORDER BY entries.id
"""


async def read_since(
    tx: Reader, lower: str, resources: list[str] | None = None
) -> tuple[str, list[Entry]]:
    """The current snapshot and every entry committed after ``lower`` up to it.

    Only entries of ``resources`` when given (None: all). Unbounded on
    purpose: a batch is only delivered whole, since the next position is a
    snapshot boundary. (``LIMIT NULL`` is no limit.)
    """
    rows = await tx.rows(_SINCE, {"lower": lower, "limit": None, "resources": resources})
    upper = str(rows[0]["upper"])
    entries = [r for r in rows if r["id"] is not None]
    for entry in entries:
        del entry["upper"]
    return upper, entries


async def current_snapshot(tx: Reader) -> str:
    value = await tx.value("SELECT pg_current_snapshot()::text")
    return str(value)


# The same read for a publisher of batches (broker mode): every resource,
# and each entry's transaction id, so that a consumer can tell on its own
# which entries of a batch it has already delivered (see visible_in).
_BATCH = f"""
WITH {CURRENT_SNAPSHOT}
SELECT now.upper::text AS upper, entries.*
  FROM now
  LEFT JOIN LATERAL (
      SELECT * FROM ({
    _both_logs(
        BATCH_COLUMNS + ", txid::text::bigint AS txid",
        _DERIVED_COLUMNS + ", txid::text::bigint AS txid",
        committed_between("%(lower)s::pg_snapshot", "now.upper"),
    )
}) AS logged
       ORDER BY id
  ) AS entries ON true
 ORDER BY entries.id
"""


async def read_batch(tx: Reader, lower: str) -> tuple[str, list[Entry]]:
    """The current snapshot and every entry committed after ``lower`` up to it, with ``txid``."""
    rows = await tx.rows(_BATCH, {"lower": lower})
    upper = str(rows[0]["upper"])
    entries = [r for r in rows if r["id"] is not None]
    for entry in entries:
        del entry["upper"]
    return upper, entries


_BETWEEN = f"""
SELECT * FROM ({
    _both_logs(
        BATCH_COLUMNS + ", txid::text::bigint AS txid",
        _DERIVED_COLUMNS + ", txid::text::bigint AS txid",
        committed_between("%(lower)s::pg_snapshot", "%(upper)s::pg_snapshot"),
    )
}) AS logged
 ORDER BY id
 LIMIT %(limit)s
"""


async def read_between(
    tx: Reader, lower: str, upper: str, *, limit: int | None = None
) -> list[Entry]:
    """The entries (with ``txid``) whose transaction committed between two snapshots, by id.

    The batch ``(lower, upper]`` again, exactly: a batch is defined by its
    two snapshots, so reading it later returns what it held when it was cut.
    """
    return await tx.rows(_BETWEEN, {"lower": lower, "upper": upper, "limit": limit})


# Everything a resuming client missed, up to the hub's position, in one read:
# entries committed after the cursor's batch began (not visible in lower),
# minus those of its batch it has already seen (visible in upper, id at or
# below after_id). The limit bounds the work whatever the cursor says.
_MISSED = f"""
SELECT * FROM ({
    _both_logs(
        BATCH_COLUMNS + ", txid::text::bigint AS txid",
        _DERIVED_COLUMNS + ", txid::text::bigint AS txid",
        committed_between("%(lower)s::pg_snapshot", "%(upto)s::pg_snapshot")
        + " AND (id > %(after_id)s OR NOT pg_visible_in_snapshot(txid, %(upper)s::pg_snapshot))"
        + " AND (%(resources)s::text[] IS NULL OR {resource} = ANY(%(resources)s::text[]))",
    )
}) AS logged
 ORDER BY id
 LIMIT %(limit)s
"""


async def read_missed(
    tx: Reader,
    lower: str,
    upper: str,
    after_id: int,
    upto: str,
    *,
    limit: int,
    resources: list[str] | None = None,
) -> list[Entry]:
    """Entries after position ``(lower, upper, after_id)`` and visible in ``upto``, by id.

    Each row carries its ``txid`` so that the caller can split them into the
    batches the live stream delivered (:func:`visible_in`), without a query
    per batch.
    """
    return await tx.rows(
        _MISSED,
        {
            "lower": lower,
            "upper": upper,
            "after_id": after_id,
            "upto": upto,
            "limit": limit,
            "resources": resources,
        },
    )


@functools.lru_cache(maxsize=4096)
def _parsed(snapshot: str) -> tuple[int, int, frozenset[int]]:
    xmin, xmax, running = snapshot.split(":")
    return int(xmin), int(xmax), frozenset(int(x) for x in running.split(",") if x)


def visible_in(txid: int, snapshot: str) -> bool:
    """``pg_visible_in_snapshot`` for a committed transaction, without a round trip.

    Snapshots are parsed once and kept (a replay asks about the same few
    batch boundaries for many entries).
    """
    xmin, xmax, running = _parsed(snapshot)
    return txid < xmin or (txid < xmax and txid not in running)
