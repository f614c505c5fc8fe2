"""Evaluating workflow runs: many runs in one statement, after each change batch.

Each workflow compiles to one SELECT over its runs in which every automatic
step's condition is a scalar subquery on the run's subject, and every step
link's record a second one. Evaluating 10,000 runs is then one statement and
one UPDATE of the runs whose state moved, not 10,000 round trips.

The :class:`Evaluator` follows the change log in snapshot batches, like
the hub and with the same predicate
(:func:`~collabadmin.changelog.batches.committed_between`). It works out in
SQL which subjects a batch touched (the subject's own rows, and related rows
through the workflow's ``watches``; the statement is built by
:mod:`collabadmin.views.touched`, which live views share), re-evaluates
only their runs, and writes the new step states with ``source: "workflow"``; those writes are
change-log entries in turn, which is how progress reaches
``workflow-runs/{id}`` subscribers. At start it evaluates every live run,
catching up on whatever changed while no server was running.

Races: the runs' rows are locked (``FOR UPDATE``) by the statement that
reads them, so a person ticking a manual step and an evaluation cannot
overwrite each other; several instances evaluate one after another under a
transaction-level advisory lock, each seeing the previous one's writes, so
the same progress is not written twice. A condition read just before a
concurrent commit is re-read when that commit's batch arrives.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from collabadmin.changelog.batches import current_snapshot
from collabadmin.db.background import BackgroundTask, until_paced
from collabadmin.db.engine import SYSTEM, Database, Row, Tx
from collabadmin.resources.resource import Registry, Resource
from collabadmin.views.definitions import Watch
from collabadmin.views.touched import Target, touched_keys, touched_sql, watched_resources
from collabadmin.workflows.definitions import Workflow

__all__ = ["CompiledWorkflow", "Evaluator", "compile_workflow", "evaluate_runs"]

log = logging.getLogger("collabadmin.workflows")

# One advisory lock key for "evaluating workflow runs" (any value unique to us).
EVALUATION_LOCK = 0x636F6C6C6162  # "collab"

_UPDATE = """
UPDATE collabadmin.collabadmin_workflow_run r
   SET steps = v.steps,
       status = v.status,
       updated_at = now(),
       completed_at = CASE WHEN v.status = 'done' THEN coalesce(r.completed_at, now()) END
  FROM jsonb_to_recordset(%(runs)s) AS v(id bigint, steps jsonb, status text)
 WHERE r.id = v.id
"""


def _bind(sql: str, subject: str) -> str:
    """A step's SQL as a scalar subquery on this run's subject (``%`` escaped for psycopg)."""
    return "(" + sql.replace("%", "%%").replace(":subject", subject) + ")"


@dataclass(frozen=True, slots=True)
class CompiledWorkflow:
    workflow: Workflow
    subject: Resource
    sql: str  # runs with conditions and links; parameters: workflow, ids, subjects
    evaluation_sql: str  # only what evaluation needs; the same parameters

    def links(self, row: Row) -> dict[str, str | None]:
        """Each step link's record key for one run row of :attr:`sql`."""
        found: dict[str, str | None] = {}
        for step in self.workflow.steps:
            if step.link is None:
                continue
            if step.link.pk_sql is not None:
                found[step.key] = row[f"link:{step.key}"]
            elif step.link.resource == self.subject.name:
                found[step.key] = row["subject_pk"]
            else:
                found[step.key] = None
        return found


def compile_workflow(workflow: Workflow, registry: Registry) -> CompiledWorkflow:
    subject = registry.get(workflow.subject)
    if not subject.addressable:
        raise ValueError(
            f"workflow {workflow.name}: {subject.name} has no key to name a subject by"
        )
    # ``:subject`` is the subject's key: typed for a single integer key (so a
    # step's lookup uses the index), else its text (a composite key's text
    # as API.md writes it, e.g. '1,23').
    single_integer = len(subject.pk) == 1 and subject.pk_field.type == "integer"
    key = "r.subject_pk::bigint" if single_integer else "r.subject_pk"
    conditions = [
        f'coalesce({_bind(step.condition_sql, key)}, false) AS "auto:{step.key}"'
        for step in workflow.steps
        if step.condition_sql is not None
    ]
    links = [
        f'{_bind(step.link.pk_sql, key)}::text AS "link:{step.key}"'
        for step in workflow.steps
        if step.link is not None and step.link.pk_sql is not None
    ]
    where = (
        " WHERE r.workflow = %(workflow)s"
        "   AND (%(ids)s::bigint[] IS NULL OR r.id = ANY(%(ids)s::bigint[]))"
        "   AND (%(subjects)s::text[] IS NULL OR r.subject_pk = ANY(%(subjects)s::text[]))"
    )
    sql = (
        f"SELECT {', '.join(['r.*', 'u.display_name AS assignee_name', *conditions, *links])}"
        " FROM collabadmin.collabadmin_workflow_run r"
        " LEFT JOIN collabadmin.collabadmin_user u ON u.id = r.assignee_id" + where
    )
    evaluation_sql = (
        f"SELECT {', '.join(['r.id', 'r.steps', 'r.status', *conditions])}"
        " FROM collabadmin.collabadmin_workflow_run r" + where
    )
    return CompiledWorkflow(workflow, subject, sql, evaluation_sql)


