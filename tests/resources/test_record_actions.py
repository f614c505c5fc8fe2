"""RunRecordAction called directly, without HTTP: who may, on which rows, what is written.

Besides the demo's two actions, these tests declare actions of their own on
the demo's courses (an app's declarations are its own): a patch of the
description, which the instructor may write on the courses it teaches, and
one whose condition reads ``internal_notes``, which it may not see.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

import psycopg
import pytest
from sqlalchemy import Table

from collabadmin.changelog.conflicts import Precondition
from collabadmin.db.engine import Actor
from collabadmin.demo.policy import demo_policy
from collabadmin.demo.resources import demo_resources
from collabadmin.errors import Forbidden, NotApplicable, NotFound, ValidationFailed
from collabadmin.resources.action_access import applying_now, offered_actions
from collabadmin.resources.actions import ActionRun, RunRecordAction
from collabadmin.resources.meta import resource_meta
from collabadmin.resources.record_actions import RecordActionDecl, field_equals
from collabadmin.resources.resource import Registry
from collabadmin.resources.roles import RolePolicy
from collabadmin.resources.service import RecordService
from tests.conftest import taught_courses
from tests.domain import ActorFor, Domain, actor_for, changes_of, services
from tests.resources.record_action_helpers import add_course, sessions_of, today

__all__ = ["actor_for", "services"]  # fixtures

BASE = Precondition(1, strict=False)


def run(
    records: RecordService,
    actor: Actor,
    pk: Any,
    name: str,
    precondition: Precondition = BASE,
    *,
    request_id: str | None = None,
) -> RunRecordAction:
    return RunRecordAction(
        records=records,
        actor=actor,
        resource="courses",
        pk=str(pk),
        name=name,
        precondition=precondition,
        request_id=request_id,
    )


def not_closed(courses: Table) -> Any:
    return courses.c.status != "closed"


SUMMARISE = RecordActionDecl(
    name="summarise",
    label="Summarise",
    applies=not_closed,
    patch={"description": "Summarised."},
)
FLAG = RecordActionDecl(
    name="flag",
    label="Flag",
    applies=field_equals({"internal_notes": ""}),
    patch={"description": "Flagged."},
)


async def _half_then_fail(run: ActionRun) -> None:
    await run.create(
        "sessions",
        {"course_id": run.row["id"], "starts_on": "2030-01-01", "ends_on": "2030-01-08"},
    )
    await run.change({"status": "no such status"})  # refused: the whole run is undone


async def _writes_undeclared(run: ActionRun) -> None:
    await run.change({"title": "Not declared"})


HALF = RecordActionDecl(name="half", label="Half", writes=("status",), run=_half_then_fail)
UNDECLARED = RecordActionDecl(
    name="undeclared", label="Undeclared", writes=("status",), run=_writes_undeclared
)


def service_with(
    services: Domain, actions: Sequence[RecordActionDecl], policy: RolePolicy | None = None
) -> RecordService:
    """The demo's resources, courses with ``actions`` added, over the test database."""
    resources = [
        replace(r, record_actions=(*r.record_actions, *actions)) if r.name == "courses" else r
        for r in demo_resources()
    ]
    return RecordService(services.db, Registry(resources), policy or demo_policy())


async def test_close_is_one_change_per_row_with_its_actor_source_and_request(
    services: Domain, actor_for: ActorFor, conninfo: str
) -> None:
    editor = await actor_for("editor")
    day = today(conninfo)
    course = add_course(conninfo, status="open", sessions=[(day, day, True)])
    action = run(services.records, editor, course, "close", request_id="req-close")
    await action.check()
    written = await action.execute()
    assert (written.body["status"], written.body["_version"]) == ("closed", 2)
    entry = changes_of(conninfo, "courses", course)[-1]
    assert (entry["source"], entry["actor_id"], entry["request_id"]) == (
        "action",
        editor.id,
        "req-close",
    )
    [session] = sessions_of(conninfo, course)
    session_entry = changes_of(conninfo, "sessions", session["id"])[-1]
    assert (session_entry["source"], session_entry["request_id"]) == ("action", "req-close")
    with pytest.raises(NotApplicable):
        await run(services.records, editor, course, "close", Precondition(2, strict=True)).execute()


