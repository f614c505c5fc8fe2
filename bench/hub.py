"""Live delivery: commit-to-socket latency, fan-out rate and memory per socket.

1,000 sockets: 900 on 100 record topics (nine each), 100 on the collection
topic. A writer commits 200 changes per second spread over those 100
courses; each change reaches 109 sockets. Measured in both wake-up modes,
next to the raw LISTEN/NOTIFY latency and a bare websocket broadcast (same
uvicorn, no database, no permissions) measured in the same run.

With ``--batch`` the sockets open ``/api/ws?batch=1``: the server sends the
frames one log batch makes for a socket as one ``batch`` message, which the
readers unpack (each frame inside is a latency sample). ``--workers 2``
serves the app with two uvicorn processes (the sockets spread over both).

    python -m bench.hub [--sockets 1000] [--seconds 10] [--rate 200] [--batch] [--workers 1]
        [--modes notify,poll] [--saturation-rows 1] [--backlog-rounds 50]

The saturation run's writers commit one change at a time; at a few hundred
commits a second that may be the writers' pace, not the server's: the run
reports the server's CPU meanwhile (server process and its children). With
``--saturation-rows N`` each commit changes N courses. The backlog run
takes the writers out of the figure: one transaction changes each of the
100 courses ``--backlog-rounds`` times (50: 5,000 changes, 545,000 frames),
and from its commit the server has thousands of frames to send each
collection socket at once, and sends them as fast as it (and the load
generator reading them) can; it is timed from the commit to the last
frame. The bare broadcast's server CPU is reported too, and the frames per
second of server CPU of both; the latency run reports the server's CPU and
the load generator's.

The load generator reads the sockets through a lean client of its own
(bench._lean_ws, on uvloop): through the websockets library's client it ran
out of CPU before the server did, and the fan-out figures were its own.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import os
import random
import subprocess
import sys
import time
from collections.abc import Callable

import httpx
import msgspec
import psycopg

from bench._lean_ws import LeanSocket, connect, use_uvloop
from bench._setup import free_port, fresh_database, machine, percentile, running_server
from collabadmin.db.engine import libpq_url

Receiver = Callable[[str, float], None]


def _children(pid: int) -> list[int]:
    found = []
    for task in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{task}/children") as listing:
            found += [int(child) for child in listing.read().split()]
    return found


def rss_kib(pid: int) -> int:
    """Resident memory of ``pid`` and its children (granian serves from worker processes)."""
    total = 0
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                total = int(line.split()[1])
    return total + sum(rss_kib(child) for child in _children(pid))


async def open_sockets(url: str, count: int, headers: dict[str, str]) -> list[LeanSocket]:
    """``count`` sockets on ``url``, through the lean client (bench._lean_ws)."""
    sockets: list[LeanSocket] = []
    for start in range(0, count, 50):
        sockets += await asyncio.gather(
            *(connect(url, headers) for _ in range(min(50, count - start)))
        )
    return sockets


async def subscribe_all(sockets: list[LeanSocket], records: int) -> None:
    async def one(ws: LeanSocket, n: int) -> None:
        topic = "r/courses" if n >= len(sockets) * 9 // 10 else f"r/courses/{n % records + 1}"
        await ws.send(json.dumps({"type": "subscribe", "topic": topic}))
        frame = json.loads(await ws.recv())
        assert frame["type"] == "subscribed", frame

    await asyncio.gather(*(one(ws, n) for n, ws in enumerate(sockets)))


BATCH_PREFIX = '{"type":"batch","frames":['


class _Batch(msgspec.Struct):
    frames: list[msgspec.Raw]


_BATCH = msgspec.json.Decoder(_Batch)


def unpack(raw: str) -> list[str]:
    """The frames of a message: itself, or the frames inside a ``batch`` message.

    The frames inside are kept as raw JSON text, as the readers look at them.
    """
    if not raw.startswith(BATCH_PREFIX):
        return [raw]
    return [bytes(frame).decode() for frame in _BATCH.decode(raw).frames]


def start_readers(sockets: list[LeanSocket], on_frame: Receiver) -> None:
    """Hand every frame the sockets receive from now on to ``on_frame``, as it arrives."""

    def read(raw: str, at: float) -> None:
        # Frames are inspected as text: decoding 20,000 JSON frames a second
        # would make the load generator, not the server, the bottleneck.
        for frame in unpack(raw):
            on_frame(frame, at)

    for ws in sockets:
        ws.on_text = read


COMMITTED: dict[str, float] = {}


async def stop(conns: list[LeanSocket]) -> None:
    await asyncio.gather(*(ws.close() for ws in conns), return_exceptions=True)


# Concurrent writers of several rows each lock them in key order: never a deadlock.
UPDATE = """
WITH locked AS (SELECT id FROM courses WHERE id = ANY(%s) ORDER BY id FOR UPDATE)
UPDATE courses SET description = %s FROM locked WHERE courses.id = locked.id
"""


async def write_changes(
    conninfo: str, rate: float, seconds: float, records: int, rows: int = 1
) -> int:
    """UPDATEs at ``rate`` per second, each recording when its commit was acknowledged.

    Each commit changes ``rows`` courses (one UPDATE), all with the same mark.
    """
    conn = await psycopg.AsyncConnection.connect(conninfo, autocommit=True)
    sent = 0
    start = time.perf_counter()
    try:
        while (elapsed := time.perf_counter() - start) < seconds:
            due = int(elapsed * rate)
            # Behind the rate, catch up, but never past the run's end.
            while sent < due and time.perf_counter() - start < seconds:
                mark = f"s{id(conn)}-{sent}"
                await conn.execute(
                    UPDATE, (random.sample(range(1, records + 1), rows), f"t={mark}")
                )
                COMMITTED[mark] = time.time()
                sent += 1
            await asyncio.sleep(0.001)
    finally:
        await conn.close()
    return sent


async def latency_run(
    ws_url: str,
    token: str,
    conninfo: str,
    *,
    sockets: int,
    rate: float,
    seconds: float,
    pid: int | None = None,
) -> dict[str, float]:
    """Commit→socket latency percentiles at ``rate`` changes per second.

    Also the CPU, in cores, of the load generator (this process: its
    timestamps are late when it is short of CPU) and of the server (``pid``
    and its children; 0 without).
    """
    headers = {"Authorization": f"Bearer {token}"}
    conns = await open_sockets(ws_url, sockets, headers)
    await subscribe_all(conns, 100)
    samples: list[float] = []

    pending: list[tuple[str, float]] = []

    def on_frame(raw: str, at: float) -> None:
        stamp = raw.find('"new":"t=')
        if stamp >= 0:
            pending.append((raw[stamp + 9 : raw.index('"', stamp + 9)], at))

    start_readers(conns, on_frame)
    started, own, server = time.perf_counter(), time.process_time(), _cpu(pid)
    sent = await write_changes(conninfo, rate, seconds, 100)
    elapsed = time.perf_counter() - started
    client_cores, server_cores = (
        (time.process_time() - own) / elapsed,
        (_cpu(pid) - server) / elapsed,
    )
    await asyncio.sleep(2)  # let the last frames arrive
    await stop(conns)
    # A frame can arrive before its writer has even read the commit's reply: 0.
    samples = [max(0.0, at - COMMITTED[mark]) for mark, at in pending if mark in COMMITTED]
    return {
        "changes": sent,
        "frames": len(samples),
        "p50_ms": percentile(samples, 50) * 1000,
        "p90_ms": percentile(samples, 90) * 1000,
        "p99_ms": percentile(samples, 99) * 1000,
        "client_cores": client_cores,
        "server_cores": server_cores,
    }


def _cpu(pid: int | None) -> float:
    return 0.0 if pid is None else cpu_seconds(pid)


def cpu_seconds(pid: int) -> float:
    """CPU time (user and system) of ``pid`` and its children (the background process)."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    own = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return own + sum(cpu_seconds(child) for child in _children(pid))


