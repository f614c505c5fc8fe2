"""Record actions over HTTP (API.md, "Records"): the demo's *Open enrollment* and *Close course*."""

from __future__ import annotations

import asyncio
import datetime as dt

import httpx
import pytest

from tests.conftest import ClientFor, taught_courses
from tests.domain import changes_of
from tests.helpers import get_record, history, ok, patch_record, problem
from tests.resources.record_action_helpers import (
    add_course,
    offered,
    run_action,
    sessions_of,
    today,
)

WEEK = dt.timedelta(days=7)


# --- meta ----------------------------------------------------------------------


async def test_meta_lists_the_actions_and_a_record_says_which_apply(
    client_for: ClientFor, conninfo: str
) -> None:
    editor = await client_for("editor")
    described = ok(await editor.options("/api/r/courses"))
    names = [(a["name"], a["label"]) for a in described["record_actions"]]
    assert names == [("open-enrollment", "Open enrollment"), ("close", "Close course")]
    assert all(a["confirm"] and "applies" not in a for a in described["record_actions"])
    meta = ok(await editor.get("/api/meta"))
    courses = next(r for r in meta["resources"] if r["name"] == "courses")
    assert courses["record_actions"] == described["record_actions"]
    sessions = next(r for r in meta["resources"] if r["name"] == "sessions")
    assert sessions["record_actions"] == []

    draft = add_course(conninfo, status="draft")
    assert {n: a["applies"] for n, a in (await offered(editor, draft)).items()} == {
        "open-enrollment": True,
        "close": True,
    }
    closed = add_course(conninfo, status="closed")
    assert {n: a["applies"] for n, a in (await offered(editor, closed)).items()} == {
        "open-enrollment": False,
        "close": False,
    }
    day = today(conninfo)
    enrolling = add_course(conninfo, status="open", sessions=[(day + WEEK, day + 2 * WEEK, True)])
    assert (await offered(editor, enrolling))["open-enrollment"]["applies"] is False


@pytest.mark.parametrize("role", ["viewer", "auditor", "reviewer", "instructor"])
async def test_roles_that_may_not_run_them_are_offered_none(
    client_for: ClientFor, conninfo: str, role: str
) -> None:
    client = await client_for(role)
    course = taught_courses(conninfo)[0]  # the instructor's own course: still none
    assert ok(await client.options("/api/r/courses"))["record_actions"] == []
    assert ok(await client.options(f"/api/r/courses/{course}"))["record_actions"] == []
    meta = ok(await client.get("/api/meta"))
    courses = next(r for r in meta["resources"] if r["name"] == "courses")
    assert courses["record_actions"] == []


# --- running them --------------------------------------------------------------


async def test_open_enrollment_creates_a_session_and_opens_a_draft_course_in_one_change_each(
    client_for: ClientFor, conninfo: str
) -> None:
    editor = await client_for("editor")
    day = today(conninfo)
    start = day + dt.timedelta(days=30)
    course = add_course(conninfo, status="draft", start_date=start)
    response = await run_action(editor, course, "open-enrollment", base=1)
    body = ok(response)
    assert (body["status"], body["_version"]) == ("open", 2)
    assert response.headers["etag"] == '"2"'
    [session] = sessions_of(conninfo, course)
    assert (session["starts_on"], session["ends_on"]) == (start, start + WEEK)
    assert session["enrollment_open"] is True

    course_entries = changes_of(conninfo, "courses", course)
    session_entries = changes_of(conninfo, "sessions", session["id"])
    assert [(e["op"], e["source"]) for e in session_entries] == [("insert", "action")]
    assert (course_entries[-1]["source"], course_entries[-1]["diff"]) == (
        "action",
        {"status": {"old": "draft", "new": "open"}},
    )
    assert course_entries[-1]["actor_name"] == session_entries[0]["actor_name"] == "Editor"
    # One run, one transaction: both rows' changes were committed together.
    assert course_entries[-1]["txid"] == session_entries[0]["txid"]
    assert (await history(editor, "courses", course))[0]["source"] == "action"

    # Enrollment is open now: the action no longer applies; closing does.
    state = await offered(editor, course)
    assert (state["open-enrollment"]["applies"], state["close"]["applies"]) == (False, True)
    again = problem(await run_action(editor, course, "open-enrollment", base=2), 409)
    assert again["type"].endswith(":not-applicable")
    assert "already has enrollment open" in again["detail"]
    assert again["current"]["_version"] == 2
    assert len(sessions_of(conninfo, course)) == 1


