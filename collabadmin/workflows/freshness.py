"""Runs read after a write show that write's effect on their automatic steps.

The evaluator moves steps after each batch of changes, in the background,
so a client that PATCHes a course and reads its checklist at once could
see the old progress. A read of runs therefore evaluates their automatic
steps first: one read-only statement for the runs read (the same compiled
SELECT the evaluator uses); only when a step would move does it take the
evaluation lock and write, exactly as the evaluator would (``source:
"workflow"``), waiting for a running evaluation at most a bounded time. A
write that returned has committed, so the statement sees it.

When the bound is hit the runs are read as they are and the response says
so (``X-Derived-Stale: workflow_runs``, :mod:`collabadmin.freshness`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from psycopg import errors

from collabadmin.db.engine import SYSTEM, Database, Row
from collabadmin.freshness import note_stale
from collabadmin.workflows.evaluation import (
    EVALUATION_LOCK,
    CompiledWorkflow,
    evaluate_runs,
    next_state,
)

__all__ = ["READ_WAIT", "bring_up_to_date"]

READ_WAIT = 2.0  # seconds a read waits for a running evaluation
STALE = "workflow_runs"


async def _would_move(
    db: Database, compiled: Mapping[str, CompiledWorkflow], ids: Mapping[str, list[int]]
) -> dict[str, list[int]]:
    moving: dict[str, list[int]] = {}
    async with db.read() as tx:
        now = str(await tx.value("SELECT to_json(now())#>>'{}'"))
        for name, run_ids in ids.items():
            workflow = compiled[name]
            rows = await tx.rows(
                workflow.evaluation_sql + " AND r.status <> 'cancelled'",
                {"workflow": name, "ids": run_ids, "subjects": None},
            )
            for row in rows:
                steps, status = next_state(workflow.workflow, row, now)
                if steps != row["steps"] or status != row["status"]:
                    moving.setdefault(name, []).append(row["id"])
    return moving


async def bring_up_to_date(
    db: Database,
    compiled: Mapping[str, CompiledWorkflow],
    runs: Sequence[Row],
    *,
    wait: float = READ_WAIT,
) -> bool:
    """Evaluate the automatic steps of ``runs`` before they are read; True if any moved.

    ``runs`` are rows of the runs table (``id``, ``workflow``, ``status``).
    """
    ids: dict[str, list[int]] = {}
    for run in runs:
        if run["workflow"] in compiled and run["status"] != "cancelled":
            ids.setdefault(run["workflow"], []).append(run["id"])
    if not ids:
        return False
    moving = await _would_move(db, compiled, ids)
    if not moving:
        return False
    try:
        async with db.transaction(SYSTEM, source="workflow") as tx:
            timeout = f"{max(1, round(wait * 1000))}ms"
            await tx.run("SELECT set_config('lock_timeout', %(t)s, true)", {"t": timeout})
            await tx.run("SELECT pg_advisory_xact_lock(%(k)s)", {"k": EVALUATION_LOCK})
            await tx.run("SET LOCAL lock_timeout TO DEFAULT")
            moved = [await evaluate_runs(tx, compiled[name], ids=i) for name, i in moving.items()]
    except errors.LockNotAvailable:
        note_stale(STALE)
        return False
    return any(moved)
