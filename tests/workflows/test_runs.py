"""Workflow runs: the launch-course checklist follows the data, live."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import httpx
import psycopg

from collabadmin.db.engine import Database
from collabadmin.demo.resources import demo_resources
from collabadmin.demo.workflows import LAUNCH_COURSE
from collabadmin.resources.resource import Registry
from collabadmin.workflows.evaluation import Evaluator, compile_workflow
from tests.conftest import ClientFor, taught_courses
from tests.helpers import field_errors, ok, patch_record, problem
from tests.workflows.conftest import Socket, SocketFor

Run = dict[str, Any]


def done_steps(run: Run) -> set[str]:
    return {s["key"] for s in run["steps"] if s["done"]}


async def until(ws: Socket, check: Callable[[Run], bool]) -> Run:
    """Read progress frames until the run satisfies ``check``; return that run."""
    while True:
        frame = await ws.expect("workflow")
        if check(frame["run"]):
            return frame["run"]  # type: ignore[no-any-return]


async def new_course(client: httpx.AsyncClient, short_name: str) -> dict[str, Any]:
    body: dict[str, Any] = ok(
        await client.post("/api/r/courses", json={"title": "Launch me", "short_name": short_name}),
        201,
    )
    return body


async def start_run(client: httpx.AsyncClient, course_id: int) -> httpx.Response:
    return await client.post(
        "/api/workflows/launch-course/runs",
        json={"subject": {"resource": "courses", "pk": course_id}},
    )


async def test_launch_course_follows_the_data_and_regressions(
    client_for: ClientFor, socket_for: SocketFor
) -> None:
    editor = await client_for("editor")
    course = await new_course(editor, "launch-1")
    run = ok(await start_run(editor, course["id"]), 201)
    assert run["workflow"] == "launch-course"
    assert run["status"] == "open"
    assert run["progress"] == {"done": 0, "total": 6}
    assert [s["key"] for s in run["steps"]] == [
        "description", "start-date", "instructor", "session-open", "status-open", "announcement",
    ]  # fmt: skip
    assert [s["auto"] for s in run["steps"]] == [True] * 5 + [False]
    description = run["steps"][0]
    assert description["link"] == {
        "resource": "courses",
        "pk": str(course["id"]),
        "field": "description",
    }
    instructor_link = run["steps"][2]["link"]
    assert instructor_link["pk"] is None
    assert instructor_link["filter"] == {"course_id": str(course["id"])}

    ws = await socket_for("editor")
    await ws.subscribe(f"workflow-runs/{run['id']}")
    cid = course["id"]
    ok(await patch_record(editor, "courses", cid, {"description": "All about launching."}, base=1))
    live = await until(ws, lambda r: "description" in done_steps(r))
    assert live["progress"]["done"] == 1
    assert live["steps"][0]["done_at"] is not None
    ok(await patch_record(editor, "courses", cid, {"start_date": "2031-01-15"}, base=1))
    await until(ws, lambda r: "start-date" in done_steps(r))

    link = ok(
        await editor.post("/api/r/course_instructors", json={"course_id": cid, "instructor_id": 3}),
        201,
    )
    live = await until(ws, lambda r: "instructor" in done_steps(r))
    assert live["steps"][2]["link"]["pk"] == str(link["id"])
    session = ok(
        await editor.post(
            "/api/r/sessions",
            json={
                "course_id": cid,
                "starts_on": "2031-01-15",
                "ends_on": "2031-03-15",
                "enrollment_open": True,
            },
        ),
        201,
    )
    await until(ws, lambda r: "session-open" in done_steps(r))
    ok(await patch_record(editor, "courses", cid, {"status": "open"}, base=1))
    live = await until(ws, lambda r: "status-open" in done_steps(r))
    assert live["status"] == "open"  # the manual step is still to do
    assert live["progress"] == {"done": 5, "total": 6}

    completed = ok(await editor.post(f"/api/workflow-runs/{run['id']}/steps/announcement/complete"))
    assert completed["status"] == "done"
    assert completed["completed_at"] is not None
    assert completed["steps"][5]["done_by"]["name"] == "Editor"
    await until(ws, lambda r: r["status"] == "done")

    # Regressions: the data moves back, so do the steps, and the run reopens.
    ok(await patch_record(editor, "sessions", session["id"], {"enrollment_open": False}, base=1))
    live = await until(ws, lambda r: "session-open" not in done_steps(r))
    assert live["status"] == "open"
    assert live["completed_at"] is None
    ok(await editor.delete(f"/api/r/course_instructors/{link['id']}", headers={"If-Match": '"1"'}))
    live = await until(ws, lambda r: "instructor" not in done_steps(r))
    assert done_steps(live) == {"description", "start-date", "status-open", "announcement"}
    shown = ok(await editor.get(f"/api/workflow-runs/{run['id']}"))
    assert done_steps(shown) == done_steps(live)


async def test_changes_from_any_sql_client_move_steps_too(
    client_for: ClientFor, socket_for: SocketFor, conninfo: str
) -> None:
    editor = await client_for("editor")
    course = await new_course(editor, "launch-2")
    run = ok(await start_run(editor, course["id"]), 201)
    ws = await socket_for("editor")
    await ws.subscribe(f"workflow-runs/{run['id']}")
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("UPDATE courses SET status = 'open' WHERE id = %s", (course["id"],))
    live = await until(ws, lambda r: "status-open" in done_steps(r))
    assert live["steps"][4]["done_by"] is None


async def test_manual_and_automatic_steps(client_for: ClientFor) -> None:
    editor, viewer = await client_for("editor"), await client_for("viewer")
    course = await new_course(editor, "launch-3")
    run = ok(await start_run(editor, course["id"]), 201)
    base = f"/api/workflow-runs/{run['id']}/steps"
    body = problem(await editor.post(f"{base}/description/complete"), 409)
    assert "follows the data" in body["detail"]
    problem(await editor.post(f"{base}/description/reopen"), 409)
    problem(await editor.post(f"{base}/nope/complete"), 404)
    problem(await viewer.post(f"{base}/announcement/complete"), 403)
    done = ok(await editor.post(f"{base}/announcement/complete"))
    assert done["progress"]["done"] == 1
    again = ok(await editor.post(f"{base}/announcement/complete"))
    assert again["_version"] == done["_version"]  # completing twice changes nothing
    reopened = ok(await editor.post(f"{base}/announcement/reopen"))
    assert reopened["steps"][5] == {**reopened["steps"][5], "done": False, "done_by": None}


async def test_one_live_run_per_subject_even_under_concurrency(client_for: ClientFor) -> None:
    clients = [await client_for("editor") for _ in range(4)] + [
        await client_for("admin") for _ in range(4)
    ]
    course = await new_course(clients[0], "launch-4")
    responses = await asyncio.gather(*(start_run(c, course["id"]) for c in clients))
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] + [409] * 7
    winner = next(r.json() for r in responses if r.status_code == 201)
    assert all(r.json().get("run_id") == winner["id"] for r in responses if r.status_code == 409)
    cancelled = ok(await clients[0].post(f"/api/workflow-runs/{winner['id']}/cancel"))
    assert cancelled["status"] == "cancelled"
    second = ok(await start_run(clients[1], course["id"]), 201)
    assert second["id"] != winner["id"]
    problem(
        await clients[0].post(f"/api/workflow-runs/{winner['id']}/steps/announcement/complete"), 409
    )


async def test_permissions_follow_the_subject(client_for: ClientFor, conninfo: str) -> None:
    editor, instructor = await client_for("editor"), await client_for("instructor")
    viewer, auditor = await client_for("viewer"), await client_for("auditor")
    taught = taught_courses(conninfo)
    other = next(pk for pk in range(1, 61) if pk not in taught)
    theirs = ok(await start_run(editor, other), 201)
    mine = ok(await start_run(instructor, taught[0]), 201)
    problem(await instructor.get(f"/api/workflow-runs/{theirs['id']}"), 404)
    assert [r["id"] for r in ok(await instructor.get("/api/workflow-runs"))["items"]] == [
        mine["id"]
    ]
    # The instructor may not view course_instructors, so that step has no link for it.
    assert ok(await instructor.get(f"/api/workflow-runs/{mine['id']}"))["steps"][2]["link"] is None
    assert ok(await viewer.get(f"/api/workflow-runs/{theirs['id']}"))["id"] == theirs["id"]
    problem(await start_run(viewer, 5), 403)
    problem(await start_run(auditor, 5), 403)
    problem(await instructor.post(f"/api/workflow-runs/{theirs['id']}/cancel"), 404)
    mine_only = ok(await editor.get("/api/workflow-runs", params={"mine": "true"}))["items"]
    assert [r["id"] for r in mine_only] == [theirs["id"]]


async def test_instructor_cannot_follow_a_run_it_cannot_see(
    client_for: ClientFor, socket_for: SocketFor, conninfo: str
) -> None:
    editor = await client_for("editor")
    taught = taught_courses(conninfo)
    other = next(pk for pk in range(1, 61) if pk not in taught)
    run = ok(await start_run(editor, other), 201)
    ws = await socket_for("instructor")
    await ws.send({"type": "subscribe", "topic": f"workflow-runs/{run['id']}"})
    assert (await ws.expect("error"))["code"] == "not_found"


async def test_bad_input(client_for: ClientFor) -> None:
    editor = await client_for("editor")
    problem(await editor.post("/api/workflows/nope/runs", json={}), 404)
    assert "subject" in field_errors(
        await editor.post("/api/workflows/launch-course/runs", json={})
    )
    # The body's shape first, every member at fault at once; then what it means.
    wrong = await editor.post(
        "/api/workflows/launch-course/runs",
        json={"subject": {"resource": "sessions", "pk": True}, "due_date": "soon", "x": 1},
    )
    assert field_errors(wrong) == {
        "subject.pk": "Expected an integer or text, got true or false.",
        "due_date": "Expected a date (YYYY-MM-DD).",
        "x": "Unknown field.",
    }
    other = await editor.post(
        "/api/workflows/launch-course/runs", json={"subject": {"resource": "sessions", "pk": 1}}
    )
    assert field_errors(other) == {"subject": '{"resource": "courses", "pk": …}'}
    missing = await editor.post(
        "/api/workflows/launch-course/runs", json={"subject": {"resource": "courses", "pk": 99999}}
    )
    assert "subject" in field_errors(missing)
    assignee = await editor.post(
        "/api/workflows/launch-course/runs",
        json={"subject": {"resource": "courses", "pk": 1}, "assignee": 999999},
    )
    assert field_errors(assignee) == {"assignee": "No such user."}
    problem(await editor.get("/api/workflow-runs/abc"), 404)
    problem(await editor.get("/api/workflow-runs", params={"status": "weird"}), 400)
    problem(await editor.get("/api/workflow-runs", params={"mine": "maybe"}), 400)
    problem(await editor.get("/api/workflow-runs", params={"other": "1"}), 400)
    assert [w["name"] for w in ok(await editor.get("/api/workflows"))["items"]] == ["launch-course"]


async def test_the_evaluator_moves_only_the_runs_a_batch_touched(
    client_for: ClientFor, database_url: str
) -> None:
    """One evaluator step, driven directly: subjects found in SQL, their runs moved."""
    editor = await client_for("editor")
    first, second = await new_course(editor, "launch-5"), await new_course(editor, "launch-6")
    runs = [ok(await start_run(editor, c["id"]), 201) for c in (first, second)]
    registry = Registry(demo_resources())
    db = Database(database_url, pool_size=2)
    evaluator = Evaluator(db, registry, [compile_workflow(LAUNCH_COURSE, registry)])
    try:
        async with db.connection() as tx:
            position = str(await tx.value("SELECT pg_current_snapshot()::text"))
        session = ok(
            await editor.post(
                "/api/r/sessions",
                json={
                    "course_id": first["id"],
                    "starts_on": "2031-01-01",
                    "ends_on": "2031-02-01",
                    "enrollment_open": True,
                },
            ),
            201,
        )
        assert session["course_id"] == first["id"]
        position = await evaluator.step(position)
        shown = [ok(await editor.get(f"/api/workflow-runs/{r['id']}")) for r in runs]
        assert "session-open" in done_steps(shown[0])
        assert "session-open" not in done_steps(shown[1])
        # Nothing new since: a step finds no subject and writes nothing.
        before = evaluator.evaluations
        await evaluator.step(position)
        assert evaluator.evaluations == before
    finally:
        await db.dispose()


async def test_assignee_and_due_date_can_change(client_for: ClientFor, conninfo: str) -> None:
    editor, viewer, reviewer = (
        await client_for("editor"),
        await client_for("viewer"),
        await client_for("reviewer"),
    )
    course = await new_course(editor, "launch-7")
    run = ok(await start_run(editor, course["id"]), 201)
    with psycopg.connect(conninfo) as conn:
        row = conn.execute(
            "SELECT id FROM collabadmin.collabadmin_user WHERE username = 'reviewer'"
        ).fetchone()
    assert row is not None
    url = f"/api/workflow-runs/{run['id']}"
    assigned = ok(await editor.patch(url, json={"assignee": row[0], "due_date": "2031-02-01"}))
    assert assigned["assignee"] == {"id": row[0], "name": "Reviewer"}
    assert assigned["due_date"] == "2031-02-01"
    mine = ok(await reviewer.get("/api/workflow-runs", params={"mine": "true"}))["items"]
    assert [r["id"] for r in mine] == [run["id"]]
    cleared = ok(await editor.patch(url, json={"due_date": None}))
    assert (cleared["assignee"]["id"], cleared["due_date"]) == (row[0], None)
    problem(await viewer.patch(url, json={"due_date": "2031-03-01"}), 403)
    bad = await editor.patch(url, json={"assignee": "someone", "due_date": "soon", "x": 1})
    assert set(field_errors(bad)) == {"assignee", "due_date", "x"}


async def test_auditors_find_run_progress_in_the_audit_log(client_for: ClientFor) -> None:
    editor, auditor = await client_for("editor"), await client_for("auditor")
    course = await new_course(editor, "launch-audit")
    run = ok(await start_run(editor, course["id"]), 201)
    ok(await editor.post(f"/api/workflow-runs/{run['id']}/steps/announcement/complete"))
    items = ok(await auditor.get("/api/audit", params={"resource": "workflow_runs"}))["items"]
    ours = [i for i in items if i["pk"] == str(run["id"])]
    assert [i["op"] for i in ours][-1] == "insert"
    assert {i["source"] for i in ours} == {"workflow"}
    ticked = [
        i
        for i in ours
        if i["diff"].get("steps", {}).get("new", {}).get("announcement", {}).get("done")
    ]
    assert [(i["op"], i["actor"]["name"]) for i in ticked] == [("update", "Editor")]
    assert ticked[0]["hidden_fields"] is False
    # The same rule as drafts: those who may not audit the subject see none.
    problem(
        await (await client_for("viewer")).get("/api/audit", params={"resource": "workflow_runs"}),
        403,
    )
