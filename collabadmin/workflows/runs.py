"""Workflow runs: start, list, show, tick manual steps, cancel.

A run is seen by whoever may view its subject record (within their row
scope), and worked on (started, manual steps ticked, cancelled) by whoever
may change it. Automatic steps follow the data only: completing or
reopening one by hand is a 409. Each write re-evaluates the run in the same
transaction, so its status is right the moment the response is sent.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from psycopg.types.json import Jsonb
from sqlalchemy import ColumnElement, and_, false, func, or_, select, true, update

from collabadmin.auth.tables import USERS
from collabadmin.db.engine import Actor, Row, Tx
from collabadmin.errors import (
    BadRequest,
    Conflict,
    FieldError,
    Forbidden,
    NotFound,
    ValidationFailed,
)
from collabadmin.inputs import ascii_int, parse_limit
from collabadmin.resources.query import single_param
from collabadmin.resources.service import RecordService
from collabadmin.workflows.definitions import Workflow
from collabadmin.workflows.evaluation import CompiledWorkflow, compile_workflow, evaluate_runs
from collabadmin.workflows.tables import RUN_STATUSES, RUNS

__all__ = ["RunService"]

_START_FIELDS = {"subject", "assignee", "due_date"}
_ASSIGN_FIELDS = {"assignee", "due_date"}


async def _assignment(
    tx: Tx, body: Mapping[str, Any], errors: list[FieldError]
) -> tuple[int | None, dt.date | None]:
    """``assignee`` (an active user's id) and ``due_date`` of a body; problems go to ``errors``."""
    assignee = body.get("assignee")
    if assignee is not None and (isinstance(assignee, bool) or not isinstance(assignee, int)):
        errors.append(FieldError("assignee", "A user id."))
    elif assignee is not None and not await tx.value(
        select(true()).where(USERS.c.id == assignee, USERS.c.is_active)
    ):
        errors.append(FieldError("assignee", "No such user."))
    due: dt.date | None = None
    if body.get("due_date") is not None:
        try:
            due = dt.date.fromisoformat(str(body["due_date"]))
        except ValueError:
            errors.append(FieldError("due_date", "A date like 2026-12-01."))
    return assignee, due


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

    async def _may_change(self, tx: Tx, actor: Actor, compiled: CompiledWorkflow, pk: str) -> None:
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

    async def _load(self, tx: Tx, actor: Actor, raw_id: str, *, lock: bool = False) -> Row:
        run_id = ascii_int(raw_id)
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

    async def _body_of(self, tx: Tx, actor: Actor, row: Row) -> dict[str, Any]:
        [body] = await self.bodies(tx, actor, [row])
        return body

    # -- reads ------------------------------------------------------------------

    async def get(self, actor: Actor, raw_id: str) -> dict[str, Any]:
        async with self.db.read() as tx:
            return await self._body_of(tx, actor, await self._load(tx, actor, raw_id))

    async def search(
        self, actor: Actor, params: Mapping[str, Sequence[str]], *, max_limit: int = 200
    ) -> tuple[list[dict[str, Any]], str | None]:
        known = {"status", "mine", "workflow", "subject_resource", "subject_pk", "cursor", "limit"}
        unknown = sorted(set(params) - known)
        if unknown:
            raise BadRequest(f"Unknown query parameter {unknown[0]!r}.", parameter=unknown[0])
        clauses = [self.visible_clause(actor)]
        status = single_param(params, "status")
        if status is not None:
            wanted = status.split(",")
            if not set(wanted) <= set(RUN_STATUSES):
                raise BadRequest(
                    f"status must be among {', '.join(RUN_STATUSES)}.", parameter="status"
                )
            clauses.append(RUNS.c.status.in_(wanted))
        mine = single_param(params, "mine")
        if mine is not None:
            if mine not in ("true", "false", "1", "0"):
                raise BadRequest("mine must be true or false.", parameter="mine")
            if mine in ("true", "1"):
                clauses.append(or_(RUNS.c.started_by == actor.id, RUNS.c.assignee_id == actor.id))
        for name in ("workflow", "subject_resource", "subject_pk"):
            value = single_param(params, name)
            if value is not None:
                clauses.append(RUNS.c[name] == value)
        cursor = single_param(params, "cursor")
        if cursor is not None:
            before = ascii_int(cursor)
            if before is None:
                raise BadRequest("The cursor is not valid for this list.", parameter="cursor")
            clauses.append(RUNS.c.id < before)
        limit = parse_limit(single_param(params, "limit"), 50, max_limit)
        statement = (
            select(RUNS).where(and_(true(), *clauses)).order_by(RUNS.c.id.desc()).limit(limit + 1)
        )
        async with self.db.read() as tx:
            rows = await tx.rows(statement)
            items = await self.bodies(tx, actor, rows[:limit])
        next_cursor = str(rows[limit - 1]["id"]) if len(rows) > limit else None
        return items, next_cursor

    # -- writes -----------------------------------------------------------------

    async def _start_fields(
        self, tx: Tx, compiled: CompiledWorkflow, body: Mapping[str, Any]
    ) -> tuple[Any, int | None, dt.date | None]:
        errors = [FieldError(k, "Unknown field.") for k in sorted(set(body) - _START_FIELDS)]
        subject = body.get("subject")
        if (
            not isinstance(subject, dict)
            or subject.get("resource") != compiled.subject.name
            or not isinstance(subject.get("pk"), (str, int))
            or isinstance(subject.get("pk"), bool)
        ):
            errors.append(
                FieldError("subject", f'{{"resource": "{compiled.subject.name}", "pk": …}}')
            )
        assignee, due = await _assignment(tx, body, errors)
        if errors:
            raise ValidationFailed(errors)
        assert isinstance(subject, dict)
        return subject["pk"], assignee, due

    async def start(
        self, actor: Actor, name: str, body: Mapping[str, Any], *, request_id: str | None = None
    ) -> dict[str, Any]:
        """Start a run for a subject; 409 if a live run of this workflow exists for it."""
        compiled = self.workflow(name)
        subject = compiled.subject
        if not self.policy.allows(actor, subject, "view"):
            raise NotFound(f"No workflow named {name!r}.")
        async with self.db.transaction(actor, source="workflow", request_id=request_id) as tx:
            raw_pk, assignee, due = await self._start_fields(tx, compiled, body)
            try:
                _, record = await self.records.get_row(
                    actor, subject.name, str(raw_pk), stored=True
                )
            except NotFound:
                raise ValidationFailed(
                    [FieldError("subject", f"No {subject.label.lower()} {raw_pk!r}.")]
                ) from None
            pk = subject.key_of(record)
            await self._may_change(tx, actor, compiled, pk)
            run_id = await tx.value(
                "INSERT INTO collabadmin.collabadmin_workflow_run"
                " (workflow, subject_resource, subject_pk, steps, started_by, started_by_name,"
                "  assignee_id, due_date)"
                " VALUES (%(w)s, %(r)s, %(pk)s, '{}', %(by)s, %(by_name)s, %(assignee)s, %(due)s)"
                " ON CONFLICT (workflow, subject_resource, subject_pk)"
                " WHERE status <> 'cancelled' DO NOTHING RETURNING id",
                {
                    "w": name,
                    "r": subject.name,
                    "pk": pk,
                    "by": actor.id,
                    "by_name": actor.name,
                    "assignee": assignee,
                    "due": due,
                },
            )
            if run_id is None:
                existing = await tx.value(
                    select(RUNS.c.id).where(
                        RUNS.c.workflow == name,
                        RUNS.c.subject_pk == pk,
                        RUNS.c.status != "cancelled",
                    )
                )
                raise Conflict(
                    f"This {subject.label.lower()} already has a {compiled.workflow.title!r}"
                    " run that is not cancelled.",
                    run_id=existing,
                )
            await evaluate_runs(tx, compiled, ids=[run_id])
            row = await self._load(tx, actor, str(run_id))
            return await self._body_of(tx, actor, row)

    async def set_step(
        self,
        actor: Actor,
        raw_id: str,
        key: str,
        *,
        done: bool,
        request_id: str | None = None,
    ) -> dict[str, Any]:
        """Complete or reopen a manual step (auto steps follow the data: 409)."""
        async with self.db.transaction(actor, source="workflow", request_id=request_id) as tx:
            row = await self._load(tx, actor, raw_id, lock=True)
            compiled = self.workflow(row["workflow"])
            step = compiled.workflow.step(key)
            if step is None:
                raise NotFound(f"No step {key!r} in {compiled.workflow.title!r}.")
            await self._may_change(tx, actor, compiled, row["subject_pk"])
            if step.auto:
                raise Conflict(
                    f"{step.title!r} follows the data; change the record to move it.",
                    link=None if step.link is None else step.link.resource,
                )
            if row["status"] == "cancelled":
                raise Conflict("This run is cancelled.", run_status=row["status"])
            steps = dict(row["steps"] or {})
            if bool((steps.get(key) or {}).get("done")) != done:
                now = await tx.value("SELECT to_json(now())#>>'{}'")
                by = {"id": actor.id, "name": actor.name}
                steps[key] = {"done": done, "at": now if done else None, "by": by if done else None}
                await tx.run(
                    "UPDATE collabadmin.collabadmin_workflow_run"
                    " SET steps = %(s)s, updated_at = now() WHERE id = %(id)s",
                    {"s": Jsonb(steps), "id": row["id"]},
                )
                await evaluate_runs(tx, compiled, ids=[row["id"]])
            return await self._body_of(tx, actor, await self._load(tx, actor, raw_id))

    async def assign(
        self,
        actor: Actor,
        raw_id: str,
        body: Mapping[str, Any],
        *,
        request_id: str | None = None,
    ) -> dict[str, Any]:
        """Change a run's ``assignee`` and/or ``due_date`` (null clears; absent keeps)."""
        errors = [FieldError(k, "Unknown field.") for k in sorted(set(body) - _ASSIGN_FIELDS)]
        async with self.db.transaction(actor, source="workflow", request_id=request_id) as tx:
            assignee, due = await _assignment(tx, body, errors)
            if errors:
                raise ValidationFailed(errors)
            row = await self._load(tx, actor, raw_id, lock=True)
            await self._may_change(tx, actor, self.workflow(row["workflow"]), row["subject_pk"])
            values: dict[str, Any] = {}
            if "assignee" in body:
                values["assignee_id"] = assignee
            if "due_date" in body:
                values["due_date"] = due
            if values:
                await tx.run(
                    update(RUNS)
                    .where(RUNS.c.id == row["id"])
                    .values(updated_at=func.now(), **values)
                )
            return await self._body_of(tx, actor, await self._load(tx, actor, raw_id))

    async def cancel(
        self, actor: Actor, raw_id: str, *, request_id: str | None = None
    ) -> dict[str, Any]:
        async with self.db.transaction(actor, source="workflow", request_id=request_id) as tx:
            row = await self._load(tx, actor, raw_id, lock=True)
            compiled = self.workflow(row["workflow"])
            await self._may_change(tx, actor, compiled, row["subject_pk"])
            if row["status"] != "cancelled":
                await tx.run(
                    "UPDATE collabadmin.collabadmin_workflow_run"
                    " SET status = 'cancelled', updated_at = now() WHERE id = %(id)s",
                    {"id": row["id"]},
                )
            return await self._body_of(tx, actor, await self._load(tx, actor, raw_id))
