"""Commit→socket latency percentiles against the number of sockets, as a PNG.

Runs the hub benchmark's latency measurement (``bench.hub.latency_run``: 90%
of the sockets on 100 record topics, 10% on the collection topic, a writer
committing ``--rate`` changes per second over those records) at 100, 1,000
and 5,000 sockets against one server, prints the table and draws p50, p90
and p99 against the socket count (log scale) into
``docs/benchmarks-sockets.png``.

    python -m bench.sockets_plot [--sockets 100,1000,5000] [--rate 200] [--seconds 10]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
from pathlib import Path

from bench._setup import fresh_database, machine, running_server
from bench.hub import latency_run
from collabadmin.db.engine import libpq_url

OUTPUT = Path(__file__).parents[1] / "docs" / "benchmarks-sockets.png"


def plot(rows: list[tuple[int, dict[str, float]]], title: str) -> None:
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
    figure.savefig(OUTPUT)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sockets", default="100,1000,5000")
    parser.add_argument("--rate", type=float, default=200)
    parser.add_argument("--seconds", type=float, default=10)
    args = parser.parse_args()
    counts = [int(n) for n in args.sockets.split(",")]
    url = fresh_database("collabadmin_bench_sockets")
    conninfo = libpq_url(url)
    rows = []
    with running_server(url) as server:
        ws_url = f"ws://127.0.0.1:{server.port}/api/ws"
        for count in counts:
            result = asyncio.run(
                latency_run(ws_url, server.token, conninfo, sockets=count, rate=args.rate,
                            seconds=args.seconds)
            )  # fmt: skip
            rows.append((count, result))
    print("| sockets | p50 ms | p90 ms | p99 ms | frames |")
    print("|---|---|---|---|---|")
    for count, r in rows:
        print(f"| {count:,} | {r['p50_ms']:.1f} | {r['p90_ms']:.1f} | {r['p99_ms']:.1f} "
              f"| {r['frames']:,.0f} |")  # fmt: skip
    plot(rows, f"{dt.date.today()}, {machine()}, {args.rate:.0f} changes/s, notify mode")
    print(f"plot written to {OUTPUT}")


if __name__ == "__main__":
    main()
