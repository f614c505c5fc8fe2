"""A soak: steady mixed load for ``--minutes``, sampling the server's memory and connections.

Writers PATCH courses, subscribers follow the collection and record topics,
and editors come and go with presence (sockets opened and closed all the
time, the way browser tabs do). Every ``--every`` seconds it samples the
server's resident memory, its open file descriptors and the database's
connections; flat lines after warm-up mean nothing leaks.

    python -m bench.soak [--minutes 10] [--every 30]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import time

import psycopg
from websockets.asyncio.client import connect

from bench._http import Connection
from bench._setup import fresh_database, machine, running_server
from bench.hub import rss_kib
from collabadmin.db.engine import libpq_url


def open_fds(pid: int) -> int:
    total = len(os.listdir(f"/proc/{pid}/fd"))
    for task in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{task}/children") as listing:
            total += sum(open_fds(int(child)) for child in listing.read().split())
    return total


async def writer(port: int, token: str, until: float, n: int) -> int:
    rng = random.Random(n)
    http = await Connection.open("127.0.0.1", port)
    headers = {"Authorization": f"Bearer {token}"}
    writes = 0
    while time.monotonic() < until:
        pk = rng.randint(1, 200)
        reply = await http.request("GET", f"/api/r/courses/{pk}", headers=headers)
        version = reply.json()["_version"]
        await http.request(
            "PATCH", f"/api/r/courses/{pk}", body={"description": f"soak {n} {writes}"},
            headers={**headers, "X-Base-Version": str(version)},
        )  # fmt: skip
        writes += 1
        await asyncio.sleep(0.05)  # a person's pace, not a benchmark of throughput
    await http.close()
    return writes


async def visitor(url: str, token: str, until: float, n: int) -> int:
    """Open a socket, look at a record with presence, leave; again and again."""
    rng = random.Random(n)
    visits = 0
    while time.monotonic() < until:
        async with connect(url, additional_headers={"Authorization": f"Bearer {token}"}) as ws:
            topic = f"r/courses/{rng.randint(1, 200)}"
            await ws.send(json.dumps({"type": "subscribe", "topic": topic}))
            await ws.send(json.dumps({"type": "presence", "topic": topic, "state": "editing",
                                      "field": "title"}))  # fmt: skip
            deadline = time.monotonic() + rng.uniform(1, 5)
            while time.monotonic() < deadline:
                try:
                    await asyncio.wait_for(ws.recv(), deadline - time.monotonic())
                except TimeoutError:
                    break
        visits += 1
    return visits


async def follower(url: str, token: str, until: float) -> int:
    frames = 0
    async with connect(url, additional_headers={"Authorization": f"Bearer {token}"}) as ws:
        await ws.send(json.dumps({"type": "subscribe", "topic": "r/courses"}))
        while time.monotonic() < until:
            try:
                await asyncio.wait_for(ws.recv(), max(0.1, until - time.monotonic()))
                frames += 1
            except TimeoutError:
                break
    return frames


async def soak(
    port: int, token: str, pid: int, conninfo: str, *, minutes: float, every: float
) -> None:
    until = time.monotonic() + minutes * 60
    ws_url = f"ws://127.0.0.1:{port}/api/ws"
    tasks = [asyncio.create_task(writer(port, token, until, n)) for n in range(8)]
    tasks += [asyncio.create_task(visitor(ws_url, token, until, n)) for n in range(50)]
    tasks += [asyncio.create_task(follower(ws_url, token, until)) for _ in range(50)]
    print("| minute | server RSS MiB | server open fds | database connections |")
    print("|---|---|---|---|")
    start = time.monotonic()
    while time.monotonic() < until:
        with psycopg.connect(conninfo) as conn:
            row = conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
            ).fetchone()
        connections = (row[0] if row else 0) - 1  # not this one
        print(f"| {(time.monotonic() - start) / 60:.1f} | {rss_kib(pid) / 1024:.0f} "
              f"| {open_fds(pid)} | {connections} |", flush=True)  # fmt: skip
        await asyncio.sleep(every)
    results = await asyncio.gather(*tasks)
    print(f"\nwrites {sum(results[:8]):,}, visits {sum(results[8:58]):,}, "
          f"frames followed {sum(results[58:]):,}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--every", type=float, default=30)
    args = parser.parse_args()
    print(f"# {machine()}; {args.minutes:.0f} minutes")
    url = fresh_database("collabadmin_bench_soak")
    with running_server(url) as server:
        asyncio.run(
            soak(server.port, server.token, server.process.pid, libpq_url(url),
                 minutes=args.minutes, every=args.every)
        )  # fmt: skip


if __name__ == "__main__":
    main()
