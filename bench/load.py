"""Many editors on few records: read-modify-PATCH with presence, then prove nothing was lost.

Each of ``--editors`` simulated people loops for ``--seconds``: open one of
``--records`` courses (GET), announce it is editing a field (presence over
its own websocket, subscribed to that record), write a unique value to that
field with ``X-Base-Version`` (field merge), and announce it is viewing
again. A 409 is a conflict the person would resolve; it is counted, not
retried.

Afterwards every successful PATCH is checked against the change log: the
entry at the version the server returned must exist, be this write, and
set the field to the value written; and each record's versions must run
without a gap. A write that succeeded but is not in the log, or was
recorded with another value, is a lost update.

    python -m bench.load [--editors 1000] [--records 100] [--seconds 300]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import random
import time
from collections import defaultdict
from dataclasses import dataclass, field

import psycopg
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from bench._http import Connection
from bench._setup import fresh_database, machine, percentile, running_server
from collabadmin.db.engine import libpq_url

FIELDS = ("title", "description")


@dataclass
class Tally:
    reads: list[float] = field(default_factory=list)
    writes: list[float] = field(default_factory=list)
    presence: int = 0
    sockets_dropped: int = 0  # closed by the server, e.g. a keepalive ping left unanswered
    conflicts: int = 0
    errors: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    written: list[tuple[str, int, str, str]] = field(
        default_factory=list
    )  # pk, version, field, value


async def _drain(ws: ClientConnection) -> None:
    with contextlib.suppress(ConnectionClosed):
        async for _ in ws:
            pass


class EditorSocket:
    """One editor's websocket: follows the record it opens and says what it does there."""

    def __init__(self, ws: ClientConnection | None, tally: Tally) -> None:
        self.ws = ws
        self.tally = tally
        self.subscribed: str | None = None
        self.drain = None if ws is None else asyncio.create_task(_drain(ws))

    async def _send(self, *frames: dict[str, str]) -> None:
        if self.ws is None:
            return
        try:
            for frame in frames:
                await self.ws.send(json.dumps(frame))
        except ConnectionClosed:
            self.tally.sockets_dropped += 1
            self.ws = None

    async def editing(self, topic: str, field_name: str) -> None:
        frames: list[dict[str, str]] = []
        if self.subscribed != topic:
            if self.subscribed is not None:
                frames.append({"type": "unsubscribe", "topic": self.subscribed})
            frames.append({"type": "subscribe", "topic": topic})
            self.subscribed = topic
        frames.append({"type": "presence", "topic": topic, "state": "editing",
                       "field": field_name})  # fmt: skip
        await self._send(*frames)
        self.tally.presence += self.ws is not None

    async def viewing(self, topic: str) -> None:
        await self._send({"type": "presence", "topic": topic, "state": "viewing"})

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
        if self.drain is not None:
            self.drain.cancel()


async def editor(
    n: int, tally: Tally, *, port: int, token: str, records: int, until: float, presence: bool
) -> None:
    rng = random.Random(n)
    headers = {"Authorization": f"Bearer {token}"}
    http = await Connection.open("127.0.0.1", port)
    ws = None
    if presence:
        ws = await connect(
            f"ws://127.0.0.1:{port}/api/ws", additional_headers=headers, ping_interval=None
        )
    socket = EditorSocket(ws, tally)
    step = 0
    while time.monotonic() < until:
        step += 1
        pk = rng.randint(1, records)
        name = rng.choice(FIELDS)
        topic = f"r/courses/{pk}"
        start = time.perf_counter()
        reply = await http.request("GET", f"/api/r/courses/{pk}", headers=headers)
        tally.reads.append(time.perf_counter() - start)
        if reply.status != 200:
            tally.errors[reply.status] += 1
            continue
        version = reply.json()["_version"]
        await socket.editing(topic, name)
        value = f"editor {n} write {step}"
        start = time.perf_counter()
        reply = await http.request(
            "PATCH",
            f"/api/r/courses/{pk}",
            body={name: value},
            headers={**headers, "X-Base-Version": str(version)},
        )
        tally.writes.append(time.perf_counter() - start)
        if reply.status == 200:
            tally.written.append((str(pk), reply.json()["_version"], name, value))
        elif reply.status == 409:
            tally.conflicts += 1
        else:
            tally.errors[reply.status] += 1
        await socket.viewing(topic)
    await http.close()
    await socket.close()


def check_log(conninfo: str, first_id: int, tally: Tally) -> tuple[int, int]:
    """(lost updates, records whose versions have a gap), from the change log."""
    with psycopg.connect(conninfo) as conn:
        rows = conn.execute(
            "SELECT pk, version_before, version, diff FROM collabadmin.collabadmin_change"
            " WHERE id > %s AND resource = 'courses' ORDER BY id",
            (first_id,),
        ).fetchall()
    logged = {(pk, version): diff for pk, _, version, diff in rows}
    lost = 0
    for pk, version, name, value in tally.written:
        diff = logged.get((pk, version))
        if diff is None or diff.get(name, {}).get("new") != value:
            lost += 1
    gaps = 0
    by_record: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for pk, before, version, _ in rows:
        by_record[pk].append((before, version))
    for steps in by_record.values():
        gaps += any(b != prev_after for (_, prev_after), (b, _) in itertools.pairwise(steps))
    return lost, gaps


async def run(port: int, token: str, args: argparse.Namespace, tally: Tally) -> float:
    until = time.monotonic() + args.seconds
    start = time.perf_counter()
    await asyncio.gather(
        *(
            editor(
                n,
                tally,
                port=port,
                token=token,
                records=args.records,
                until=until,
                presence=not args.no_presence,
            )
            for n in range(args.editors)
        )
    )
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--editors", type=int, default=1000)
    parser.add_argument("--records", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=300)
    parser.add_argument("--no-presence", action="store_true")
    args = parser.parse_args()
    print(f"# {machine()}; {args.editors} editors on {args.records} records, {args.seconds:.0f} s")
    url = fresh_database("collabadmin_bench_load")
    conninfo = libpq_url(url)
    with psycopg.connect(conninfo) as conn:
        row = conn.execute(
            "SELECT coalesce(max(id), 0) FROM collabadmin.collabadmin_change"
        ).fetchone()
    first_id = row[0] if row else 0
    tally = Tally()
    with running_server(url) as server:
        elapsed = asyncio.run(run(server.port, server.token, args, tally))
    lost, gaps = check_log(conninfo, first_id, tally)
    attempts = len(tally.written) + tally.conflicts + sum(tally.errors.values())
    print("| figure | value |")
    print("|---|---|")
    print(f"| successful PATCHes | {len(tally.written):,} ({len(tally.written) / elapsed:.0f}/s) |")
    print(f"| conflicts (409) | {tally.conflicts:,} ({tally.conflicts / max(1, attempts):.1%}) |")
    print(f"| other errors | {dict(tally.errors) or 'none'} |")
    print(f"| presence frames sent | {tally.presence:,} |")
    print(f"| editor sockets closed by the server | {tally.sockets_dropped:,} |")
    print(f"| GET p50 / p99 | {percentile(tally.reads, 50) * 1000:.0f} / "
          f"{percentile(tally.reads, 99) * 1000:.0f} ms |")  # fmt: skip
    print(f"| PATCH p50 / p99 | {percentile(tally.writes, 50) * 1000:.0f} / "
          f"{percentile(tally.writes, 99) * 1000:.0f} ms |")  # fmt: skip
    print(f"| lost updates (checked against the log) | {lost} |")
    print(f"| records with a version gap | {gaps} |")


if __name__ == "__main__":
    main()
