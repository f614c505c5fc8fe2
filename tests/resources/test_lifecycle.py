"""Create, soft delete, restore, purge and history of records."""

from __future__ import annotations

import psycopg

from tests.conftest import ClientFor
from tests.helpers import field_errors, get_record, history, ok, problem

NEW_COURSE = {"title": "Distributed Systems", "short_name": "ds-101", "status": "draft"}


async def test_create_returns_201_location_and_etag(client_for: ClientFor) -> None:
    editor = await client_for("editor")
    response = await editor.post("/api/r/courses", json=NEW_COURSE)
    body = ok(response, 201)
    assert body["_version"] == 1
    assert body["description"] == ""  # the column default
    assert response.headers["location"] == f"/api/r/courses/{body['id']}"
    assert response.headers["etag"] == '"1"'
    [created] = await history(editor, "courses", body["id"])
    assert created["op"] == "insert"
    assert created["actor"]["name"] == "Editor"


async def test_create_validates_every_field_at_once(client_for: ClientFor) -> None:
    editor = await client_for("editor")
    errors = field_errors(
        await editor.post(
            "/api/r/courses",
            json={
                "short_name": "Has Spaces",
                "title": "x" * 201,
                "start_date": 20260101,
                "id": 5,
                "secret": True,
            },
        )
    )
    assert set(errors) == {"short_name", "title", "start_date", "id", "secret"}
    missing = field_errors(await editor.post("/api/r/courses", json={}))
    assert set(missing) == {"title", "short_name"}
    problem(await editor.post("/api/r/courses", content=b"{", headers=_json()), 400)
    problem(await editor.post("/api/r/courses", content=b'"text"', headers=_json()), 400)


async def test_unique_short_name_among_live_rows_only(client_for: ClientFor) -> None:
    editor = await client_for("editor")
    first = ok(await editor.post("/api/r/courses", json=NEW_COURSE), 201)
    duplicate = problem(await editor.post("/api/r/courses", json=NEW_COURSE), 409)
    assert duplicate["constraint"] == "courses_short_name_live"
    assert "duplicate key" not in duplicate["detail"]  # no driver text reaches a client
    ok(await editor.delete(f"/api/r/courses/{first['id']}", headers={"If-Match": '"1"'}))
    second = ok(await editor.post("/api/r/courses", json=NEW_COURSE), 201)
    assert second["id"] != first["id"]
    # Restoring the first would make two live rows share the short name.
    problem(
        await editor.post(f"/api/r/courses/{first['id']}/restore", headers={"If-Match": '"2"'}), 409
    )


async def test_soft_delete_and_restore(client_for: ClientFor) -> None:
    editor = await client_for("editor")
    problem(await editor.delete("/api/r/courses/1"), 428)
    problem(await editor.delete("/api/r/courses/1", headers={"If-Match": '"5"'}), 412)
    deleted = ok(await editor.delete("/api/r/courses/1", headers={"If-Match": '"1"'}))
    assert deleted["_deleted_at"] is not None
    assert deleted["_version"] == 2
    # Still readable by id (so it can be restored), but not editable.
    assert (await get_record(editor, "courses", 1))["_deleted_at"] is not None
    problem(
        await editor.patch("/api/r/courses/1", json={"title": "x"}, headers={"If-Match": '"2"'}),
        409,
    )
    restored = ok(await editor.post("/api/r/courses/1/restore", headers={"If-Match": '"2"'}))
    assert (restored["_deleted_at"], restored["_version"]) == (None, 3)
    ops = [c["op"] for c in await history(editor, "courses", 1)]
    assert ops == ["restore", "delete", "insert"]


async def test_purge_needs_superuser_and_keeps_the_final_snapshot(
    client_for: ClientFor,
) -> None:
    editor, admin = await client_for("editor"), await client_for("admin")
    created = ok(await editor.post("/api/r/courses", json=NEW_COURSE), 201)
    pk = created["id"]
    problem(
        await editor.delete(f"/api/r/courses/{pk}?purge=true", headers={"If-Match": '"1"'}), 403
    )
    problem(await admin.delete(f"/api/r/courses/{pk}?purge=true"), 428)
    response = await admin.delete(f"/api/r/courses/{pk}?purge=true", headers={"If-Match": '"1"'})
    assert response.status_code == 204
    problem(await admin.get(f"/api/r/courses/{pk}"), 404)
    problem(await admin.get(f"/api/r/courses/{pk}/history"), 404)


async def test_purge_snapshot_in_the_log(client_for: ClientFor, conninfo: str) -> None:
    admin = await client_for("admin")
    created = ok(await admin.post("/api/r/courses", json=NEW_COURSE), 201)
    pk = created["id"]
    ok(await admin.delete(f"/api/r/courses/{pk}?purge=true", headers={"If-Match": '"1"'}), 204)
    with psycopg.connect(conninfo) as conn:
        row = conn.execute(
            "SELECT op, diff, source FROM collabadmin.collabadmin_change"
            " WHERE resource = 'courses' AND pk = %s ORDER BY id DESC LIMIT 1",
            (str(pk),),
        ).fetchone()
    assert row is not None
    op, diff, source = row
    assert (op, source) == ("purge", "api")
    assert diff["title"] == {"old": "Distributed Systems", "new": None}
    assert diff["short_name"] == {"old": "ds-101", "new": None}
    assert set(diff) >= {"id", "title", "short_name", "status", "description", "internal_notes"}


async def test_purging_a_referenced_row_is_a_clear_409(client_for: ClientFor) -> None:
    admin = await client_for("admin")
    body = problem(
        await admin.delete("/api/r/courses/1?purge=true", headers={"If-Match": '"1"'}), 409
    )
    assert body["sqlstate"] == "23503"
    assert (await get_record(admin, "courses", 1))["_version"] == 1


async def test_history_pages_newest_first(client_for: ClientFor) -> None:
    editor = await client_for("editor")
    for version in range(1, 6):
        ok(
            await editor.patch(
                "/api/r/courses/2",
                json={"description": f"rev {version}"},
                headers={"If-Match": f'"{version}"'},
            )
        )
    first = ok(await editor.get("/api/r/courses/2/history", params={"limit": "4"}))
    assert [c["version"] for c in first["items"]] == [6, 5, 4, 3]
    rest = ok(
        await editor.get(
            "/api/r/courses/2/history", params={"limit": "4", "cursor": first["next_cursor"]}
        )
    )
    assert [c["version"] for c in rest["items"]] == [2, 1]
    assert rest["next_cursor"] is None
    change = first["items"][0]
    assert set(change) >= {"id", "at", "resource", "pk", "op", "actor", "source", "version", "diff"}
    assert change["diff"] == {"description": {"old": "rev 4", "new": "rev 5"}}
    problem(await editor.get("/api/r/courses/2/history", params={"cursor": "abc"}), 400)
    problem(await editor.get("/api/r/courses/2/history", params={"limit": "0"}), 400)


def _json() -> dict[str, str]:
    return {"Content-Type": "application/json"}
