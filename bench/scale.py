"""Scaling out: 1, 2 and 4 instances, each reading the log itself or in broker mode.

The same load for every row: ``--sockets`` sockets spread evenly over the
instances (nine tenths on 100 record topics, a tenth on the collection), a
writer committing ``--rate`` changes a second to those 100 courses for
``--seconds``. Each row says how many frames arrived per second, the
commit→socket latency, and what reading the change log cost the database:
the reads every instance counted (``collabadmin_log_reads_total`` in
/metrics, resumes excluded) and the scans of the log table PostgreSQL
counted (``pg_stat_user_tables``), both per second. Then the measured cost
per instance, which docs/benchmarks.md projects to 100 instances.

    python -m bench.scale [--sockets 1000] [--seconds 10] [--rate 200]
                          [--instances 1,2,4] [--nats nats://127.0.0.1:4222]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import os
import random
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import psycopg

from bench._lean_ws import LeanSocket, use_uvloop
from bench._setup import (
    admin_token,
    free_port,
    fresh_database,
    machine,
    percentile,
    process_tree_cpu,
    wait_healthy,
)
from bench.hub import COMMITTED, open_sockets, start_readers, stop
from collabadmin.db.engine import libpq_url

DEMO_APP = "collabadmin.demo.app:create_demo_app"
METRICS_TOKEN = "bench-scale"  # noqa: S105 - the servers this benchmark starts
LIVE_READERS = ("hub", "publisher", "stream_gaps", "workflows", "sealer")


@dataclass
class Cluster:
    ports: list[int]
    processes: list[subprocess.Popen[bytes]]
    token: str


@contextlib.contextmanager
def running_cluster(url: str, count: int, extra_env: dict[str, str]) -> Iterator[Cluster]:
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "COLLABADMIN_METRICS_TOKEN": METRICS_TOKEN,
        "COLLABADMIN_POOL_SIZE": "4",
        **extra_env,
    }
    ports = [free_port() for _ in range(count)]
    serve = [sys.executable, "-m", "collabadmin.cli", "serve", "--app", DEMO_APP, "--port"]
    processes = [
        subprocess.Popen([*serve, str(port)], env=env, stdout=subprocess.DEVNULL) for port in ports
    ]
    try:
        wait_healthy(ports, seconds=60)
        token = admin_token(ports[0])
        yield Cluster(ports, processes, token)
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=30)


def log_reads(ports: list[int]) -> float:
    """Reads of the change log for the live stream, all instances together."""
    total = 0.0
    for port in ports:
        text = httpx.get(
            f"http://127.0.0.1:{port}/metrics",
            headers={"Authorization": f"Bearer {METRICS_TOKEN}"},
            timeout=10,
        ).text
        for line in text.splitlines():
            if line.startswith("collabadmin_log_reads_total{"):
                reader = line.split('reader="', 1)[1].split('"', 1)[0]
                if reader in LIVE_READERS:
                    total += float(line.rsplit(" ", 1)[1])
    return total


def log_scans(conninfo: str) -> float:
    """Scans of the change log's table PostgreSQL counted (sequential and index)."""
    with psycopg.connect(conninfo, autocommit=True) as conn:
        row = conn.execute(
            "SELECT coalesce(seq_scan, 0) + coalesce(idx_scan, 0) FROM pg_stat_user_tables"
            " WHERE schemaname = 'collabadmin' AND relname = 'collabadmin_change'"
        ).fetchone()
    return float(row[0]) if row else 0.0


async def subscribe_spread(conns: list[LeanSocket], records: int) -> None:
    """A tenth of the sockets on the collection, the rest on ``records`` record topics."""

    async def one(ws: LeanSocket, n: int) -> None:
        topic = "r/courses" if n % 10 == 9 else f"r/courses/{n % records + 1}"
        await ws.send(json.dumps({"type": "subscribe", "topic": topic}))
        frame = json.loads(await ws.recv())
        assert frame["type"] == "subscribed", frame

    await asyncio.gather(*(one(ws, n) for n, ws in enumerate(conns)))


WRITTEN: dict[str, int] = {}  # mark -> the course it changed


async def write_spread(conninfo: str, rate: float, seconds: float, records: int) -> int:
    """UPDATEs at ``rate`` per second to random courses, noting each commit's time and course."""
    conn = await psycopg.AsyncConnection.connect(conninfo, autocommit=True)
    sent = 0
    start = time.perf_counter()
    try:
        while (elapsed := time.perf_counter() - start) < seconds:
            while sent < int(elapsed * rate):
                mark, course = f"s{sent}", random.randint(1, records)
                await conn.execute(
                    "UPDATE courses SET description = %s WHERE id = %s", (f"t={mark}", course)
                )
                COMMITTED[mark] = time.time()
                WRITTEN[mark] = course
                sent += 1
            await asyncio.sleep(0.001)
    finally:
        await conn.close()
    return sent


def expected_frames(sockets: int, records: int) -> int:
    """Frames the changes written should make, given how the sockets subscribed."""
    on_record = [0] * (records + 1)
    on_list = 0
    for n in range(sockets):
        if n % 10 == 9:
            on_list += 1
        else:
            on_record[n % records + 1] += 1
    return sum(on_list + on_record[course] for course in WRITTEN.values())


