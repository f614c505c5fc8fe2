"""What the workflow routes take: typed bodies and typed query parameters."""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import ClientFor
from tests.helpers import field_errors, ok, problem
from tests.workflows.test_runs import new_course


@pytest.fixture
async def editor(client_for: ClientFor) -> httpx.AsyncClient:
    return await client_for("editor")


async def test_an_unknown_workflow_is_a_404_whatever_its_body(editor: httpx.AsyncClient) -> None:
    for body in ({}, {"subject": 1, "x": 2}, {"subject": {"resource": "courses", "pk": 1}}):
        problem(await editor.post("/api/workflows/nope/runs", json=body), 404)
    problem(
        await editor.post(
            "/api/workflows/nope/runs", content=b"[", headers={"content-type": "application/json"}
        ),
        400,
    )


async def test_a_subject_key_may_be_text_or_a_number(editor: httpx.AsyncClient) -> None:
    course = await new_course(editor, "typed-key")
    run = ok(
        await editor.post(
            "/api/workflows/launch-course/runs",
            json={"subject": {"resource": "courses", "pk": str(course["id"])}},
        ),
        201,
    )
    assert run["subject"] == {"resource": "courses", "pk": str(course["id"])}
    ok(await editor.post(f"/api/workflow-runs/{run['id']}/cancel"))
    url = "/api/workflows/launch-course/runs"
    wrong_key = await editor.post(url, json={"subject": {"resource": "courses", "pk": [1]}})
    assert field_errors(wrong_key) == {"subject.pk": "Expected an integer or text, got a list."}
    extra = await editor.post(url, json={"subject": {"resource": "courses", "pk": 1, "id": 1}})
    assert field_errors(extra) == {"subject.id": "Unknown field."}


async def test_an_assignment_keeps_what_it_leaves_out(client_for: ClientFor) -> None:
    editor, admin = await client_for("editor"), await client_for("admin")
    course = await new_course(editor, "typed-assign")
    run = ok(
        await editor.post(
            "/api/workflows/launch-course/runs",
            json={
                "subject": {"resource": "courses", "pk": course["id"]},
                "due_date": "2031-01-01",
            },
        ),
        201,
    )
    me = ok(await admin.get("/api/auth/me"))["user"]
    url = f"/api/workflow-runs/{run['id']}"
    assigned = ok(await editor.patch(url, json={"assignee": me["id"]}))
    assert (assigned["assignee"]["id"], assigned["due_date"]) == (me["id"], "2031-01-01")
    unchanged = ok(await editor.patch(url, json={}))
    assert (unchanged["assignee"]["id"], unchanged["due_date"]) == (me["id"], "2031-01-01")
    cleared = ok(await editor.patch(url, json={"assignee": None}))
    assert (cleared["assignee"], cleared["due_date"]) == (None, "2031-01-01")
    assert field_errors(await editor.patch(url, json={"assignee": True})) == {
        "assignee": "Expected an integer or null, got true or false."
    }
    ok(await editor.post(f"{url}/cancel"))


@pytest.mark.parametrize("mine", ["1", "0", "yes", "True", ""])
async def test_mine_is_true_or_false(editor: httpx.AsyncClient, mine: str) -> None:
    body = problem(await editor.get("/api/workflow-runs", params={"mine": mine}), 400)
    assert body["detail"] == "mine must be true or false."


async def test_mine_narrows_the_list(editor: httpx.AsyncClient) -> None:
    every = ok(await editor.get("/api/workflow-runs", params={"mine": "false", "limit": "200"}))
    mine = ok(await editor.get("/api/workflow-runs", params={"mine": "true", "limit": "200"}))
    assert {r["id"] for r in mine["items"]} <= {r["id"] for r in every["items"]}
