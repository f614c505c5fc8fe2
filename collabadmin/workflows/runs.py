"""Workflow runs: who sees which, how they are shown, listing them.

A run is seen by whoever may view its subject record (within their row
scope), and worked on (started, manual steps ticked, cancelled) by whoever
may change it. Automatic steps follow the data only: completing or
reopening one by hand is a 409. The writes are action objects
(:mod:`collabadmin.workflows.actions`); this service answers the questions
they share and serves the reads, taking typed inputs (a
:class:`~collabadmin.workflows.listing.RunListQuery`), never raw parameters.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, and_, false, or_, select, true

from collabadmin.db.engine import Actor, Row, Tx
from collabadmin.errors import Forbidden, NotFound
from collabadmin.inputs import ascii_int
from collabadmin.resources.service import RecordService
from collabadmin.workflows.definitions import Workflow
from collabadmin.workflows.evaluation import CompiledWorkflow, compile_workflow
from collabadmin.workflows.freshness import bring_up_to_date
from collabadmin.workflows.listing import RunListQuery
from collabadmin.workflows.tables import RUNS

__all__ = ["RunService"]


class RunService:
    def __init__(self, records: RecordService, workflows: Sequence[Workflow]) -> None:
        self.records = records
        self.db = records.db
        self.policy = records.policy
        self.registry = records.registry
        self.compiled = {
            w.name: compile_workflow(w, self.registry)
            for w in workflows
            if w.subject in self.registry
        }

    # -- visibility ------------------------------------------------------------

    def summaries(self, actor: Actor) -> list[dict[str, Any]]:
        """The workflows ``actor`` may see (those whose subject it may view), as listed."""
        return [
            c.workflow.summary()
            for c in self.compiled.values()
            if self.policy.allows(actor, c.subject, "view")
        ]

    def workflow(self, name: str) -> CompiledWorkflow:
        compiled = self.compiled.get(name)
        if compiled is None:
            raise NotFound(f"No workflow named {name!r}.")
        return compiled

    def visible_clause(self, actor: Actor) -> ColumnElement[bool]:
        """The runs ``actor`` may see: those whose subject it may view."""
        clauses = []
        for compiled in self.compiled.values():
            subject = compiled.subject
            if not self.policy.allows(actor, subject, "view"):
                continue
            clause: ColumnElement[bool] = RUNS.c.workflow == compiled.workflow.name
            scope = self.policy.row_filter(actor, subject, "view")
            if scope is not None:
                clause = and_(clause, RUNS.c.subject_pk.in_(subject.keys_where(scope)))
            clauses.append(clause)
        return or_(*clauses) if clauses else false()

    async def may_change(self, tx: Tx, actor: Actor, compiled: CompiledWorkflow, pk: str) -> None:
        """403 unless ``actor`` may change the run's subject ``pk`` (within its row scope)."""
        subject = compiled.subject
        message = f"You may not work on {subject.label_plural.lower()}' workflows."
        if not self.policy.allows(actor, subject, "change"):
            raise Forbidden(message)
        scope = self.policy.row_filter(actor, subject, "change")
        if scope is None:
            return
        key = subject.key_text_clause(pk)
        if not await tx.value(select(true()).where(key, scope).limit(1)):
            raise Forbidden(message)

    async def load(self, tx: Tx, actor: Actor, raw_id: int | str, *, lock: bool = False) -> Row:
        """A run ``actor`` may see (404 otherwise), locked for a write if asked."""
        run_id = raw_id if isinstance(raw_id, int) else ascii_int(raw_id)
        if run_id is None:
            raise NotFound(f"No workflow run {raw_id!r}.")
        statement = select(RUNS).where(RUNS.c.id == run_id, self.visible_clause(actor))
        if lock:
            statement = statement.with_for_update(of=RUNS)
        row = await tx.row(statement)
        if row is None:
            raise NotFound(f"No workflow run {raw_id!r}.")
        return row

    # -- bodies ---------------------------------------------------------------

    async def bodies(self, tx: Tx, actor: Actor, rows: Sequence[Row]) -> list[dict[str, Any]]:
        """Runs as the API shows them, with each step's link resolved for ``actor``."""
        detailed: dict[int, Row] = {}
        by_workflow: dict[str, list[int]] = {}
        for row in rows:
            by_workflow.setdefault(row["workflow"], []).append(row["id"])
        for name, ids in by_workflow.items():
            if name not in self.compiled:
                continue
            found = await tx.rows(
                self.compiled[name].sql, {"workflow": name, "ids": ids, "subjects": None}
            )
            detailed.update({r["id"]: r for r in found})
        return [self._body(actor, detailed[r["id"]]) for r in rows if r["id"] in detailed]

    def _body(self, actor: Actor, row: Row) -> dict[str, Any]:
        compiled = self.compiled[row["workflow"]]
        links = compiled.links(row)
        steps = []
        for step in compiled.workflow.steps:
            state = (row["steps"] or {}).get(step.key) or {}
            link: dict[str, Any] | None = None
            if step.link is not None and step.link.resource in self.registry:
                target = self.registry.get(step.link.resource)
                if self.policy.allows(actor, target, "view"):
                    link = {
                        "resource": target.name,
                        "pk": links.get(step.key),
                        "field": step.link.field,
                    }
                    if step.link.filter_field is not None:
                        link["filter"] = {step.link.filter_field: row["subject_pk"]}
            steps.append(
                {
                    "key": step.key,
                    "title": step.title,
                    "done": bool(state.get("done")),
                    "auto": step.auto,
                    "done_by": state.get("by"),
                    "done_at": state.get("at"),
                    "link": link,
                }
            )
        assignee = None
        if row["assignee_id"] is not None:
            assignee = {"id": row["assignee_id"], "name": row["assignee_name"]}
        return {
            "id": row["id"],
            "workflow": row["workflow"],
            "title": compiled.workflow.title,
            "subject": {"resource": row["subject_resource"], "pk": row["subject_pk"]},
            "status": row["status"],
            "progress": {"done": sum(s["done"] for s in steps), "total": len(steps)},
            "steps": steps,
            "assignee": assignee,
            "due_date": row["due_date"],
            "started_by": {"id": row["started_by"], "name": row["started_by_name"]},
            "created_at": row["created_at"],
            "updated_at": row["updated_at"],
            "completed_at": row["completed_at"],
            "_version": row["version"],
        }

    async def body_of(self, tx: Tx, actor: Actor, row: Row) -> dict[str, Any]:
        [body] = await self.bodies(tx, actor, [row])
        return body

    # -- reads ------------------------------------------------------------------

    async def get(self, actor: Actor, raw_id: str) -> dict[str, Any]:
        async with self.db.read() as tx:
            row = await self.load(tx, actor, raw_id)
        # Read-your-writes: the body is read again, after its steps are evaluated.
        await bring_up_to_date(self.db, self.compiled, [row])
        async with self.db.read() as tx:
            return await self.body_of(tx, actor, row)

    async def search(
        self, actor: Actor, query: RunListQuery
    ) -> tuple[list[dict[str, Any]], str | None]:
        """Runs ``actor`` may see, newest first, narrowed by each filter of ``query``."""
        clauses = [self.visible_clause(actor)]
        if query.statuses is not None:
            clauses.append(RUNS.c.status.in_(query.statuses))
        if query.mine:
            clauses.append(or_(RUNS.c.started_by == actor.id, RUNS.c.assignee_id == actor.id))
        if query.workflow is not None:
            clauses.append(RUNS.c.workflow == query.workflow)
        if query.subject_resource is not None:
            clauses.append(RUNS.c.subject_resource == query.subject_resource)
        if query.subject_pk is not None:
            clauses.append(RUNS.c.subject_pk == query.subject_pk)
        if query.before_id is not None:
            clauses.append(RUNS.c.id < query.before_id)
        limit = query.limit
        statement = (
            select(RUNS).where(and_(true(), *clauses)).order_by(RUNS.c.id.desc()).limit(limit + 1)
        )
        async with self.db.read() as tx:
            rows = await tx.rows(statement)
        # Read-your-writes: a page whose runs' steps moved is read again (a
        # status filter then sees their new status).
        if await bring_up_to_date(self.db, self.compiled, rows[:limit]):
            async with self.db.read() as tx:
                rows = await tx.rows(statement)
        async with self.db.read() as tx:
            items = await self.bodies(tx, actor, rows[:limit])
        next_cursor = str(rows[limit - 1]["id"]) if len(rows) > limit else None
        return items, next_cursor
