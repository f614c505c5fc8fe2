"""What the draft routes take: typed bodies, typed query parameters, typed headers.

A body of the wrong shape is one 422 listing every member at fault; the
optional body of a transition may be left out altogether; the list's query
string keeps the strictness it had when the routes parsed it themselves,
whatever Litestar's own parsing would let through.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.conftest import ClientFor
from tests.drafts.test_drafts import start_draft
from tests.helpers import field_errors, ok, problem

ARABIC_THREE = "\u0663"


@pytest.fixture
async def editor(client_for: ClientFor) -> httpx.AsyncClient:
    return await client_for("editor")


async def test_a_transition_body_may_be_left_out_or_be_null(editor: httpx.AsyncClient) -> None:
    for body in (None, b"null", b"{}", b'{"comment": "   "}'):
        draft = await start_draft(editor, "courses", 3, {"title": "Typed"})
        url = f"/api/drafts/{draft['id']}/submit"
        if body is None:  # no body and no media type at all
            submitted = ok(await editor.post(url))
        else:
            submitted = ok(
                await editor.post(url, content=body, headers={"content-type": "application/json"})
            )
        assert submitted["status"] == "submitted"
        trail = ok(await editor.get(f"/api/drafts/{draft['id']}/comments"))["items"]
        assert [(e["action"], e["comment"]) for e in trail][-1] == ("submit", None)
        ok(await editor.post(f"/api/drafts/{draft['id']}/discard"))


async def test_a_transition_body_of_another_media_type_is_refused(
    editor: httpx.AsyncClient,
) -> None:
    draft = await start_draft(editor, "courses", 3, {"title": "Typed"})
    url = f"/api/drafts/{draft['id']}/submit"
    problem(
        await editor.post(url, content=b"comment=hi", headers={"content-type": "text/plain"}), 415
    )
    assert ok(await editor.get(f"/api/drafts/{draft['id']}"))["status"] == "draft"


async def test_every_member_at_fault_is_listed_in_one_422(editor: httpx.AsyncClient) -> None:
    draft = await start_draft(editor, "courses", 3, {"title": "Typed"})
    url = f"/api/drafts/{draft['id']}"
    assert field_errors(
        await editor.post(f"{url}/publish", json={"comment": 5, "publish_at": "soon", "x": 1})
    ) == {
        "comment": "Expected text or null, got an integer.",
        "publish_at": "Expected a date and time (ISO 8601).",
        "x": "Unknown field.",
    }
    assert field_errors(await editor.post(f"{url}/submit", json={"comment": "x" * 4001})) == {
        "comment": "Expected text of at most 4000 characters."
    }
    # A member named "data" is a member, not the body as a whole.
    assert field_errors(await editor.post("/api/r/courses/3/drafts", json={"data": []})) == {
        "data": "Expected an object, got a list."
    }
    edit = await editor.patch(
        url, json={"data": 1, "unset": ["ok", 2]}, headers={"X-Base-Version": "1"}
    )
    assert field_errors(edit) == {
        "data": "Expected an object, got an integer.",
        "unset.1": "Expected text, got an integer.",
    }
    rebase = await editor.post(f"{url}/rebase", json={"resolutions": {"title": "mine"}})
    assert set(field_errors(rebase)) == {"resolutions"}
    # The body as a whole must still be an object.
    assert (
        problem(await editor.post(f"{url}/comments", json=["hi"]), 400)["detail"]
        == "The body must be a JSON object."
    )


async def test_a_publish_time_without_offset_is_utc(client_for: ClientFor) -> None:
    editor, reviewer = await client_for("editor"), await client_for("reviewer")
    draft = await start_draft(editor, "courses", 3, {"title": "Later"})
    ok(await editor.post(f"/api/drafts/{draft['id']}/submit"))
    ok(await reviewer.post(f"/api/drafts/{draft['id']}/approve"))
    scheduled = ok(
        await reviewer.post(
            f"/api/drafts/{draft['id']}/publish", json={"publish_at": "2099-01-02T03:04:05"}
        )
    )
    assert scheduled["publish_at"].startswith("2099-01-02T03:04:05")
    assert scheduled["publish_at"].endswith(("Z", "+00:00"))
    assert "record" not in scheduled  # nothing was written yet
    ok(await editor.post(f"/api/drafts/{draft['id']}/discard"))


@pytest.mark.parametrize("path", ["/api/drafts", "/api/workflow-runs"])
@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        (f"limit={ARABIC_THREE}", "limit"),
        ("limit=\uff11", "limit"),
        ("limit=1&limit=2", "limit"),
        ("limit=%2B1", "limit"),
        ("limit=+1", "limit"),
        ("limit=1e2", "limit"),
        ("limit=1.0", "limit"),
        ("limit=", "limit"),
        ("limit=0", "limit"),
        ("limit=201", "limit"),
        ("status=open&status=done", "status"),
        ("cursor=1&cursor=2", "cursor"),
        (f"cursor={ARABIC_THREE}", "cursor"),
        ("bogus=1", "bogus"),
        ("Limit=1", "Limit"),
    ],
)
async def test_a_list_query_is_read_strictly(
    editor: httpx.AsyncClient, path: str, query: str, parameter: str
) -> None:
    body = problem(await editor.get(f"{path}?{query}"), 400)
    assert body.get("parameter") == parameter or parameter in body["detail"], body


@pytest.mark.parametrize("path", ["/api/drafts", "/api/workflow-runs"])
async def test_a_list_takes_its_declared_parameters(editor: httpx.AsyncClient, path: str) -> None:
    page: dict[str, Any] = ok(await editor.get(path, params={"limit": "200"}))
    assert set(page) == {"items", "next_cursor"}
    ok(await editor.get(path, params={"limit": "1", "cursor": ""}))


async def test_the_author_filter_is_an_ascii_id_or_me(editor: httpx.AsyncClient) -> None:
    mine = ok(await editor.get("/api/drafts", params={"author": "me", "limit": "200"}))["items"]
    assert all(d["author"]["name"] == "Editor" for d in mine)
    for author in (ARABIC_THREE, "-1", "someone", ""):
        problem(await editor.get("/api/drafts", params={"author": author}), 400)


async def test_a_route_without_query_parameters_refuses_any(editor: httpx.AsyncClient) -> None:
    draft = await start_draft(editor, "courses", 3, {"title": "Typed"})
    body = problem(await editor.get(f"/api/drafts/{draft['id']}?limit=1"), 400)
    assert body["detail"] == "Unknown query parameter 'limit'."
    ok(await editor.get(f"/api/drafts/{draft['id']}"))


async def test_a_draft_edit_states_its_version_in_a_header(editor: httpx.AsyncClient) -> None:
    draft = await start_draft(editor, "courses", 3, {"title": "Typed"})
    url = f"/api/drafts/{draft['id']}"
    problem(await editor.patch(url, json={"data": {"title": "T2"}}), 428)
    problem(
        await editor.patch(
            url, json={"data": {}}, headers={"X-Base-Version": ARABIC_THREE.encode()}
        ),
        400,
    )
    problem(await editor.patch(url, json={"data": {}}, headers={"If-Match": "*"}), 428)
    problem(await editor.patch(url, json={"data": {}}, headers={"If-Match": '"99"'}), 412)
    edited = ok(
        await editor.patch(
            url,
            json={"data": {"title": "T2"}},
            headers={"If-Match": f'"{draft["_version"]}"'},
        )
    )
    assert edited["data"] == {"title": "T2"}
    ok(await editor.post(f"{url}/discard"))
