"""Workflow run actions: start a run, tick or untick a manual step, assign, cancel.

Each is an object built from an :class:`~collabadmin.db.engine.Actor` and
typed inputs (bodies are parsed at the edge, :mod:`collabadmin.workflows.bodies`).
``check()`` raises what ``execute()`` would refuse for who the actor is and
the run as it is now (visibility, the ``change`` permission on the subject
within the actor's row scope, the run's and step's state), writing nothing;
``execute(tx=None)`` locks the run, makes the same checks under the lock,
writes, and re-evaluates the run in the same transaction, so its status is
right the moment the response is sent. Writes are logged with
``source: "workflow"``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, ClassVar

from msgspec import UNSET, UnsetType
from psycopg.types.json import Jsonb
from sqlalchemy import func, literal_column, select, true, update
from sqlalchemy.dialects.postgresql import insert

from collabadmin.auth.tables import USERS
from collabadmin.db.engine import Actor, Row, Tx
from collabadmin.errors import Conflict, FieldError, NotFound, ValidationFailed
from collabadmin.workflows.bodies import Assignment
from collabadmin.workflows.evaluation import CompiledWorkflow, evaluate_runs
from collabadmin.workflows.runs import RunService
from collabadmin.workflows.tables import RUNS

__all__ = ["AssignRun", "CancelRun", "CompleteStep", "ReopenStep", "RunAction", "StartRun"]


async def _check_assignee(tx: Tx, assignee: int | UnsetType | None) -> None:
    """422 unless ``assignee`` (when set) is an active user."""
    if assignee is None or assignee is UNSET:
        return
    if not await tx.value(select(true()).where(USERS.c.id == assignee, USERS.c.is_active)):
        raise ValidationFailed([FieldError("assignee", "No such user.")])


@dataclass(kw_only=True)
class StartRun:
    """Start a run of ``workflow`` for the subject record ``subject_pk`` (its key's text).

    409 if a run of this workflow that is not cancelled exists for it: the
    database's partial unique index decides, so two people starting the same
    run at once get one run and one 409.
    """

    runs: RunService
    actor: Actor
    workflow: str
    subject_pk: str
    assignment: Assignment = field(default_factory=Assignment)
    request_id: str | None = None

    async def _prepared(self, tx: Tx) -> tuple[CompiledWorkflow, str]:
        """The workflow and the subject's key as stored; else 4xx."""
        runs, actor = self.runs, self.actor
        compiled = runs.workflow(self.workflow)
        subject = compiled.subject
        if not runs.policy.allows(actor, subject, "view"):
            raise NotFound(f"No workflow named {self.workflow!r}.")
        key = subject.pk_values(self.subject_pk)
        record = None if key is None else await runs.records.fetch(tx, actor, subject, key)
        if record is None:
            raise ValidationFailed(
                [FieldError("subject", f"No {subject.label.lower()} {self.subject_pk!r}.")]
            )
        pk = subject.key_of(record)
        await runs.may_change(tx, actor, compiled, pk)
        await _check_assignee(tx, self.assignment.assignee)
        return compiled, pk

    async def check(self) -> None:
        async with self.runs.db.read() as tx:
            await self._prepared(tx)

    async def execute(self, tx: Tx | None = None) -> dict[str, Any]:
        if tx is None:
            async with self.runs.db.transaction(
                self.actor, source="workflow", request_id=self.request_id
            ) as own:
                return await self.execute(own)
        compiled, pk = await self._prepared(tx)
        assignment = self.assignment
        run_id = await tx.value(
            insert(RUNS)
            .values(
                workflow=self.workflow,
                subject_resource=compiled.subject.name,
                subject_pk=pk,
                steps=Jsonb({}),
                started_by=self.actor.id,
                started_by_name=self.actor.name,
                assignee_id=None if assignment.assignee is UNSET else assignment.assignee,
                due_date=None if assignment.due_date is UNSET else assignment.due_date,
            )
            .on_conflict_do_nothing(
                index_elements=[RUNS.c.workflow, RUNS.c.subject_resource, RUNS.c.subject_pk],
                index_where=RUNS.c.status != "cancelled",
            )
            .returning(RUNS.c.id)
        )
        if run_id is None:
            existing = await tx.value(
                select(RUNS.c.id).where(
                    RUNS.c.workflow == self.workflow,
                    RUNS.c.subject_pk == pk,
                    RUNS.c.status != "cancelled",
                )
            )
            raise Conflict(
                f"This {compiled.subject.label.lower()} already has a"
                f" {compiled.workflow.title!r} run that is not cancelled.",
                run_id=existing,
            )
        await evaluate_runs(tx, compiled, ids=[run_id])
        return await self.runs.body_of(tx, self.actor, await self.runs.load(tx, self.actor, run_id))


@dataclass(kw_only=True)
class RunAction:
    """An action on one run, ``run`` being its id (or a URL's text of it)."""

    runs: RunService
    actor: Actor
    run: int | str
    request_id: str | None = None

    async def _allowed(self, tx: Tx, row: Row, compiled: CompiledWorkflow) -> None:
        """Raise unless the actor may take this action on the run in its state."""
        await self.runs.may_change(tx, self.actor, compiled, row["subject_pk"])

    async def check(self) -> None:
        async with self.runs.db.read() as tx:
            row = await self.runs.load(tx, self.actor, self.run)
            await self._allowed(tx, row, self.runs.workflow(row["workflow"]))

    @asynccontextmanager
    async def _locked(self, tx: Tx | None) -> AsyncIterator[tuple[Tx, Row, CompiledWorkflow]]:
        """The transaction (``tx`` or the action's own), the run locked in it, its workflow."""
        if tx is None:
            async with self.runs.db.transaction(
                self.actor, source="workflow", request_id=self.request_id
            ) as own, self._locked(own) as locked:  # fmt: skip
                yield locked
            return
        row = await self.runs.load(tx, self.actor, self.run, lock=True)
        compiled = self.runs.workflow(row["workflow"])
        await self._allowed(tx, row, compiled)
        yield tx, row, compiled

    async def _shown(self, tx: Tx, run_id: int) -> dict[str, Any]:
        return await self.runs.body_of(tx, self.actor, await self.runs.load(tx, self.actor, run_id))


@dataclass(kw_only=True)
class _SetStep(RunAction):
    """Tick or untick manual step ``step`` (automatic steps follow the data: 409)."""

    step: str
    done: ClassVar[bool]

    async def _allowed(self, tx: Tx, row: Row, compiled: CompiledWorkflow) -> None:
        step = compiled.workflow.step(self.step)
        if step is None:
            raise NotFound(f"No step {self.step!r} in {compiled.workflow.title!r}.")
        await super()._allowed(tx, row, compiled)
        if step.auto:
            raise Conflict(
                f"{step.title!r} follows the data; change the record to move it.",
                link=None if step.link is None else step.link.resource,
            )
        if row["status"] == "cancelled":
            raise Conflict("This run is cancelled.", run_status=row["status"])

    async def execute(self, tx: Tx | None = None) -> dict[str, Any]:
        async with self._locked(tx) as (own, row, compiled):
            steps = dict(row["steps"] or {})
            if bool((steps.get(self.step) or {}).get("done")) != self.done:
                now = await own.value(select(literal_column("to_json(now())#>>'{}'")))
                by = {"id": self.actor.id, "name": self.actor.name}
                steps[self.step] = (
                    {"done": True, "at": now, "by": by}
                    if self.done
                    else {"done": False, "at": None, "by": None}
                )
                await own.run(
                    update(RUNS)
                    .where(RUNS.c.id == row["id"])
                    .values(steps=Jsonb(steps), updated_at=func.now())
                )
                await evaluate_runs(own, compiled, ids=[row["id"]])
            return await self._shown(own, row["id"])


@dataclass(kw_only=True)
class CompleteStep(_SetStep):
    done: ClassVar[bool] = True


@dataclass(kw_only=True)
class ReopenStep(_SetStep):
    done: ClassVar[bool] = False


@dataclass(kw_only=True)
class AssignRun(RunAction):
    """Change the run's assignee and/or due date (``UNSET`` keeps one, None clears it)."""

    assignment: Assignment

    async def execute(self, tx: Tx | None = None) -> dict[str, Any]:
        assignment = self.assignment
        async with self._locked(tx) as (own, row, _):
            await _check_assignee(own, assignment.assignee)
            values: dict[str, Any] = {}
            if assignment.assignee is not UNSET:
                values["assignee_id"] = assignment.assignee
            if assignment.due_date is not UNSET:
                values["due_date"] = assignment.due_date
            if values:
                await own.run(
                    update(RUNS)
                    .where(RUNS.c.id == row["id"])
                    .values(updated_at=func.now(), **values)
                )
            return await self._shown(own, row["id"])


@dataclass(kw_only=True)
class CancelRun(RunAction):
    """Cancel the run; a new one may then be started for its subject."""

    async def execute(self, tx: Tx | None = None) -> dict[str, Any]:
        async with self._locked(tx) as (own, row, _):
            if row["status"] != "cancelled":
                await own.run(
                    update(RUNS)
                    .where(RUNS.c.id == row["id"])
                    .values(status="cancelled", updated_at=func.now())
                )
            return await self._shown(own, row["id"])