async def run_load(
    cluster: Cluster, conninfo: str, *, sockets: int, rate: float, seconds: float
) -> dict[str, float]:
    headers = {"Authorization": f"Bearer {cluster.token}"}
    conns: list[LeanSocket] = []
    share = sockets // len(cluster.ports)
    for index, port in enumerate(cluster.ports):
        count = share if index < len(cluster.ports) - 1 else sockets - share * index
        conns += await open_sockets(f"ws://127.0.0.1:{port}/api/ws", count, headers)
    await subscribe_spread(conns, 100)
    pending: list[tuple[str, float]] = []

    def on_frame(raw: str, at: float) -> None:
        stamp = raw.find('"new":"t=')
        if stamp >= 0:
            pending.append((raw[stamp + 9 : raw.index('"', stamp + 9)], at))

    start_readers(conns, on_frame)
    reads_before, scans_before = log_reads(cluster.ports), log_scans(conninfo)
    cpu_before = sum(process_tree_cpu(p.pid) for p in cluster.processes)
    started = time.perf_counter()
    COMMITTED.clear()
    WRITTEN.clear()
    sent = await write_spread(conninfo, rate, seconds, 100)
    await asyncio.sleep(2)  # the last frames
    elapsed = time.perf_counter() - started
    cpu = sum(process_tree_cpu(p.pid) for p in cluster.processes) - cpu_before
    reads = (log_reads(cluster.ports) - reads_before) / elapsed
    scans = (log_scans(conninfo) - scans_before) / elapsed
    await stop(conns)
    samples = [max(0.0, at - COMMITTED[mark]) for mark, at in pending if mark in COMMITTED]
    return {
        "changes": sent,
        "delivered": len(samples) / max(1, expected_frames(sockets, 100)),
        "frames_per_s": len(samples) / seconds,
        "p50_ms": percentile(samples, 50) * 1000,
        "p99_ms": percentile(samples, 99) * 1000,
        "reads_per_s": reads,
        "scans_per_s": scans,
        "cpu_per_s": cpu / elapsed,
    }


async def idle_reads(cluster: Cluster, conninfo: str, seconds: float = 5.0) -> tuple[float, float]:
    """Log reads and scans per second with nothing written: the cost of just being there."""
    reads, scans = log_reads(cluster.ports), log_scans(conninfo)
    await asyncio.sleep(seconds)
    return (log_reads(cluster.ports) - reads) / seconds, (log_scans(conninfo) - scans) / seconds


async def delete_stream(nats_url: str, stream: str) -> None:
    import nats
    import nats.js.errors

    nc = await nats.connect(nats_url)
    with contextlib.suppress(nats.js.errors.NotFoundError):
        await nc.jetstream().delete_stream(stream)
    await nc.close()


def main() -> None:
    use_uvloop()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sockets", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--rate", type=float, default=200)
    parser.add_argument("--instances", default="1,2,4")
    parser.add_argument(
        "--nats", default=os.environ.get("COLLABADMIN_BROKER", "nats://127.0.0.1:4222")
    )
    args = parser.parse_args()
    url = fresh_database("collabadmin_bench_scale")
    conninfo = libpq_url(url)
    subprocess.run(
        [sys.executable, "-m", "collabadmin.cli", "user", "create", "bench", "--role", "admin",
         "--password-stdin"],
        input=b"bench-password\n", env={**os.environ, "DATABASE_URL": url}, check=True,
        capture_output=True,
    )  # fmt: skip
    counts = [int(n) for n in args.instances.split(",")]
    print(
        f"# {dt.date.today()} on {machine()}; {args.sockets} sockets spread over the instances,"
        f" {args.rate:.0f} changes/s for {args.seconds:.0f} s"
    )
    print(
        "| mode | instances | changes/s | frames/s (delivered) | commit→socket p50 / p99"
        " | log reads/s (instances) | log scans/s (PostgreSQL) | idle log reads/s | server CPU |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for mode in ("direct", "broker"):
        for count in counts:
            stream = "BENCH_" + secrets.token_hex(4)
            env = (
                {"COLLABADMIN_BROKER": args.nats, "COLLABADMIN_BROKER_STREAM": stream}
                if mode == "broker"
                else {}
            )
            try:
                with running_cluster(url, count, env) as cluster:
                    idle, _ = asyncio.run(idle_reads(cluster, conninfo))
                    result = asyncio.run(
                        run_load(cluster, conninfo, sockets=args.sockets, rate=args.rate,
                                 seconds=args.seconds)
                    )  # fmt: skip
            finally:
                if mode == "broker":
                    asyncio.run(delete_stream(args.nats, stream))
            print(
                f"| {mode} | {count} | {result['changes'] / args.seconds:.0f}"
                f" | {result['frames_per_s']:,.0f}"
                f" ({result['delivered']:.0%})"
                f" | {result['p50_ms']:.1f} / {result['p99_ms']:.1f} ms"
                f" | {result['reads_per_s']:.1f} | {result['scans_per_s']:.1f}"
                f" | {idle:.1f} | {result['cpu_per_s']:.0%} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
