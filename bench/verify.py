"""Verifying the audit chain: incremental (what the audit page does) against full.

Loads ``--entries`` change entries (generated in SQL, as bench.audit does)
and seals them, then times, as the server role:

* the full check (``collabadmin_verify(true)``, ``GET /api/audit/verify?full=true``,
  ``collabadmin audit verify``), the baseline;
* the incremental check after ``--new`` entries were written since the last
  one (``GET /api/audit/verify``, what the audit page calls on every load);
* the incremental check with nothing new.

    python -m bench.verify [--entries 1000000] [--new 1000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import time

import psycopg
from psycopg import sql

from bench._setup import fresh_database, machine
from bench.audit import LOAD  # the same generated change entries
from collabadmin.db.engine import libpq_url


def _verify(conn: psycopg.Connection[tuple[object, ...]], whole: bool) -> tuple[float, int]:
    started = time.perf_counter()
    row = conn.execute(
        "SELECT checked, first_bad FROM collabadmin.collabadmin_verify(%s)", (whole,)
    ).fetchone()
    elapsed = time.perf_counter() - started
    assert row is not None
    assert row[1] is None, f"the chain is broken at {row[1]}"
    return elapsed, int(str(row[0]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--new", type=int, default=1_000, help="entries written between checks")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    url = fresh_database("collabadmin_bench_verify")
    conninfo = libpq_url(url)
    started = time.perf_counter()
    with psycopg.connect(conninfo, autocommit=True) as owner:
        owner.execute(LOAD, {"count": args.entries})
        owner.execute("SELECT collabadmin.collabadmin_seal()")
        owner.execute("VACUUM ANALYZE collabadmin.collabadmin_change, collabadmin.collabadmin_seal")
        total = owner.execute("SELECT count(*) FROM collabadmin.collabadmin_change").fetchone()
        role = owner.execute("SELECT collabadmin.collabadmin_app_role()::text").fetchone()
    assert total is not None
    assert role is not None
    print(f"# {dt.date.today()} on {machine()}")
    print(f"# {total[0]:,} sealed entries, loaded in {time.perf_counter() - started:.0f} s")
    full_times: list[float] = []
    incremental_times: list[float] = []
    idle_times: list[float] = []
    with (
        psycopg.connect(conninfo, autocommit=True) as owner,
        psycopg.connect(conninfo, autocommit=True) as server,
    ):
        server.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(str(role[0]))))
        for _ in range(2):
            elapsed, checked = _verify(server, whole=True)
            full_times.append(elapsed)
        full_checked = checked
        for _ in range(args.rounds):
            owner.execute(LOAD, {"count": args.new})
            server.execute("SELECT collabadmin.collabadmin_seal()")
            elapsed, checked = _verify(server, whole=False)
            assert checked == args.new, checked
            incremental_times.append(elapsed)
            elapsed, checked = _verify(server, whole=False)
            assert checked == 0
            idle_times.append(elapsed)
    full = statistics.median(full_times)
    print("| check | seals recomputed | median time | against full |")
    print("|---|---|---|---|")
    baseline = "full (`?full=true`, `audit verify`): the baseline"
    print(f"| {baseline} | {full_checked:,} | {full:.2f} s | 1 |")
    for name, times, checked in (
        (f"incremental, {args.new:,} new entries", incremental_times, args.new),
        ("incremental, nothing new", idle_times, 0),
    ):
        median = statistics.median(times)
        print(
            f"| {name} | {checked:,} | {median * 1000:.1f} ms | {full / median:,.0f} times faster |"
        )


if __name__ == "__main__":
    main()
