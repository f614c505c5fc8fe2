"""PATCH throughput and latency next to the database's own rate for the same UPDATE.

For 16 and 64 concurrent clients, each client edits its own course with
``X-Base-Version`` (read-modify-write as an editor would) for a fixed time.
The baseline is pgbench running the bare ``UPDATE courses SET description``
on the same rows, with the same capture triggers (version bump, change-log
row, NOTIFY), against the same database in the same run. The server's CPU
time per PATCH (its processes' user + system time over the API run, hub and
background tasks included) is what a change to the write path moves; unlike
the rates it barely depends on the disk. The load generator's CPU per PATCH
and the database backends' CPU per PATCH, and per UPDATE in pgbench, show
what each write costs the machine's cores, which all three share.

    python -m bench.patch [--seconds 10] [--database NAME]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import re
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass

from bench._http import Connection
from bench._setup import (
    backends_of,
    cpu_between,
    fresh_database,
    machine,
    percentile,
    process_cpu,
    process_tree_cpu,
    running_server,
)
from collabadmin.db.engine import libpq_url

PGBENCH_SCRIPT = """\\set row :client_id + 1
UPDATE courses SET description = 'pgbench ' || random() WHERE id = :row;
"""


def pgbench_run(url: str, clients: int, seconds: int) -> tuple[float, float]:
    """pgbench's tps, and its backends' CPU ms per transaction.

    The backends live as long as the run: they are sampled once all have
    connected and again a second before the end, and the window's CPU is
    divided by the transactions the run's rate gives for the window.
    """
    pgbench = shutil.which("pgbench")
    if pgbench is None:
        raise SystemExit("pgbench is needed for the baseline (apt-get install postgresql-client)")
    with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as script:
        script.write(PGBENCH_SCRIPT)
    others = set(backends_of(url))  # the server's own connections
    try:
        process = subprocess.Popen(
            [pgbench, "-n", "-M", "prepared", "-c", str(clients), "-j", "2", "-T", str(seconds),
             "-f", script.name, libpq_url(url)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        time.sleep(1.0)
        before = process_cpu([pid for pid in backends_of(url) if pid not in others])
        start = time.monotonic()
        time.sleep(max(0.5, seconds - 2.0))
        after = process_cpu(list(before))
        window = time.monotonic() - start
        stdout, stderr = process.communicate()
    finally:
        os.unlink(script.name)
    match = re.search(r"tps = ([\d.]+)", stdout)
    if process.returncode != 0 or match is None:
        raise RuntimeError(stdout + stderr)
    tps = float(match.group(1))
    return tps, cpu_between(before, after) * 1000 / (tps * window)


async def api_run(
    port: int, token: str, clients: int, seconds: float
) -> tuple[int, list[float], int]:
    headers = {"Authorization": f"Bearer {token}"}
    latencies: list[float] = []
    conflicts = 0
    deadline = time.monotonic() + seconds

    async def client(n: int) -> None:
        nonlocal conflicts
        conn = await Connection.open("127.0.0.1", port)
        pk = 100 + n
        version = (await conn.request("GET", f"/api/r/courses/{pk}", headers=headers)).json()[
            "_version"
        ]
        counter = 0
        while time.monotonic() < deadline:
            counter += 1
            start = time.perf_counter()
            reply = await conn.request(
                "PATCH",
                f"/api/r/courses/{pk}",
                {"description": f"api {n} {counter}"},
                {**headers, "X-Base-Version": str(version)},
            )
            latencies.append(time.perf_counter() - start)
            if reply.status != 200:
                conflicts += 1
                current = reply.json().get("current")
                if current is None:
                    raise RuntimeError(f"PATCH failed: {reply.status} {reply.body[:200]!r}")
                version = current["_version"]
                continue
            version = reply.json()["_version"]
        await conn.close()

    await asyncio.gather(*(client(n) for n in range(clients)))
    return len(latencies), latencies, conflicts


def median(values: list[float]) -> float:
    return sorted(values)[len(values) // 2]


@dataclass(frozen=True)
class Pair:
    """One pgbench run and the API run right after it."""

    ratio: float
    rate: float
    db_tps: float
    latencies: list[float]
    errors: int
    server_ms: float
    client_ms: float
    db_ms: float
    pgbench_db_ms: float


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--clients", default="16,64")
    parser.add_argument("--workers", default="1,2", help="server processes to measure")
    parser.add_argument("--repeat", type=int, default=3, help="pairs per figure (median shown)")
    parser.add_argument(
        "--database", default="collabadmin_bench", help="database to (re)create on the server"
    )
    args = parser.parse_args()
    url = fresh_database(args.database)
    print(
        f"# {dt.date.today()} on {machine()}; {args.seconds}s per run, "
        f"median of {args.repeat} pgbench/API pairs"
    )
    client_counts = [int(c) for c in args.clients.split(",")]
    rows = []
    for workers in (int(w) for w in args.workers.split(",")):
        # Pools sized so that pgbench at 64 clients still fits under max_connections = 100.
        with running_server(
            url, workers=workers, extra_env={"COLLABADMIN_POOL_SIZE": "14"}
        ) as server:
            for clients in client_counts:
                # pgbench runs right before each API run, under the same conditions:
                # commit latency on this disk drifts by 2x between minutes.
                pairs = []
                for _ in range(args.repeat):
                    db_tps, pgbench_db_ms = pgbench_run(url, clients, args.seconds)
                    cpu_before = process_tree_cpu(server.process.pid)
                    backends = process_cpu(backends_of(url))
                    client_before = time.process_time()
                    count, latencies, errors = asyncio.run(
                        api_run(server.port, server.token, clients, args.seconds)
                    )
                    client_ms = (time.process_time() - client_before) * 1000 / count
                    # Backends the pool opened during the run count from zero.
                    after = process_cpu(backends_of(url))
                    db_seconds = cpu_between({**dict.fromkeys(after, 0.0), **backends}, after)
                    cpu_ms = (process_tree_cpu(server.process.pid) - cpu_before) * 1000 / count
                    pairs.append(Pair(count / args.seconds / db_tps, count / args.seconds,
                                      db_tps, latencies, errors, cpu_ms, client_ms,
                                      db_seconds * 1000 / count, pgbench_db_ms))  # fmt: skip
                middle = sorted(pairs, key=lambda p: p.ratio)[len(pairs) // 2]
                rows.append((workers, clients, middle,
                             median([p.server_ms for p in pairs]),
                             median([p.client_ms for p in pairs]),
                             median([p.db_ms for p in pairs]),
                             median([p.pgbench_db_ms for p in pairs])))  # fmt: skip
    print("| server processes | clients | PATCH req/s | p50 ms | p99 ms "
          "| same UPDATE in pgbench, tps | ratio | non-200 | server CPU ms/PATCH "
          "| load generator CPU ms/PATCH | database CPU ms/PATCH "
          "| database CPU ms/UPDATE in pgbench |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for workers, clients, pair, cpu_ms, client_ms, db_ms, pgbench_db_ms in rows:
        p50, p99 = percentile(pair.latencies, 50) * 1000, percentile(pair.latencies, 99) * 1000
        print(f"| {workers} | {clients} | {pair.rate:.0f} | {p50:.1f} | {p99:.1f} "
              f"| {pair.db_tps:.0f} | {pair.ratio:.0%} | {pair.errors} | {cpu_ms:.2f} "
              f"| {client_ms:.2f} | {db_ms:.2f} | {pgbench_db_ms:.2f} |")  # fmt: skip


if __name__ == "__main__":
    main()
