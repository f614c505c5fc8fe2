"""Workflow run actions called directly, without HTTP: who may, what conflicts, what is logged."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from collabadmin.db.engine import Actor
from collabadmin.errors import Conflict, Forbidden, NotFound, ValidationFailed
from collabadmin.workflows.actions import AssignRun, CancelRun, CompleteStep, ReopenStep, StartRun
from collabadmin.workflows.bodies import Assignment
from tests.conftest import taught_courses
from tests.domain import ActorFor, Domain, actor_for, changes_of, services

__all__ = ["actor_for", "services"]  # fixtures


def start(services: Domain, actor: Actor, pk: int, **assignment: Any) -> StartRun:
    return StartRun(
        runs=services.runs,
        actor=actor,
        workflow="launch-course",
        subject_pk=str(pk),
        assignment=Assignment(**assignment),
        request_id="start-1",
    )


async def test_a_run_starts_once_per_subject(
    services: Domain, actor_for: ActorFor, conninfo: str
) -> None:
    editor, viewer = await actor_for("editor"), await actor_for("viewer")
    with pytest.raises(Forbidden):  # working on a run needs change on its subject
        await start(services, viewer, 1).check()
    with pytest.raises(ValidationFailed):
        await start(services, editor, 999_999).check()
    with pytest.raises(ValidationFailed):
        await start(services, editor, 1, assignee=999_999).check()
    run = await start(services, editor, 1, due_date=dt.date(2031, 1, 1)).execute()
    assert (run["subject"], run["status"], run["due_date"]) == (
        {"resource": "courses", "pk": "1"}, "open", dt.date(2031, 1, 1)
    )  # fmt: skip
    with pytest.raises(Conflict) as again:
        await start(services, editor, 1).execute()
    assert again.value.extensions["run_id"] == run["id"]
    [entry] = [e for e in changes_of(conninfo, "workflow_runs", run["id"]) if e["op"] == "insert"]
    assert (entry["source"], entry["actor_name"], entry["request_id"]) == (
        "workflow",
        "Editor",
        "start-1",
    )


async def test_manual_steps_are_ticked_by_whoever_may_change_the_subject(
    services: Domain, actor_for: ActorFor, conninfo: str
) -> None:
    editor, instructor = await actor_for("editor"), await actor_for("instructor")
    other = next(pk for pk in range(1, 61) if pk not in taught_courses(conninfo))
    run = await start(services, editor, other).execute()

    def step(action: type[CompleteStep | ReopenStep], actor: Actor, key: str) -> Any:
        return action(runs=services.runs, actor=actor, run=run["id"], step=key)

    with pytest.raises(NotFound):  # the instructor cannot see a course it does not teach
        await step(CompleteStep, instructor, "announcement").check()
    with pytest.raises(Conflict):  # automatic steps follow the data
        await step(CompleteStep, editor, "description").execute()
    with pytest.raises(NotFound):
        await step(CompleteStep, editor, "nope").check()
    ticked = await step(CompleteStep, editor, "announcement").execute()
    [announcement] = [s for s in ticked["steps"] if s["key"] == "announcement"]
    assert (announcement["done"], announcement["done_by"]["name"]) == (True, "Editor")
    reopened = await step(ReopenStep, editor, "announcement").execute()
    assert not next(s["done"] for s in reopened["steps"] if s["key"] == "announcement")
    sources = {e["source"] for e in changes_of(conninfo, "workflow_runs", run["id"])}
    assert sources == {"workflow"}


async def test_assign_and_cancel(services: Domain, actor_for: ActorFor) -> None:
    editor, reviewer = await actor_for("editor"), await actor_for("reviewer")
    run = await start(services, editor, 2).execute()
    assigned = await AssignRun(
        runs=services.runs, actor=editor, run=run["id"],
        assignment=Assignment(assignee=reviewer.id),
    ).execute()  # fmt: skip
    assert assigned["assignee"] == {"id": reviewer.id, "name": "Reviewer"}
    with pytest.raises(Forbidden):  # the reviewer may not change courses
        await CancelRun(runs=services.runs, actor=reviewer, run=run["id"]).check()
    cancelled = await CancelRun(runs=services.runs, actor=editor, run=run["id"]).execute()
    assert cancelled["status"] == "cancelled"
    with pytest.raises(Conflict):
        await CompleteStep(
            runs=services.runs, actor=editor, run=run["id"], step="announcement"
        ).check()
    assert (await start(services, editor, 2).execute())["id"] != run["id"]
