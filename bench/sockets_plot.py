"""Commit→socket latency percentiles against the number of sockets, as a PNG.

Runs the hub benchmark's latency measurement (``bench.hub.latency_run``: 90%
of the sockets on 100 record topics, 10% on the collection topic, a writer
committing ``--rate`` changes per second over those records) at 100, 1,000
and 5,000 sockets against one server, prints the table and draws p50, p90
and p99 against the socket count (log scale) into
``docs/benchmarks-sockets.png``.

``--workers 2`` serves the app with two uvicorn processes (each reads the
log and serves the sockets the kernel hands it); ``--batch`` opens the
sockets as ``/api/ws?batch=1``; ``--plot ''`` prints the table only.

    python -m bench.sockets_plot [--sockets 100,1000,5000] [--rate 200] [--seconds 10]
        [--workers 1] [--batch] [--plot docs/benchmarks-sockets.png]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
from pathlib import Path

from bench._lean_ws import use_uvloop
from bench._setup import fresh_database, machine, running_server
from bench.hub import latency_run
from collabadmin.db.engine import libpq_url

OUTPUT = Path(__file__).parents[1] / "docs" / "benchmarks-sockets.png"


def plot(rows: list[tuple[int, dict[str, float]]], title: str, output: Path) -> None:
    import matplotlib as mpl

    mpl.use("Agg")
    import matplotlib.pyplot as plt

    counts = [n for n, _ in rows]
    figure, axes = plt.subplots(figsize=(7, 4.2), dpi=120)
    for key, label in (("p50_ms", "p50"), ("p90_ms", "p90"), ("p99_ms", "p99")):
        axes.plot(counts, [r[key] for _, r in rows], marker="o", label=label)
    axes.set_xscale("log")
    axes.set_yscale("log")
    axes.set_xticks(counts, [f"{n:,}" for n in counts])
    axes.set_xlabel("subscribed websockets")
    axes.set_ylabel("commit → socket latency (ms)")
    axes.set_title(title, fontsize=9)
    axes.grid(True, which="both", alpha=0.3)
    axes.legend()
    figure.tight_layout()
    figure.savefig(output)


def main() -> None:
    use_uvloop()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sockets", default="100,1000,5000")
    parser.add_argument("--rate", type=float, default=200)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--workers", type=int, default=1, help="server processes")
    parser.add_argument("--batch", action="store_true", help="sockets open /api/ws?batch=1")
    parser.add_argument("--plot", default=str(OUTPUT), help="the PNG to draw ('' for none)")
    args = parser.parse_args()
    counts = [int(n) for n in args.sockets.split(",")]
    url = fresh_database("collabadmin_bench_sockets")
    conninfo = libpq_url(url)
    served = f"{args.workers} worker{'s' * (args.workers > 1)}"
    served += ", ?batch=1" if args.batch else ""
    print(f"# {dt.date.today()} on {machine()}; {args.rate:.0f} changes/s, {served}")
    rows = []
    with running_server(url, workers=args.workers) as server:
        ws_url = f"ws://127.0.0.1:{server.port}/api/ws" + ("?batch=1" if args.batch else "")
        for count in counts:
            result = asyncio.run(
                latency_run(ws_url, server.token, conninfo, sockets=count, rate=args.rate,
                            seconds=args.seconds)
            )  # fmt: skip
            rows.append((count, result))
    # Each change goes to 10% of the sockets plus the nine on its record.
    print("| sockets | p50 ms | p90 ms | p99 ms | frames | changes |")
    print("|---|---|---|---|---|---|")
    for count, r in rows:
        print(f"| {count:,} | {r['p50_ms']:.1f} | {r['p90_ms']:.1f} | {r['p99_ms']:.1f} "
              f"| {r['frames']:,.0f} | {r['changes']:,.0f} |")  # fmt: skip
    if args.plot:
        title = f"{dt.date.today()}, {machine()}, {args.rate:.0f} changes/s, notify mode, {served}"
        plot(rows, title, Path(args.plot))
        print(f"plot written to {args.plot}")


if __name__ == "__main__":
    main()
