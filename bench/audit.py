"""Audit queries on a large change log, and what sealing the hash chain costs writers.

Loads 1,000,000 change entries (generated in SQL, spread over 30 days, 50
actors, 5,000 courses), then times filtered audit pages through the HTTP
API: one record's history, one actor's changes to one field, and a time
window. Then runs pgbench's UPDATE with and without a sealer running every
second, as the servers do.

    python -m bench.audit [--entries 1000000] [--requests 200]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import random
import threading
import time

import psycopg

from bench._http import Connection
from bench._setup import fresh_database, machine, percentile, running_server
from bench.patch import pgbench_tps
from collabadmin.db.engine import libpq_url

LOAD = """
INSERT INTO collabadmin.collabadmin_change
    (at, resource, pk, op, actor_id, actor_name, source, version_before, version, diff)
SELECT now() - (n %% (30 * 24 * 3600)) * interval '1 second',
       'courses', (1 + n %% 5000)::text, 'update',
       1 + n %% 50, 'Actor ' || (1 + n %% 50), 'api', 1 + n / 5000, 2 + n / 5000,
       jsonb_build_object(
           (ARRAY['title', 'description', 'status', 'start_date'])[1 + (n / 50) %% 4],
           jsonb_build_object('old', 'value ' || n, 'new', 'value ' || (n + 1)))
  FROM generate_series(1, %(count)s) AS n
"""


def _window(start: dt.datetime) -> str:
    end = start + dt.timedelta(hours=1)
    return (
        f"/api/audit?since={start.strftime('%Y-%m-%dT%H:%M:%SZ')}"
        f"&until={end.strftime('%Y-%m-%dT%H:%M:%SZ')}"
    )


async def time_queries(port: int, token: str, requests: int) -> dict[str, tuple[float, float]]:
    conn = await Connection.open("127.0.0.1", port)
    headers = {"Authorization": f"Bearer {token}"}
    now = dt.datetime.now(dt.UTC)
    shapes = {
        "one record's history (resource + pk)": lambda: (
            f"/api/audit?resource=courses&pk={random.randint(1, 5000)}"
        ),
        "one actor's changes to one field": lambda: (
            f"/api/audit?actor={random.randint(1, 50)}&field=title"
        ),
        "one actor's changes to a field it never touched (worst case)": lambda: (
            f"/api/audit?actor={random.randint(1, 50)}&field=internal_notes"
        ),
        "a one-hour window": lambda: _window(now - dt.timedelta(hours=random.randint(1, 700))),
    }
    results = {}
    for name, path in shapes.items():
        for _ in range(10):  # warm-up: connections, caches, first plans
            await conn.request("GET", path(), headers=headers)
        samples = []
        for _ in range(requests):
            start = time.perf_counter()
            reply = await conn.request("GET", path(), headers=headers)
            samples.append(time.perf_counter() - start)
            assert reply.status == 200, reply.body[:200]
        results[name] = (percentile(samples, 50) * 1000, percentile(samples, 99) * 1000)
    await conn.close()
    return results


def seal_every_second(conninfo: str, stop: threading.Event) -> None:
    with psycopg.connect(conninfo, autocommit=True) as conn:
        while not stop.wait(1.0):
            conn.execute("SELECT collabadmin.collabadmin_seal()")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--seconds", type=int, default=10)
    args = parser.parse_args()
    url = fresh_database("collabadmin_bench_audit")
    conninfo = libpq_url(url)
    started = time.perf_counter()
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(LOAD, {"count": args.entries})
        conn.execute("ANALYZE collabadmin.collabadmin_change")
        total = conn.execute("SELECT count(*) FROM collabadmin.collabadmin_change").fetchone()
    print(f"# {dt.date.today()} on {machine()}")
    print(f"# loaded {args.entries:,} entries ({total[0] if total else '?':,} in all) "
          f"in {time.perf_counter() - started:.0f} s")  # fmt: skip
    # Seal the loaded entries first, as a running server would have: timing
    # the queries while a million entries are being sealed would measure that.
    with psycopg.connect(conninfo, autocommit=True) as conn:
        started = time.perf_counter()
        conn.execute("SELECT collabadmin.collabadmin_seal()")
        sealing = time.perf_counter() - started
        # Steady state: the bulk load's vacuum done, not running under the timings.
        conn.execute("VACUUM ANALYZE collabadmin.collabadmin_change, collabadmin.collabadmin_seal")
    with running_server(url) as server:
        timings = asyncio.run(time_queries(server.port, server.token, args.requests))
    plain = pgbench_tps(url, 16, args.seconds)
    stop = threading.Event()
    sealer = threading.Thread(target=seal_every_second, args=(conninfo, stop))
    sealer.start()
    try:
        sealed = pgbench_tps(url, 16, args.seconds)
    finally:
        stop.set()
        sealer.join()
    print("| figure | p50 ms | p99 ms |")
    print("|---|---|---|")
    for name, (p50, p99) in timings.items():
        print(f"| audit page: {name} | {p50:.1f} | {p99:.1f} |")
    print()
    print("| figure | value |")
    print("|---|---|")
    print(f"| sealing {total[0] if total else 0:,} entries at once | {sealing:.1f} s |")
    print(f"| pgbench UPDATE, 16 clients, no sealer | {plain:.0f} tps |")
    print(f"| the same with a sealer every second | {sealed:.0f} tps ({sealed / plain:.0%}) |")


if __name__ == "__main__":
    main()
