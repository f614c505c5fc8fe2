"""A read made after a write sees that write's effect on derived state (DESIGN invariant 9).

Live views and workflow runs are evaluated in the background; a read first
evaluates what is pending, waiting for a running evaluation a bounded time,
and says ``X-Derived-Stale`` when the bound is hit. Tested with no sleeps:
the "running evaluation" is a lock held by the test.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import psycopg

from collabadmin.views.evaluator import LOCK_CLASS
from collabadmin.workflows.evaluation import EVALUATION_LOCK
from tests.conftest import ClientFor
from tests.helpers import ok, patch_record
from tests.views.test_course_overview import COURSE, add_session, overview


@asynccontextmanager
async def evaluation_held(conninfo: str, statement: str, *params: object) -> AsyncIterator[None]:
    """An evaluation in progress elsewhere: the advisory lock it holds, held here.

    Taken without blocking the event loop: the app's own evaluators run on
    it, and one of them may hold the lock for a moment.
    """
    async with await psycopg.AsyncConnection.connect(conninfo) as conn:
        await conn.execute(statement, params)
        yield
        await conn.rollback()


def done_steps(run: dict[str, object]) -> set[str]:
    steps = run["steps"]
    assert isinstance(steps, list)
    return {s["key"] for s in steps if s["done"]}


async def test_the_checklist_read_right_after_a_patch_shows_the_step_done(
    client_for: ClientFor,
) -> None:
    editor = await client_for("editor")
    course = ok(
        await editor.post("/api/r/courses", json={"title": "Read mine", "short_name": "ryw-1"}),
        201,
    )
    run = ok(
        await editor.post(
            "/api/workflows/launch-course/runs",
            json={"subject": {"resource": "courses", "pk": course["id"]}},
        ),
        201,
    )
    assert run["progress"]["done"] == 0
    ok(await patch_record(editor, "courses", course["id"], {"description": "Ready."}, base=1))
    read = await editor.get(f"/api/workflow-runs/{run['id']}")
    shown = ok(read)
    assert "description" in done_steps(shown)
    assert shown["progress"]["done"] == 1
    assert "x-derived-stale" not in read.headers
    listed = ok(await editor.get("/api/workflow-runs", params={"subject_pk": str(course["id"])}))
    assert [r["progress"]["done"] for r in listed["items"]] == [1]


async def test_a_checklist_read_while_an_evaluation_runs_too_long_says_it_is_stale(
    client_for: ClientFor, conninfo: str
) -> None:
    editor = await client_for("editor")
    course = ok(
        await editor.post("/api/r/courses", json={"title": "Held", "short_name": "ryw-2"}), 201
    )
    run = ok(
        await editor.post(
            "/api/workflows/launch-course/runs",
            json={"subject": {"resource": "courses", "pk": course["id"]}},
        ),
        201,
    )
    async with evaluation_held(conninfo, "SELECT pg_advisory_xact_lock(%s)", EVALUATION_LOCK):
        ok(
            await patch_record(
                editor, "courses", course["id"], {"start_date": "2031-01-01"}, base=1
            )
        )
        read = await editor.get(f"/api/workflow-runs/{run['id']}")
        assert read.headers["x-derived-stale"] == "workflow_runs"
        assert "start-date" not in done_steps(ok(read))
    fresh = await editor.get(f"/api/workflow-runs/{run['id']}")
    assert "start-date" in done_steps(ok(fresh))
    assert "x-derived-stale" not in fresh.headers


async def test_a_view_read_while_an_evaluation_runs_too_long_says_it_is_stale(
    client_for: ClientFor, conninfo: str
) -> None:
    editor = await client_for("editor")
    before = await overview(editor, COURSE)
    lock = "SELECT pg_advisory_xact_lock(%s, hashtext(%s))"
    async with evaluation_held(conninfo, lock, LOCK_CLASS, "course_overview"):
        await add_session(editor, COURSE, "2031-10-01")
        read = await editor.get(f"/api/r/course_overview/{COURSE}")
        assert read.headers["x-derived-stale"] == "course_overview"
        assert ok(read)["sessions"] == before["sessions"]
    fresh = await editor.get(f"/api/r/course_overview/{COURSE}")
    assert ok(fresh)["sessions"] == before["sessions"] + 1
    assert "x-derived-stale" not in fresh.headers