async def test_check_refuses_without_the_row(services: Domain, actor_for: ActorFor) -> None:
    viewer, instructor = await actor_for("viewer"), await actor_for("instructor")
    with pytest.raises(Forbidden):
        await run(services.records, viewer, 1, "close").check()
    with pytest.raises(Forbidden):  # it may change courses, not their status
        await run(services.records, instructor, 1, "open-enrollment").check()
    editor = await actor_for("editor")
    with pytest.raises(NotFound):
        await run(services.records, editor, 1, "no-such-action").check()


async def test_the_instructor_runs_an_action_it_may_only_on_the_courses_it_teaches(
    services: Domain, actor_for: ActorFor, conninfo: str
) -> None:
    records = service_with(services, [SUMMARISE])
    instructor = await actor_for("instructor")
    mine = taught_courses(conninfo)[0]
    other = next(pk for pk in range(1, 61) if pk not in taught_courses(conninfo))
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("UPDATE courses SET status = 'open' WHERE id = %s", (mine,))
    version = changes_of(conninfo, "courses", mine)[-1]["version"]
    course = records.registry.get("courses")
    assert [a.name for a in offered_actions(records.policy, instructor, course)] == ["summarise"]

    written = await run(
        records, instructor, mine, "summarise", Precondition(version, True)
    ).execute()
    assert written.body["description"] == "Summarised."
    assert "internal_notes" not in written.body  # hidden from it, in every body
    with pytest.raises(NotFound):  # outside its row scope: as if it did not exist
        await run(records, instructor, other, "summarise").execute()
    assert changes_of(conninfo, "courses", other)[-1]["op"] == "insert"


async def test_with_two_roles_an_action_applies_only_within_its_permissions_rows(
    services: Domain, actor_for: ActorFor, conninfo: str
) -> None:
    # A viewer who also instructs sees every course but changes only its own.
    records = service_with(services, [SUMMARISE])
    both = replace(await actor_for("instructor"), roles=frozenset({"instructor", "viewer"}))
    mine = taught_courses(conninfo)[0]
    other = next(pk for pk in range(1, 61) if pk not in taught_courses(conninfo))
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("UPDATE courses SET status = 'open' WHERE id IN (%s, %s)", (mine, other))
    course = records.registry.get("courses")
    for pk, expected in ((mine, True), (other, False)):
        _, row = await records.get_row(both, "courses", str(pk))
        assert await applying_now(records, both, course, row) == {"summarise": expected}
    with pytest.raises(Forbidden):  # it may see this one, not act on it
        await run(records, both, other, "summarise", Precondition(2, True)).execute()


async def test_an_action_reading_a_hidden_field_is_not_offered_to_whom_it_hides_from(
    services: Domain, actor_for: ActorFor, conninfo: str
) -> None:
    records = service_with(services, [FLAG])
    instructor, editor = await actor_for("instructor"), await actor_for("editor")
    course = records.registry.get("courses")
    # Its condition reads internal_notes: "applies" would tell the instructor
    # whether the notes are empty.
    assert "flag" not in [a.name for a in offered_actions(records.policy, instructor, course)]
    meta = resource_meta(records.policy, instructor, course, records.registry)
    assert [a["name"] for a in meta["record_actions"]] == []
    mine = taught_courses(conninfo)[0]
    with pytest.raises(Forbidden):
        await run(records, instructor, mine, "flag").execute()
    assert [a.name for a in offered_actions(records.policy, editor, course)] == [
        "open-enrollment",
        "close",
        "flag",
    ]
    assert (await run(records, editor, mine, "flag").execute()).body["description"] == "Flagged."


