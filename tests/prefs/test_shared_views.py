"""Named views shared with everyone: ``GET|POST /api/views/{resource}``, ``DELETE .../{id}``."""

from __future__ import annotations

from typing import Any

import httpx

from tests.conftest import ClientFor
from tests.helpers import field_errors, ok, problem

OPEN_COURSES: dict[str, Any] = {
    "name": "Open courses",
    "columns": [{"field": "title"}, {"field": "status", "format": "badge"}],
    "sort": "-start_date",
    "filters": [{"field": "status", "op": "eq", "value": "open"}],
}


async def _names(client: httpx.AsyncClient, resource: str = "courses") -> list[str]:
    return [v["name"] for v in ok(await client.get(f"/api/views/{resource}"))["items"]]


async def test_a_shared_view_is_seen_by_everyone_who_may_view(client_for: ClientFor) -> None:
    editor, viewer = await client_for("editor"), await client_for("viewer")
    assert await _names(viewer) == []
    response = await editor.post("/api/views/courses", json=OPEN_COURSES)
    created = ok(response, 201)
    assert response.headers["location"] == f"/api/views/courses/{created['id']}"
    assert created["name"] == "Open courses"
    assert created["created_by"]["name"] == "Editor"
    assert created["filters"] == [{"field": "status", "op": "eq", "value": "open"}]
    admin = await client_for("admin")
    ok(await admin.post("/api/views/courses", json={**OPEN_COURSES, "name": "  a first  "}), 201)
    # Listed by name, case-insensitively; names are trimmed.
    assert await _names(viewer) == ["a first", "Open courses"]
    assert await _names(editor, "sessions") == []


async def test_names_are_unique_per_resource(client_for: ClientFor) -> None:
    editor, admin = await client_for("editor"), await client_for("admin")
    ok(await editor.post("/api/views/courses", json=OPEN_COURSES), 201)
    duplicate = problem(await admin.post("/api/views/courses", json=OPEN_COURSES), 409)
    assert duplicate["detail"] == "A view named 'Open courses' already exists."
    sessions_view = {"name": "Open courses", "columns": [{"field": "starts_on"}]}
    ok(await admin.post("/api/views/sessions", json=sessions_view), 201)


async def test_bad_views_are_a_422(client_for: ClientFor) -> None:
    editor = await client_for("editor")
    assert "name" in field_errors(await editor.post("/api/views/courses", json={"columns": []}))
    no_name = {**OPEN_COURSES, "name": "   "}
    assert set(field_errors(await editor.post("/api/views/courses", json=no_name))) == {"name"}
    long_name = {**OPEN_COURSES, "name": "x" * 81}
    assert "name" in field_errors(await editor.post("/api/views/courses", json=long_name))
    both = {**OPEN_COURSES, "name": " ", "sort": "nope"}
    assert set(field_errors(await editor.post("/api/views/courses", json=both))) == {"name", "sort"}
    # A name that is not text is refused with the body's shape, before what it means.
    not_text = {**OPEN_COURSES, "name": 5, "sort": "nope"}
    assert field_errors(await editor.post("/api/views/courses", json=not_text)) == {
        "name": "Expected text, got an integer."
    }
    assert await _names(editor) == []


async def test_only_the_creator_deletes(client_for: ClientFor) -> None:
    editor, viewer = await client_for("editor"), await client_for("viewer")
    view = ok(await editor.post("/api/views/courses", json=OPEN_COURSES), 201)
    problem(await viewer.delete(f"/api/views/courses/{view['id']}"), 403)
    problem(await editor.delete(f"/api/views/sessions/{view['id']}"), 404)  # wrong resource
    assert (await editor.delete(f"/api/views/courses/{view['id']}")).status_code == 204
    problem(await editor.delete(f"/api/views/courses/{view['id']}"), 404)
    problem(await editor.delete("/api/views/courses/abc"), 404)
    problem(await editor.delete("/api/views/courses/99999999999999999999999"), 404)
    assert await _names(viewer) == []


async def test_a_superuser_may_remove_anyones_view(client_for: ClientFor) -> None:
    editor, admin = await client_for("editor"), await client_for("admin")
    view = ok(await editor.post("/api/views/courses", json=OPEN_COURSES), 201)
    assert (await admin.delete(f"/api/views/courses/{view['id']}")).status_code == 204


async def test_hidden_fields_never_reach_someone_who_may_not_read_them(
    client_for: ClientFor,
) -> None:
    editor = await client_for("editor")
    instructor, viewer = await client_for("instructor"), await client_for("viewer")
    with_notes = {
        "name": "Notes",
        "columns": [{"field": "internal_notes", "format": "truncate:20"}, {"field": "title"}],
        "sort": "internal_notes",
        "filters": [{"field": "internal_notes", "op": "icontains", "value": "budget cut"}],
    }
    ok(await editor.post("/api/views/courses", json=with_notes), 201)
    assert "internal_notes" in str(ok(await editor.get("/api/views/courses")))
    for client in (instructor, viewer):
        items = ok(await client.get("/api/views/courses"))["items"]
        assert [v["name"] for v in items] == ["Notes"]
        assert "internal_notes" not in str(items)
        assert "budget cut" not in str(items)
        assert items[0]["columns"] == [{"field": "title"}]
        assert items[0]["sort"] == ""
        assert items[0]["filters"] == []
        # ...and cannot share one at all (neither role has share_view).
        problem(await client.post("/api/views/courses", json={**with_notes, "name": "Mine"}), 403)


async def test_resource_checks_match_the_records_api(client_for: ClientFor, anon: Any) -> None:
    instructor = await client_for("instructor")
    problem(await instructor.get("/api/views/universities"), 403)
    view = {"name": "x", "columns": [{"field": "name"}]}
    problem(await instructor.post("/api/views/universities", json=view), 403)
    problem(await instructor.get("/api/views/nothing"), 404)
    problem(await anon.get("/api/views/courses"), 401)


