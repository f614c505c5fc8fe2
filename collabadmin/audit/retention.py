"""Retention: archive and remove old change-log entries, keeping the chain verifiable.

``collabadmin audit prune --before DATE --archive FILE`` seals what is
committed, then removes the oldest sealed entries dated before ``DATE`` (a
prefix of the chain: pruning stops at the first newer entry), after writing
them with their seals to ``FILE`` as JSON lines. The last removed seal
becomes the *anchor*: verification starts from its hash, so the remaining
chain is still checked end to end, and the archive can be checked on its
own by recomputing its hashes from the previous anchor.

Removing entries is the owner's alone: the change log refuses DELETE except
inside ``collabadmin_prune()``, a function only the owner may execute (the
server's role cannot, and no session setting unlocks the log).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import psycopg
from psycopg.rows import dict_row

if TYPE_CHECKING:
    from collabadmin.ops.progress import Reporter

__all__ = ["PruneResult", "prune"]


@dataclass(frozen=True, slots=True)
class PruneResult:
    removed: int
    anchor_seq: int


def _line(row: dict[str, Any]) -> str:
    entry = {k: v for k, v in row.items() if k not in ("seq", "hash")}
    return json.dumps(
        {"seq": row["seq"], "hash": row["hash"], "entry": entry}, default=str, sort_keys=True
    )


def prune(
    conninfo: str,
    before: dt.datetime,
    archive: IO[str] | None,
    reporter: Reporter | None = None,
) -> PruneResult:
    with psycopg.connect(conninfo, row_factory=dict_row) as conn:
        if reporter is not None:
            reporter.stage("sealing the change log")
        conn.execute("SELECT collabadmin.collabadmin_seal()")
        conn.commit()
        with conn.transaction():
            # Locks out sealers and other prunes until the entries are gone.
            state = conn.execute(
                "SELECT * FROM collabadmin.collabadmin_seal_state WHERE id = 1 FOR UPDATE"
            ).fetchone()
            assert state is not None
            newer = conn.execute(
                "SELECT min(s.seq) AS seq FROM collabadmin.collabadmin_seal s"
                " JOIN collabadmin.collabadmin_change c ON c.id = s.change_id"
                " WHERE s.seq > %(anchor)s AND c.at >= %(before)s",
                {"anchor": state["anchor_seq"], "before": before},
            ).fetchone()
            cut = (newer["seq"] - 1) if newer and newer["seq"] is not None else state["last_seq"]
            if cut <= state["anchor_seq"]:
                return PruneResult(0, state["anchor_seq"])
            span = {"anchor": state["anchor_seq"], "cut": cut}
            if archive is not None:
                if reporter is not None:
                    # Seals are numbered without gaps, so the span's size is known.
                    reporter.stage("archiving entries", cut - state["anchor_seq"])
                with conn.cursor(name="collabadmin_prune") as rows:
                    rows.execute(
                        "SELECT s.seq, s.hash, c.* FROM collabadmin.collabadmin_seal s"
                        " JOIN collabadmin.collabadmin_change c ON c.id = s.change_id"
                        " WHERE s.seq > %(anchor)s AND s.seq <= %(cut)s ORDER BY s.seq",
                        span,
                    )
                    for row in rows:
                        archive.write(_line(row) + "\n")
                        if reporter is not None:
                            reporter.advance()
            if reporter is not None:
                reporter.stage("removing entries")
            removed = conn.execute(
                "SELECT collabadmin.collabadmin_prune(%(cut)s) AS removed", span
            ).fetchone()
            assert removed is not None
    return PruneResult(int(removed["removed"]), cut)


def prune_to_file(
    conninfo: str, before: dt.datetime, path: Path | None, reporter: Reporter | None = None
) -> PruneResult:
    if path is None:
        return prune(conninfo, before, None, reporter)
    with path.open("a", encoding="utf-8") as archive:
        return prune(conninfo, before, archive, reporter)