async def test_field_rules_that_depend_on_the_record_decide_as_for_a_patch(
    services: Domain, actor_for: ActorFor, conninfo: str
) -> None:
    policy = demo_policy()
    grants = policy.roles["instructor"]
    assert isinstance(grants, Mapping)
    instructor_grants = dict(grants)
    instructor_grants["courses"] = replace(
        instructor_grants["courses"],
        writable_when={"description": lambda course: course["status"] == "draft"},
    )
    ruled = RolePolicy({**policy.roles, "instructor": instructor_grants})
    records = service_with(services, [SUMMARISE], ruled)
    instructor = await actor_for("instructor")
    draft, opened = taught_courses(conninfo)[:2]
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("UPDATE courses SET status = 'draft' WHERE id = %s", (draft,))
        conn.execute("UPDATE courses SET status = 'open' WHERE id = %s", (opened,))
    course = records.registry.get("courses")
    async with services.db.read() as tx:
        rows = {pk: await records.fetch(tx, instructor, course, (pk,)) for pk in (draft, opened)}
    assert [a.name for a in offered_actions(ruled, instructor, course, rows[draft])] == [
        "summarise"
    ]
    assert offered_actions(ruled, instructor, course, rows[opened]) == []
    with pytest.raises(Forbidden):
        await run(
            records, instructor, opened, "summarise", Precondition(rows[opened]["version"], True)
        ).execute()
    written = await run(
        records, instructor, draft, "summarise", Precondition(rows[draft]["version"], True)
    ).execute()
    assert written.body["description"] == "Summarised."


async def test_a_function_action_writes_all_its_rows_or_none(
    services: Domain, actor_for: ActorFor, conninfo: str
) -> None:
    records = service_with(services, [HALF, UNDECLARED])
    editor = await actor_for("editor")
    course = add_course(conninfo, status="open")
    with pytest.raises(ValidationFailed):
        await run(records, editor, course, "half").execute()
    assert sessions_of(conninfo, course) == []  # the session it inserted went with the refusal
    assert [e["op"] for e in changes_of(conninfo, "courses", course)] == ["insert"]
    with pytest.raises(RuntimeError, match="does not name in writes"):
        await run(records, editor, course, "undeclared").execute()
    assert [e["op"] for e in changes_of(conninfo, "courses", course)] == ["insert"]


def test_declarations_that_cannot_work_are_refused_when_declared() -> None:
    with pytest.raises(ValueError, match="either patch or run"):
        RecordActionDecl(name="both", label="Both")
    with pytest.raises(ValueError, match="a name is"):
        RecordActionDecl(name="Close Course", label="Close", patch={"status": "closed"})
    with pytest.raises(ValueError, match="give it a label"):
        RecordActionDecl(name="close", label=" ", patch={"status": "closed"})
    with pytest.raises(ValueError, match="sets nothing"):
        RecordActionDecl(name="close", label="Close", patch={})
    courses = next(r for r in demo_resources() if r.name == "courses")
    universities = next(r for r in demo_resources() if r.name == "universities")
    with pytest.raises(ValueError, match="no fields colour"):
        replace(courses, record_actions=(
            RecordActionDecl(name="paint", label="Paint", patch={"colour": "red"}),
        ))  # fmt: skip
    with pytest.raises(ValueError, match="names no column 'shade'"):
        replace(universities, record_actions=(
            RecordActionDecl(name="x", label="X", applies=field_equals({"shade": 1}),
                             patch={"name": "X"}),
        ))  # fmt: skip
    with pytest.raises(ValueError, match="declared twice"):
        replace(courses, record_actions=(SUMMARISE, SUMMARISE))
    with pytest.raises(ValueError, match="read-only"):
        replace(universities, read_only=True, record_actions=(
            RecordActionDecl(name="rename", label="Rename", patch={"name": "X"}),
        ))  # fmt: skip