async def test_open_enrollment_opens_the_next_coming_session_of_an_open_course(
    client_for: ClientFor, conninfo: str
) -> None:
    editor = await client_for("editor")
    day = today(conninfo)
    course = add_course(
        conninfo,
        status="open",
        start_date=day - 4 * WEEK,
        sessions=[
            (day - 4 * WEEK, day - 3 * WEEK, True),  # past: stays as it is
            (day + 3 * WEEK, day + 4 * WEEK, False),
            (day + WEEK, day + 2 * WEEK, False),  # the next one
        ],
    )
    body = ok(await run_action(editor, course, "open-enrollment", if_match=1))
    assert (body["status"], body["_version"]) == ("open", 1)  # the course itself is unchanged
    opened = [(s["starts_on"], s["enrollment_open"]) for s in sessions_of(conninfo, course)]
    assert opened == [(day - 4 * WEEK, True), (day + WEEK, True), (day + 3 * WEEK, False)]
    next_session = sessions_of(conninfo, course)[1]
    [entry] = [
        e for e in changes_of(conninfo, "sessions", next_session["id"]) if e["op"] == "update"
    ]
    assert (entry["source"], entry["diff"]) == (
        "action",
        {"enrollment_open": {"old": False, "new": True}},
    )
    assert changes_of(conninfo, "courses", course)[-1]["op"] == "insert"  # no course change


async def test_a_created_session_starts_today_at_the_earliest_and_copies_the_last_length(
    client_for: ClientFor, conninfo: str
) -> None:
    editor = await client_for("editor")
    day = today(conninfo)
    course = add_course(
        conninfo,
        status="open",
        start_date=day - 10 * WEEK,
        sessions=[(day - 10 * WEEK, day - 10 * WEEK + dt.timedelta(days=20), False)],
    )
    ok(await run_action(editor, course, "open-enrollment", base=1))
    created = sessions_of(conninfo, course)[-1]
    assert (created["starts_on"], created["ends_on"], created["enrollment_open"]) == (
        day,
        day + dt.timedelta(days=20),
        True,
    )


async def test_close_closes_the_course_and_enrollment_of_its_sessions(
    client_for: ClientFor, conninfo: str
) -> None:
    editor = await client_for("editor")
    day = today(conninfo)
    course = add_course(
        conninfo,
        status="open",
        sessions=[(day - WEEK, day, True), (day + WEEK, day + 2 * WEEK, True)],
    )
    body = ok(await run_action(editor, course, "close", if_match=1))
    assert (body["status"], body["_version"]) == ("closed", 2)
    assert [s["enrollment_open"] for s in sessions_of(conninfo, course)] == [False, False]
    txids = {changes_of(conninfo, "courses", course)[-1]["txid"]} | {
        changes_of(conninfo, "sessions", s["id"])[-1]["txid"] for s in sessions_of(conninfo, course)
    }
    assert len(txids) == 1
    for name in ("close", "open-enrollment"):
        refused = problem(await run_action(editor, course, name, if_match=2), 409)
        assert refused["type"].endswith(":not-applicable")
    admin = await client_for("admin")
    page = ok(await admin.get("/api/audit", params={"source": "action", "resource": "courses"}))
    assert [(c["pk"], c["source"]) for c in page["items"]] == [(str(course), "action")]


# --- who may --------------------------------------------------------------------


async def test_who_may_run_them(client_for: ClientFor, conninfo: str) -> None:
    course = add_course(conninfo, status="open")
    for role in ("viewer", "auditor", "reviewer"):
        client = await client_for(role)
        refused = problem(await run_action(client, course, "close", if_match=1), 403)
        assert refused["detail"].startswith("You may not")
    instructor = await client_for("instructor")
    mine = taught_courses(conninfo)[0]
    version = (await get_record(instructor, "courses", mine))["_version"]
    # It may change the course it teaches, but not its status: not for it.
    problem(await run_action(instructor, mine, "close", if_match=version), 403)
    problem(await run_action(instructor, mine, "open-enrollment", if_match=version), 403)
    # Never its action, whatever the course: the same answer for one it does not
    # teach and one that does not exist (the row scope is tested where it may run
    # one, tests/resources/test_record_actions.py).
    for other in (course, 999999):
        refused = problem(await run_action(instructor, other, "close", if_match=1), 403)
        assert refused["detail"] == "You may not run “Close course” on this course."
    admin = await client_for("admin")
    assert ok(await run_action(admin, course, "close", if_match=1))["status"] == "closed"
    assert (await get_record(instructor, "courses", mine))["_version"] == version


