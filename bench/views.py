"""Live views: what re-evaluating course_overview costs per batch, and its latency.

Loads 100,000 courses (two sessions each) and fills the live view's copy,
then times, with the evaluator the servers run (:meth:`ViewEvaluator.advance`:
the touched keys in SQL, the view evaluated for them and diffed with the
copy, the rows that moved and their derived entries written):

* a batch that touched 1, 100 and 10,000 courses (each moves its row), next
  to the whole view evaluated and diffed, the cost of a view without
  watches, or of the start-up catch-up;
* commit→frame latency, through a real server and socket: a session
  inserted (the view's row moves: base commit, evaluation, derived commit,
  frame) next to a plain record change (a course's description: one
  commit, one frame).

    python -m bench.views [--courses 100000] [--repeat 5] [--changes 50]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import time
from collections.abc import Awaitable, Callable

import psycopg
from websockets.asyncio.client import connect

from bench._setup import fresh_database, machine, percentile, running_server
from collabadmin.db.engine import Database, libpq_url
from collabadmin.demo.resources import demo_registry
from collabadmin.demo.views import COURSE_OVERVIEW
from collabadmin.views.evaluator import ViewEvaluator

EXTRA_COURSES = """
INSERT INTO courses (title, short_name, description, status)
SELECT 'Bench course ' || n, 'bench-' || n, '', 'open'
  FROM generate_series(1, %(count)s) AS n
"""
SESSIONS = """
INSERT INTO sessions (course_id, starts_on, ends_on, enrollment_open)
SELECT c.id, date '2031-01-01' + s, date '2031-01-02' + s, s = 0
  FROM courses c, generate_series(0, 1) AS s
"""
FULL_QUERY = """
SELECT count(title), sum(sessions + open_sessions + instructors + pending_drafts), max(next_start)
  FROM course_overview
"""
# Each touched course's row moves: its first session's enrollment flips.
FLIP = """
UPDATE sessions SET enrollment_open = NOT enrollment_open
 WHERE id IN (SELECT min(s.id) FROM sessions s
               WHERE s.course_id = ANY(%(ids)s) GROUP BY s.course_id)
"""


async def _median(
    repeat: int, prepare: Callable[[], None], run: Callable[[], Awaitable[int]]
) -> tuple[float, int]:
    times, written = [], 0
    for _ in range(repeat):
        prepare()
        start = time.perf_counter()
        written = await run()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), written


async def evaluation(url: str, courses: list[int], repeat: int) -> None:
    conninfo = libpq_url(url)
    db = Database(url, pool_size=2)
    evaluator = ViewEvaluator(db, demo_registry(), [COURSE_OVERVIEW])
    await evaluator.compile()
    view = evaluator.compiled[COURSE_OVERVIEW.name]

    start = time.perf_counter()
    await evaluator.advance(view, whole=True)  # the first filling: no derived entries
    print(f"filling the copy with {len(courses):,} rows: {time.perf_counter() - start:.1f} s")

    async def query() -> int:
        async with db.connection() as tx:
            # Every column used, so none of the view's subqueries is left out.
            await tx.value(FULL_QUERY)
        return 0

    plain, _ = await _median(repeat, lambda: None, query)
    print(f"the full view query (every row, every column): median {plain:.0f} ms")

    async def whole() -> int:
        return len(await evaluator.advance(view, whole=True))

    full, moved = await _median(repeat, lambda: None, whole)
    print(f"the whole view, evaluated and diffed (nothing moved): median {full:.0f} ms")

    async def batch() -> int:
        return len(await evaluator.advance(view))

    print("| courses touched | advance (ms, median) | rows written |")
    print("| ---: | ---: | ---: |")
    for touched in (1, 100, 10_000):
        chosen: list[int] = []

        def prepare(touched: int = touched, chosen: list[int] = chosen) -> None:
            chosen[:] = random.sample(courses, touched)
            with psycopg.connect(conninfo, autocommit=True) as conn:
                conn.execute(FLIP, {"ids": chosen})

        await batch()  # start from a caught-up position
        ms, written = await _median(repeat, prepare, batch)
        print(f"| {touched:,} | {ms:.1f} | {written:,} |")
    print(f"| (the whole view, evaluated and diffed) | {full:.0f} | {moved} |")
    print(f"| (the full view query alone) | {plain:.0f} | |")
    await db.dispose()


async def latency(url: str, course: int, changes: int) -> None:
    conninfo = libpq_url(url)
    with running_server(url) as server:
        headers = {"Authorization": f"Bearer {server.token}"}
        base = f"ws://127.0.0.1:{server.port}/api/ws"
        async with connect(base, additional_headers=headers) as ws:
            for topic in (f"r/courses/{course}", f"r/course_overview/{course}"):
                await ws.send(json.dumps({"type": "subscribe", "topic": topic}))
                assert json.loads(await ws.recv())["type"] == "subscribed"
            results: dict[str, list[float]] = {"record": [], "view": []}
            with psycopg.connect(conninfo, autocommit=True) as conn:
                # The server evaluates the whole view once at start: wait it out.
                conn.execute(
                    "INSERT INTO sessions (course_id, starts_on, ends_on)"
                    " VALUES (%s, '2032-01-01', '2032-01-02')",
                    (course,),
                )
                while json.loads(await asyncio.wait_for(ws.recv(), 120))["type"] != "change":
                    pass
                for n in range(changes):
                    for kind in ("record", "view"):
                        if kind == "record":
                            statement = "UPDATE courses SET description = %s WHERE id = %s"
                            params: tuple[object, ...] = (f"Bench {n}", course)
                        else:
                            statement = (
                                "INSERT INTO sessions (course_id, starts_on, ends_on)"
                                " VALUES (%s, '2032-01-01', '2032-01-02')"
                            )
                            params = (course,)
                        conn.execute(statement, params)
                        committed = time.perf_counter()
                        wanted = "r/courses/" if kind == "record" else "r/course_overview/"
                        while True:
                            frame = json.loads(await asyncio.wait_for(ws.recv(), 10))
                            if frame["type"] == "change" and frame["topic"].startswith(wanted):
                                break
                        results[kind].append((time.perf_counter() - committed) * 1000)
        print("| commit → frame (ms) | p50 | p95 | max |")
        print("| --- | ---: | ---: | ---: |")
        for kind, label in (("record", "a course's own change"), ("view", "its overview row")):
            values = results[kind]
            print(
                f"| {label} | {percentile(values, 50):.1f} | {percentile(values, 95):.1f}"
                f" | {max(values):.1f} |"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--courses", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--changes", type=int, default=50)
    args = parser.parse_args()
    print(f"# {machine()}")
    url = fresh_database("collabadmin_bench_views")
    with psycopg.connect(libpq_url(url), autocommit=True) as conn:
        have = conn.execute("SELECT count(*) FROM courses").fetchone()
        conn.execute(EXTRA_COURSES, {"count": max(0, args.courses - (have[0] if have else 0))})
        conn.execute(SESSIONS)
        conn.execute("ANALYZE")
        courses = [int(r[0]) for r in conn.execute("SELECT id FROM courses ORDER BY id")]
    asyncio.run(evaluation(url, courses, args.repeat))
    asyncio.run(latency(url, courses[len(courses) // 2], args.changes))


if __name__ == "__main__":
    main()