async def test_the_creator_updates_a_shared_view(client_for: ClientFor) -> None:
    editor, viewer = await client_for("editor"), await client_for("viewer")
    view = ok(await editor.post("/api/views/courses", json=OPEN_COURSES), 201)
    assert view["editable"] is True
    assert [v["editable"] for v in ok(await viewer.get("/api/views/courses"))["items"]] == [False]
    changed = {
        **OPEN_COURSES,
        "name": " Open courses by title ",
        "columns": [{"field": "title", "width": 300}, {"field": "start_date"}],
        "sort": "title,-start_date",
        "filters": [{"field": "status", "op": "in", "value": ["open", "draft"]}],
    }
    response = await editor.put(f"/api/views/courses/{view['id']}", json=changed)
    updated = ok(response)
    assert response.headers["cache-control"] == "no-store"
    assert updated["id"] == view["id"]
    assert updated["name"] == "Open courses by title"
    assert updated["columns"] == [{"field": "title", "width": 300}, {"field": "start_date"}]
    assert updated["sort"] == "title,-start_date"
    assert updated["filters"] == [{"field": "status", "op": "in", "value": "open,draft"}]
    assert updated["created_by"]["name"] == "Editor"
    # Everyone reads the new settings; the creator's personal settings are untouched.
    seen = ok(await viewer.get("/api/views/courses"))["items"]
    assert [(v["name"], v["sort"]) for v in seen] == [
        ("Open courses by title", "title,-start_date")
    ]
    assert ok(await editor.get("/api/prefs/views/courses"))["updated_at"] is None


async def test_only_the_creator_or_a_superuser_updates(client_for: ClientFor) -> None:
    editor, admin = await client_for("editor"), await client_for("admin")
    viewer, reviewer = await client_for("viewer"), await client_for("reviewer")
    view = ok(await editor.post("/api/views/courses", json=OPEN_COURSES), 201)
    path = f"/api/views/courses/{view['id']}"
    # No share_view at all: 403 before anything is looked up.
    problem(await viewer.put(path, json=OPEN_COURSES), 403)
    problem(await viewer.put("/api/views/courses/99999", json=OPEN_COURSES), 403)
    mine = ok(await admin.post("/api/views/courses", json={**OPEN_COURSES, "name": "Admin's"}), 201)
    shares = "share_view" in ok(await reviewer.options("/api/r/courses"))["actions"]
    if shares:  # someone who may share, but did not share this one
        problem(await reviewer.put(path, json=OPEN_COURSES), 403)
    problem(await editor.put(f"/api/views/courses/{mine['id']}", json=OPEN_COURSES), 403)
    # A superuser may change anyone's view (and sees it as editable).
    listed = ok(await admin.get("/api/views/courses"))["items"]
    assert all(v["editable"] for v in listed)
    renamed = ok(await admin.put(path, json={**OPEN_COURSES, "name": "Tidied"}))
    assert renamed["name"] == "Tidied"
    assert renamed["created_by"]["name"] == "Editor"
    assert await _names(viewer) == ["Admin's", "Tidied"]


async def test_updating_a_missing_or_misnamed_view(client_for: ClientFor) -> None:
    editor = await client_for("editor")
    view = ok(await editor.post("/api/views/courses", json=OPEN_COURSES), 201)
    other = ok(await editor.post("/api/views/courses", json={**OPEN_COURSES, "name": "B"}), 201)
    problem(await editor.put(f"/api/views/sessions/{view['id']}", json=OPEN_COURSES), 404)
    for bad in ("abc", "99999999999999999999999", "-1", "1.5", "%E2%91%A0"):
        problem(await editor.put(f"/api/views/courses/{bad}", json=OPEN_COURSES), 404)
    problem(await editor.put("/api/views/courses/99999", json=OPEN_COURSES), 404)
    problem(await editor.put("/api/views/nothing/1", json=OPEN_COURSES), 404)
    # Another view's name: a 409 on the name, nothing changed.
    taken = problem(await editor.put(f"/api/views/courses/{other['id']}", json=OPEN_COURSES), 409)
    assert taken["detail"] == "A view named 'Open courses' already exists."
    # Bad bodies: every problem listed at once, nothing changed.
    both = {**OPEN_COURSES, "name": " ", "sort": "nope"}
    path = f"/api/views/courses/{view['id']}"
    assert set(field_errors(await editor.put(path, json=both))) == {"name", "sort"}
    unknown = {**OPEN_COURSES, "owner": 1}
    assert field_errors(await editor.put(path, json=unknown)) == {"owner": "Unknown field."}
    nul = {**OPEN_COURSES, "name": "a\u0000b"}
    problem(await editor.put(path, json=nul), 400)
    problem(await editor.put(path, content=b"{", headers={"content-type": "application/json"}), 400)
    assert await _names(editor) == ["B", "Open courses"]


async def test_an_update_cannot_name_a_hidden_field(client_for: ClientFor) -> None:
    admin = await client_for("admin")
    instructor = await client_for("instructor")
    view = ok(await admin.post("/api/views/courses", json=OPEN_COURSES), 201)
    hidden = {**OPEN_COURSES, "columns": [{"field": "internal_notes"}]}
    # The instructor may not share views: refused before the body is read.
    problem(await instructor.put(f"/api/views/courses/{view['id']}", json=hidden), 403)
    ok(await admin.put(f"/api/views/courses/{view['id']}", json=hidden))
    seen = ok(await instructor.get("/api/views/courses"))["items"]
    assert "internal_notes" not in str(seen)
