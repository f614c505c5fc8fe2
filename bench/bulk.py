"""Bulk edits and imports, each row audited, next to the database doing the same rows.

* ``update``: ``POST /api/r/courses/bulk`` of 10,000 keys (a job: ``202``,
  then ``GET /api/jobs/{id}`` until it has finished) through a real server,
  every row its own change with ``source: "bulk"``; next to one plain
  ``UPDATE courses SET description = ... WHERE id = ANY(...)`` of the same
  rows in the same database and run (the capture trigger fires for it too,
  so it is audited just the same: the difference is what the server adds,
  locking in batches, per-row checks, one transaction per batch). The
  change log is counted after each, to show every row was logged once.

* ``import``: 100,000 courses imported from a CSV file (dry run, then
  apply) next to ``COPY`` of as many rows, and the server's peak memory
  during an export of every course (:mod:`bench.io`).

    python -m bench.bulk [update|import ...] [--rows 10000] [--import-rows 100000]
                         [--repeat 3] [--database NAME]

Each part is a function of this module (``bulk_update``) listed in
:data:`PARTS`; ``main`` runs the ones named (all by default) against one
fresh database.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx
import psycopg

from bench._setup import fresh_database, machine, running_server
from bench.io import import_and_export
from collabadmin.db.engine import libpq_url

EXTRA_COURSES = """
INSERT INTO courses (title, short_name, description, status)
SELECT 'Bulk bench ' || n, 'bulk-bench-' || n, '', 'open'
FROM generate_series(1, %(n)s) AS n
"""


@dataclass
class Figures:
    """One timed run: seconds, rows written, change-log entries it added."""

    seconds: float
    rows: int
    logged: int


def _log_size(conninfo: str) -> int:
    with psycopg.connect(conninfo) as conn:
        row = conn.execute("SELECT count(*) FROM collabadmin.collabadmin_change").fetchone()
    return int(row[0]) if row else 0


def _ensure_rows(conninfo: str, rows: int) -> list[int]:
    """The first ``rows`` live course ids, adding courses when the seed has fewer."""
    with psycopg.connect(conninfo, autocommit=True) as conn:
        have = conn.execute("SELECT count(*) FROM courses WHERE deleted_at IS NULL").fetchone()
        missing = rows - (int(have[0]) if have else 0)
        if missing > 0:
            conn.execute(EXTRA_COURSES, {"n": missing})
        ids = conn.execute(
            "SELECT id FROM courses WHERE deleted_at IS NULL ORDER BY id LIMIT %s", (rows,)
        ).fetchall()
    return [int(r[0]) for r in ids]


def plain_update(conninfo: str, ids: list[int], label: str) -> Figures:
    """The same rows changed by one ``UPDATE`` (the capture trigger logs each row)."""
    before = _log_size(conninfo)
    with psycopg.connect(conninfo) as conn:
        start = time.perf_counter()
        cursor = conn.execute(
            "UPDATE courses SET description = %s WHERE id = ANY(%s)", (label, ids)
        )
        conn.commit()
        seconds = time.perf_counter() - start
    return Figures(seconds, cursor.rowcount, _log_size(conninfo) - before)


def api_bulk_update(
    base_url: str, token: str, conninfo: str, ids: list[int], label: str
) -> Figures:
    """``POST /api/r/courses/bulk`` of ``ids``; polls the job until it has finished."""
    before = _log_size(conninfo)
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=base_url, headers=headers, timeout=600) as client:
        start = time.perf_counter()
        response = client.post(
            "/api/r/courses/bulk",
            json={
                "op": "update",
                "pks": [str(i) for i in ids],
                "patch": {"description": label},
            },
        )
        response.raise_for_status()
        body = response.json()
        if response.status_code == 202:
            job = body["job"]
            while True:
                state = client.get(f"/api/jobs/{job}").json()
                if state["state"] != "running":
                    body = state["result"]
                    break
                time.sleep(0.02)  # sleep-ok: a benchmark polling for the end of a job
        seconds = time.perf_counter() - start
    if body.get("error"):
        raise RuntimeError(body["error"])
    return Figures(seconds, len(body["done"]), _log_size(conninfo) - before)


def bulk_update(url: str, *, rows: int = 10_000, repeat: int = 3) -> None:
    """Bulk update of ``rows`` courses through the server, next to one plain UPDATE."""
    conninfo = libpq_url(url)
    ids = _ensure_rows(conninfo, rows)
    print(f"\n### bulk update of {len(ids):,} courses, each row audited\n")
    api: list[Figures] = []
    plain: list[Figures] = []
    with running_server(url) as server:
        base = f"http://127.0.0.1:{server.port}"
        for i in range(repeat):
            api.append(api_bulk_update(base, server.token, conninfo, ids, f"bulk run {i}"))
            plain.append(plain_update(conninfo, ids, f"plain run {i}"))
    print("| run | seconds (median) | rows/s | rows written | log entries added |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for name, runs in (("POST /bulk (a job, 500 rows a batch)", api), ("one plain UPDATE", plain)):
        seconds = statistics.median(r.seconds for r in runs)
        print(
            f"| {name} | {seconds:.2f} | {runs[0].rows / seconds:,.0f} |"
            f" {runs[0].rows:,} | {runs[0].logged:,} |"
        )
    ratio = statistics.median(r.seconds for r in api) / statistics.median(r.seconds for r in plain)
    print(f"\nthe bulk edit takes {ratio:.1f} times the plain UPDATE's time ({repeat} runs each)")


PARTS: dict[str, Callable[[str, argparse.Namespace], None]] = {
    "update": lambda url, args: bulk_update(url, rows=args.rows, repeat=args.repeat),
    "import": lambda url, args: import_and_export(url, args.import_rows),
}
"""The parts ``python -m bench.bulk`` can run, by name, each given the database and options."""


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("parts", nargs="*", help=f"any of {', '.join(PARTS)} (all by default)")
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--import-rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--database", default="collabadmin_bench_bulk")
    args = parser.parse_args(argv)
    unknown = [p for p in args.parts if p not in PARTS]
    if unknown:
        parser.error(f"unknown part {', '.join(unknown)}; choose from {', '.join(PARTS)}")
    print(f"# {machine()}")
    url = fresh_database(args.database)
    for name in args.parts or list(PARTS):
        PARTS[name](url, args)


if __name__ == "__main__":
    main()