def next_state(workflow: Workflow, row: Row, now: str) -> tuple[dict[str, dict[str, Any]], str]:
    """The run's step states and status once its automatic steps follow ``row``'s data."""
    stored: Mapping[str, dict[str, Any]] = row["steps"] or {}
    steps: dict[str, dict[str, Any]] = {}
    for step in workflow.steps:
        state = stored.get(step.key) or {"done": False, "at": None, "by": None}
        if step.auto:
            done = bool(row[f"auto:{step.key}"])
            if done != bool(state.get("done")):
                state = {"done": done, "at": now if done else None, "by": None}
        steps[step.key] = state
    status = "done" if all(s["done"] for s in steps.values()) else "open"
    return steps, status


async def evaluate_runs(
    tx: Tx,
    compiled: CompiledWorkflow,
    *,
    ids: Sequence[int] | None = None,
    subjects: Iterable[str] | None = None,
) -> list[int]:
    """Re-evaluate the live runs chosen by ``ids``/``subjects`` (all if neither); changed ids.

    Runs in the caller's transaction, which should be attributed to the
    system with ``source: "workflow"`` (or to the person whose action
    prompted it).
    """
    now = str(await tx.value("SELECT to_json(now())#>>'{}'"))
    rows = await tx.rows(
        compiled.evaluation_sql + " AND r.status <> 'cancelled' ORDER BY r.id FOR UPDATE OF r",
        {
            "workflow": compiled.workflow.name,
            "ids": None if ids is None else list(ids),
            "subjects": None if subjects is None else sorted(set(subjects)),
        },
    )
    moved = []
    for row in rows:
        steps, status = next_state(compiled.workflow, row, now)
        if steps != row["steps"] or status != row["status"]:
            moved.append({"id": row["id"], "steps": steps, "status": status})
    if moved:
        await tx.run(_UPDATE, {"runs": Jsonb(moved)})
    return [m["id"] for m in moved]


def touch_targets(compiled: Sequence[CompiledWorkflow]) -> list[Target]:
    """Each workflow as keyed derived state, its runs by subject (:mod:`collabadmin.views.touched`).

    A subject is touched by a change of its own row, or of a watched row
    that points at it before or after the change (``diff``), or now.
    """
    targets = []
    for c in compiled:
        # The subject's own changes: the entry's key is the subject's key (its text).
        watches = {c.subject.name: Watch(keys_sql="SELECT b.pk")}
        for resource_name, column in c.workflow.watches.items():
            watches[resource_name] = Watch(column=column)
        targets.append(Target(c.workflow.name, watches))
    return targets


class Evaluator(BackgroundTask):
    """Re-evaluates the runs of the subjects each batch of changes touched.

    It follows the change log on its own position, in the same snapshot
    batches as the hub, but reads only which subjects were touched (computed
    in SQL), never the entries themselves: a bulk update of 100,000 rows
    costs one set of subject keys, not 100,000 entries in memory. It is woken
    with the hub (NOTIFY) and also looks every ``interval`` seconds, which is
    what poll mode relies on.
    """

    name = "collabadmin-workflows"

    def __init__(
        self,
        db: Database,
        registry: Registry,
        compiled: Sequence[CompiledWorkflow],
        *,
        interval: float = 1.0,
        pace: float = 0.0,
    ) -> None:
        super().__init__()
        self.db = db
        self.compiled = {c.workflow.name: c for c in compiled}
        self.interval = interval
        # At least this many seconds between the starts of two steps: under a
        # stream of commits one step covers all those since the last.
        self.pace = pace
        self.evaluations = 0
        self.reads = 0  # reads of the change log (one per step)
        self._wake = asyncio.Event()
        targets = touch_targets(compiled)
        self._resources = watched_resources(targets)
        self._sql = touched_sql(targets, registry)

    def wake(self) -> None:
        self._wake.set()

    async def start(self) -> None:
        if self.compiled:  # no workflows, nothing to follow
            await super().start()

    async def run(self) -> None:
        position: str | None = None
        loop = asyncio.get_running_loop()
        began, worked = loop.time(), 0.0
        while True:
            try:
                if position is None:
                    # At start (and after an error): everything, from a fresh position,
                    # catching up on whatever changed while no server was evaluating.
                    async with self.db.connection() as tx:
                        position = await current_snapshot(tx)
                    await self.evaluate(None)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.interval)
                await until_paced(began, self.pace, worked)  # wake-ups meanwhile join this step
                self._wake.clear()
                began = loop.time()
                position = await self.step(position)
                worked = loop.time() - began
            except (psycopg.Error, OSError) as exc:
                log.warning("workflow evaluation failed: %s: %s", type(exc).__name__, exc)
                position = None
                await asyncio.sleep(1.0)
            except Exception:
                log.exception("workflow evaluation failed")
                position = None
                await asyncio.sleep(1.0)

    async def step(self, lower: str) -> str:
        """Evaluate the runs touched since snapshot ``lower``; the new position."""
        async with self.db.connection() as tx:
            self.reads += 1
            rows = await tx.rows(self._sql, {"lower": lower, "resources": self._resources})
        upper, keys = touched_keys(rows)
        touched = {name: subjects for name, subjects in keys.items() if subjects is not None}
        if touched:
            await self.evaluate(touched)
        return upper

    async def evaluate(self, touched: Mapping[str, set[str]] | None) -> list[int]:
        """Re-evaluate the runs of ``touched`` subjects per workflow (None: all live runs)."""
        moved: list[int] = []
        async with self.db.transaction(SYSTEM, source="workflow") as tx:
            await tx.run("SELECT pg_advisory_xact_lock(%(k)s)", {"k": EVALUATION_LOCK})
            for name, compiled in self.compiled.items():
                subjects = None if touched is None else touched.get(name)
                if touched is not None and not subjects:
                    continue
                moved += await evaluate_runs(tx, compiled, subjects=subjects)
        self.evaluations += 1
        return moved