async def test_unknown_names_keys_and_resources_are_404_never_500(
    client_for: ClientFor, conninfo: str
) -> None:
    editor = await client_for("editor")
    course = add_course(conninfo)
    assert (
        "no action named"
        in problem(await run_action(editor, course, "launch", base=1), 404)["detail"]
    )
    problem(await run_action(editor, 999999, "close", base=1), 404)
    problem(await run_action(editor, "1x", "close", base=1), 404)
    problem(await run_action(editor, "\uff11", "close", base=1), 404)  # a full-width digit
    problem(await run_action(editor, course, "close", resource="nope", base=1), 404)
    problem(await run_action(editor, 1, "close", resource="universities", base=1), 404)
    problem(await run_action(editor, course, "close%00", base=1), 400)
    problem(await run_action(editor, course, "c" * 5000, base=1), 404)


async def test_anonymous_is_401(anon: httpx.AsyncClient) -> None:
    problem(await run_action(anon, 1, "close", base=1), 401)


# --- preconditions ----------------------------------------------------------------


async def test_a_precondition_is_required_and_checked(client_for: ClientFor, conninfo: str) -> None:
    editor = await client_for("editor")
    course = add_course(conninfo, status="open")
    problem(await run_action(editor, course, "close"), 428)
    bad = await editor.post(f"/api/r/courses/{course}/actions/close", headers={"If-Match": "*"})
    problem(bad, 428)
    bad = await editor.post(
        f"/api/r/courses/{course}/actions/close", headers={"X-Base-Version": "\u0663".encode()}
    )
    problem(bad, 400)
    future = problem(await run_action(editor, course, "close", if_match=7), 412)
    assert future["current"]["_version"] == 1

    ok(await patch_record(editor, "courses", course, {"title": "Renamed"}, if_match=1))
    stale = problem(await run_action(editor, course, "close", if_match=1), 412)
    assert (stale["current"]["_version"], stale["current"]["status"]) == (2, "open")
    # X-Base-Version merges: the title is not what closing depends on.
    body = ok(await run_action(editor, course, "close", base=1))
    assert (body["status"], body["title"], body["_version"]) == ("closed", "Renamed", 3)


async def test_a_change_to_what_the_action_depends_on_is_a_conflict(
    client_for: ClientFor, conninfo: str
) -> None:
    editor, admin = await client_for("editor"), await client_for("admin")
    course = add_course(conninfo, status="open")
    # Someone puts the course back to draft after this person looked at version 1.
    ok(await patch_record(admin, "courses", course, {"status": "draft"}, if_match=1))
    conflict = problem(await run_action(editor, course, "close", base=1), 409)
    assert conflict["conflicts"] == [
        {"field": "status", "base": "open", "theirs": "draft", "yours": "open"}
    ]
    assert conflict["current"]["status"] == "draft"
    assert len(changes_of(conninfo, "courses", course)) == 2  # nothing written
    # Changed and changed back: nothing to decide again.
    ok(await patch_record(admin, "courses", course, {"status": "open"}, if_match=2))
    assert ok(await run_action(editor, course, "close", base=1))["status"] == "closed"


async def test_a_deleted_course_is_refused_and_offered_nothing_that_applies(
    client_for: ClientFor, conninfo: str
) -> None:
    editor = await client_for("editor")
    course = add_course(conninfo, status="open")
    deleted = await editor.delete(f"/api/r/courses/{course}", headers={"If-Match": '"1"'})
    ok(deleted)
    assert not any(a["applies"] for a in (await offered(editor, course)).values())
    refused = problem(await run_action(editor, course, "close", if_match=2), 409)
    assert "restore it" in refused["detail"]


# --- at the same time ---------------------------------------------------------------


@pytest.mark.parametrize("header", ["base", "if_match"])
async def test_concurrent_runs_of_close_exactly_one_wins(
    client_for: ClientFor, conninfo: str, header: str
) -> None:
    clients = [await client_for("editor") for _ in range(3)] + [await client_for("admin")]
    course = add_course(conninfo, status="open")
    responses = await asyncio.gather(
        *(run_action(c, course, "close", **{header: 1}) for c in clients)  # type: ignore[arg-type]
    )
    statuses = sorted(r.status_code for r in responses)
    assert statuses.count(200) == 1, statuses
    assert set(statuses[1:]) <= {409, 412}
    entries = [e for e in changes_of(conninfo, "courses", course) if e["source"] == "action"]
    assert len(entries) == 1


async def test_concurrent_open_enrollment_opens_one_session(
    client_for: ClientFor, conninfo: str
) -> None:
    # The course itself does not change (it is open already): what keeps the
    # second run out is the condition, read under the course's lock.
    clients = [await client_for("editor") for _ in range(4)]
    course = add_course(conninfo, status="open")
    responses = await asyncio.gather(
        *(run_action(c, course, "open-enrollment", base=1) for c in clients)
    )
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200, 409, 409, 409], [r.text for r in responses]
    assert all(
        r.json()["type"].endswith(":not-applicable") for r in responses if r.status_code == 409
    )
    assert [s["enrollment_open"] for s in sessions_of(conninfo, course)] == [True]