async def saturation_run(
    ws_url: str,
    token: str,
    conninfo: str,
    *,
    sockets: int,
    seconds: float,
    rows: int = 1,
    pid: int | None = None,
) -> tuple[float, float]:
    """Frames per second delivered while writers commit as fast as they can.

    Also the server's CPU meanwhile, in cores (0 without ``pid``): below one,
    the writers, not the server, set the pace.
    """
    headers = {"Authorization": f"Bearer {token}"}
    conns = await open_sockets(ws_url, sockets, headers)
    await subscribe_all(conns, 100)
    received = 0

    def on_frame(raw: str, at: float) -> None:
        nonlocal received
        received += raw.startswith('{"type":"change"')

    start_readers(conns, on_frame)
    start = time.perf_counter()
    cpu_before = 0.0 if pid is None else cpu_seconds(pid)
    await asyncio.gather(*(write_changes(conninfo, 5000, seconds, 100, rows) for _ in range(4)))
    elapsed = time.perf_counter() - start
    cpu = 0.0 if pid is None else (cpu_seconds(pid) - cpu_before) / elapsed
    count = received
    await stop(conns)
    return count / elapsed, cpu


async def backlog_run(
    ws_url: str, token: str, conninfo: str, *, sockets: int, rounds: int, pid: int
) -> tuple[float, float, int, int]:
    """Frames per second the server sends from a backlog, and its CPU meanwhile, in cores.

    One transaction changes each of the 100 subscribed courses ``rounds``
    times: from its commit the server sends as fast as it can, whatever pace
    writers keep, until the last frame has gone. Measured from the
    commit to the last frame's arrival. Also the frames received and expected.
    """
    headers = {"Authorization": f"Bearer {token}"}
    conns = await open_sockets(ws_url, sockets, headers)
    await subscribe_all(conns, 100)
    collection = sockets - sockets * 9 // 10  # subscribe_all's sockets on r/courses
    expected = rounds * (sockets * 9 // 10 + 100 * collection)
    received, last = 0, 0.0
    done = asyncio.Event()

    def on_frame(raw: str, at: float) -> None:
        nonlocal received, last
        if raw.startswith('{"type":"change"'):
            received += 1
            last = at
            if received >= expected:
                done.set()

    start_readers(conns, on_frame)
    async with await psycopg.AsyncConnection.connect(conninfo) as conn:
        for n in range(rounds):
            await conn.execute(
                "UPDATE courses SET description = %s WHERE id <= 100", (f"backlog-{n}",)
            )
        cpu_before = cpu_seconds(pid)
        await conn.commit()
        committed = time.time()
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(done.wait(), timeout=120)
    cpu = (cpu_seconds(pid) - cpu_before) / (time.time() - committed)
    await stop(conns)
    return received / max(last - committed, 1e-9), cpu, received, expected


def _broadcast_command(asgi_server: str, port: int) -> list[str]:
    if asgi_server == "granian":
        return [sys.executable, "-m", "granian", "--interface", "asgi", "--host", "127.0.0.1",
                "--port", str(port), "--log-level", "warning",
                "bench._broadcast_app:app"]  # fmt: skip
    return [sys.executable, "-m", "uvicorn", "bench._broadcast_app:app", "--port", str(port),
            "--log-level", "warning", "--ws-per-message-deflate", "false"]  # fmt: skip


async def bare_broadcast(
    sockets: int, seconds: float, asgi_server: str = "uvicorn"
) -> tuple[float, float]:
    """Frames per second a bare broadcast delivers, and its server's CPU meanwhile, in cores."""
    port = free_port()
    command = _broadcast_command(asgi_server, port)
    cpus = os.environ.get("COLLABADMIN_BENCH_SERVER_CPUS")
    if cpus:  # the same cores as the collabadmin server, for a like-for-like baseline
        command = ["taskset", "-c", cpus, *command]
    process = subprocess.Popen(command)  # noqa: ASYNC220 - started once, before measuring
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            for _ in range(100):
                try:
                    await client.post("/burst?n=0")
                    break
                except httpx.TransportError:
                    await asyncio.sleep(0.1)
            conns = await open_sockets(f"ws://127.0.0.1:{port}/", sockets, {})
            received = 0

            def on_frame(raw: str, at: float) -> None:
                nonlocal received
                received += 1

            start_readers(conns, on_frame)
            start = time.perf_counter()
            cpu_before = cpu_seconds(process.pid)
            while time.perf_counter() - start < seconds:
                await client.post("/burst?n=20", timeout=60)
            elapsed = time.perf_counter() - start
            cpu = (cpu_seconds(process.pid) - cpu_before) / elapsed
            count = received
            await stop(conns)
            return count / elapsed, cpu
    finally:
        process.terminate()
        process.wait()


async def notify_latency(conninfo: str, count: int = 2000) -> tuple[float, float]:
    listener = await psycopg.AsyncConnection.connect(conninfo, autocommit=True)
    writer = await psycopg.AsyncConnection.connect(conninfo, autocommit=True)
    await listener.execute("LISTEN bench_raw")
    samples: list[float] = []

    async def listen() -> None:
        async for note in listener.notifies():
            samples.append(time.time() - float(note.payload))
            if len(samples) >= count:
                return

    task = asyncio.create_task(listen())
    for _ in range(count):
        await writer.execute("SELECT pg_notify('bench_raw', %s)", (f"{time.time():.6f}",))
        await asyncio.sleep(0.001)
    await asyncio.wait_for(task, 30)
    await listener.close()
    await writer.close()
    return percentile(samples, 50) * 1000, percentile(samples, 99) * 1000


async def idle_memory(ws_url: str, token: str, pid: int, sockets: int) -> float:
    before = rss_kib(pid)
    conns = await open_sockets(ws_url, sockets, {"Authorization": f"Bearer {token}"})
    await subscribe_all(conns, 100)
    await asyncio.sleep(1)
    after = rss_kib(pid)
    await asyncio.gather(*(ws.close() for ws in conns), return_exceptions=True)
    return (after - before) / sockets


def main() -> None:
    use_uvloop()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sockets", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--rate", type=float, default=200)
    parser.add_argument("--asgi-server", choices=("uvicorn", "granian"), default="uvicorn")
    parser.add_argument(
        "--batch", action="store_true", help="sockets open /api/ws?batch=1 (batch messages)"
    )
    parser.add_argument("--workers", type=int, default=1, help="server processes")
    parser.add_argument(
        "--modes", default="notify,poll", help="wake-up modes to measure (notify,poll)"
    )
    parser.add_argument(
        "--saturation-rows",
        type=int,
        default=1,
        help="courses each commit of the saturation run changes (1: one change per commit)",
    )
    parser.add_argument(
        "--backlog-rounds",
        type=int,
        default=50,
        help="times the backlog run's one commit changes each of the 100 courses",
    )
    args = parser.parse_args()
    modes = [mode for mode in args.modes.split(",") if mode]
    url = fresh_database("collabadmin_bench_hub")
    conninfo = libpq_url(url)
    delivery = "batch messages (/api/ws?batch=1)" if args.batch else "one message per frame"
    print(
        f"# {dt.date.today()} on {machine()}; {args.sockets} sockets, {args.rate:.0f} changes/s,"
        f" served by {args.asgi_server} ({args.workers} worker{'s' * (args.workers > 1)});"
        f" {delivery}"
    )
    rows: list[tuple[str, str]] = []
    p50, p99 = asyncio.run(notify_latency(conninfo))
    rows.append(("raw LISTEN/NOTIFY latency p50 / p99", f"{p50:.2f} / {p99:.2f} ms"))
    # The backlog run sends a collection socket thousands of frames at once:
    # room for them all, so that none is told to resync.
    env = {"COLLABADMIN_WS_QUEUE": str(max(1000, args.backlog_rounds * 100 + 100))}
    fanout = backlog = None
    for mode in modes:
        with running_server(
            url,
            workers=args.workers,
            extra_env={**env, "COLLABADMIN_HUB_WAKE": mode},
            asgi_server=args.asgi_server,
        ) as server:
            ws_url = f"ws://127.0.0.1:{server.port}/api/ws" + ("?batch=1" if args.batch else "")
            result = asyncio.run(
                latency_run(ws_url, server.token, conninfo, sockets=args.sockets,
                            rate=args.rate, seconds=args.seconds, pid=server.process.pid)
            )  # fmt: skip
            rows.append((
                f"commit→socket latency p50 / p99 ({mode} mode)",
                f"{result['p50_ms']:.1f} / {result['p99_ms']:.1f} ms "
                f"({result['changes']:.0f} changes, {result['frames']:.0f} frames;"
                f" server CPU {result['server_cores']:.2f} cores, load generator"
                f" {result['client_cores']:.2f})",
            ))  # fmt: skip
            if mode == "notify":
                per_socket = asyncio.run(
                    idle_memory(ws_url, server.token, server.process.pid, args.sockets)
                )
                rows.append(("server memory per idle subscribed socket", f"{per_socket:.1f} KiB"))
                fanout, cores = asyncio.run(
                    saturation_run(ws_url, server.token, conninfo, sockets=args.sockets,
                                   seconds=args.seconds, rows=args.saturation_rows,
                                   pid=server.process.pid)
                )  # fmt: skip
                per_commit = args.saturation_rows
                rows.append((
                    f"hub fan-out at saturation ({per_commit} change{'s' * (per_commit > 1)}"
                    " per commit)",
                    f"{fanout:,.0f} frames/s (server CPU {cores:.2f} cores)",
                ))  # fmt: skip
                backlog, backlog_cores, got, wanted = asyncio.run(
                    backlog_run(ws_url, server.token, conninfo, sockets=args.sockets,
                                rounds=args.backlog_rounds, pid=server.process.pid)
                )  # fmt: skip
                rows.append((
                    f"hub fan-out from a backlog ({args.backlog_rounds * 100:,} changes"
                    " in one commit)",
                    f"{backlog:,.0f} frames/s (server CPU {backlog_cores:.2f} cores;"
                    f" {got:,} of {wanted:,} frames)",
                ))  # fmt: skip
    bare, bare_cores = asyncio.run(bare_broadcast(args.sockets, args.seconds, args.asgi_server))
    rows.append((
        f"bare websocket broadcast (same {args.asgi_server}, no hub)",
        f"{bare:,.0f} frames/s (server CPU {bare_cores:.2f} cores)",
    ))  # fmt: skip
    if backlog is not None:
        rows.append(("fan-out from a backlog / bare broadcast", f"{backlog / bare:.0%}"))
    if fanout is not None:
        rows.append(("fan-out / bare broadcast", f"{fanout / bare:.0%}"))
        # Where the load generator, not the server, sets the pace (a server
        # below one core), the frames each spent core sends are what compare.
        per_core, bare_per_core = fanout / max(cores, 1e-9), bare / max(bare_cores, 1e-9)
        rows.append((
            "frames per second of server CPU: hub / bare broadcast",
            f"{per_core:,.0f} / {bare_per_core:,.0f} ({per_core / bare_per_core:.0%})",
        ))  # fmt: skip
    print("| figure | value |")
    print("|---|---|")
    for name, value in rows:
        print(f"| {name} | {value} |")


if __name__ == "__main__":
    main()
