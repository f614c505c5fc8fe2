"""Re-evaluating workflow runs after a change batch.

Loads 10,000 courses with a live ``launch-course`` run each, then times the
evaluator (the same code the servers run) on:

* every live run, when nothing moved (the start-up catch-up, and the worst
  case a batch can cause);
* a batch that moves all 10,000 runs (a bulk UPDATE of every course's
  status, then back);
* a batch of 100 changed courses, the everyday case.

Each figure is the wall time from "the batch is committed" to "the runs are
written", i.e. one :meth:`Evaluator.step` (subject extraction in SQL, the
conditions of every touched run in one statement, one UPDATE).

    python -m bench.workflows [--runs 10000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable

import psycopg

from bench._setup import fresh_database, machine
from collabadmin.db.engine import Database, libpq_url
from collabadmin.demo.resources import demo_resources
from collabadmin.demo.workflows import LAUNCH_COURSE
from collabadmin.resources.resource import Registry
from collabadmin.workflows.evaluation import Evaluator, compile_workflow

EXTRA_COURSES = """
INSERT INTO courses (title, short_name, description)
SELECT 'Bench course ' || n, 'bench-' || n, CASE WHEN n %% 2 = 0 THEN 'Some text' ELSE '' END
  FROM generate_series(1, %(count)s) AS n
"""
RUNS = """
INSERT INTO collabadmin.collabadmin_workflow_run
       (workflow, subject_resource, subject_pk, steps, started_by_name)
SELECT 'launch-course', 'courses', id::text, '{}', 'bench'
  FROM courses ORDER BY id LIMIT %(count)s
"""


async def _timed(
    repeat: int, prepare: Callable[[], None], run: Callable[[], Awaitable[int]]
) -> tuple[float, int]:
    """Median wall time (ms) of ``run`` after ``prepare``, and the runs it moved last time."""
    times, moved = [], 0
    for _ in range(repeat):
        prepare()
        start = time.perf_counter()
        moved = await run()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), moved


async def measure(url: str, runs: int, repeat: int) -> None:
    conninfo = libpq_url(url)
    registry = Registry(demo_resources())
    db = Database(url, pool_size=2)
    evaluator = Evaluator(db, registry, [compile_workflow(LAUNCH_COURSE, registry)])
    position = ""

    async def snapshot() -> str:
        async with db.connection() as tx:
            return str(await tx.value("SELECT pg_current_snapshot()::text"))

    async def step() -> int:
        nonlocal position
        before = evaluator.evaluations
        position = await evaluator.step(position)
        return evaluator.evaluations - before

    def sql(statement: str, **params: object) -> None:
        with psycopg.connect(conninfo, autocommit=True) as conn:
            conn.execute(statement, params)

    first = time.perf_counter()
    moved = len(await evaluator.evaluate(None))  # the start-up catch-up
    print(f"first evaluation of {runs} new runs: {(time.perf_counter() - first) * 1000:.0f} ms,"
          f" {moved} runs written")  # fmt: skip

    async def all_runs() -> int:
        return len(await evaluator.evaluate(None))

    steady, moved = await _timed(repeat, lambda: None, all_runs)
    print(f"all {runs} live runs, nothing moved: median {steady:.0f} ms ({moved} written)")

    flip = {"value": "open"}

    def bulk() -> None:
        flip["value"] = "draft" if flip["value"] == "open" else "open"
        sql("UPDATE courses SET status = %(s)s WHERE id IN (SELECT subject_pk::int"
            " FROM collabadmin.collabadmin_workflow_run)", s=flip["value"])  # fmt: skip

    position = await snapshot()
    everything, _ = await _timed(repeat, bulk, step)
    print(f"a batch moving all {runs} runs (bulk status change): median {everything:.0f} ms")

    def hundred() -> None:
        flip["value"] = "draft" if flip["value"] == "open" else "open"
        sql("UPDATE courses SET status = %(s)s WHERE id IN (SELECT subject_pk::int FROM"
            " collabadmin.collabadmin_workflow_run ORDER BY random() LIMIT 100)",
            s=flip["value"])  # fmt: skip

    position = await snapshot()
    small, _ = await _timed(repeat * 4, hundred, step)
    print(f"a batch of 100 changed courses: median {small:.1f} ms")
    await db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    print(f"# {machine()}")
    url = fresh_database("collabadmin_bench_workflows")
    with psycopg.connect(libpq_url(url), autocommit=True) as conn:
        have = conn.execute("SELECT count(*) FROM courses").fetchone()
        missing = max(0, args.runs - (have[0] if have else 0))
        conn.execute(EXTRA_COURSES, {"count": missing})
        conn.execute(RUNS, {"count": args.runs})
    asyncio.run(measure(url, args.runs, args.repeat))


if __name__ == "__main__":
    main()
