"""The audit log API: filters, CSV export, permissions and revert."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

import httpx
import psycopg
import pytest

from tests.conftest import ClientFor
from tests.helpers import field_errors, get_record, history, ok, patch_record, problem


async def _everything(auditor: httpx.AsyncClient, **params: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        query = {"limit": "500", **params, **({"cursor": cursor} if cursor else {})}
        page = ok(await auditor.get("/api/audit", params=query))
        items.extend(page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            return items


@pytest.fixture
async def edited(client_for: ClientFor, conninfo: str) -> dict[str, Any]:
    """A few known changes on top of the seed."""
    editor, admin = await client_for("editor"), await client_for("admin")
    ok(await patch_record(editor, "courses", 1, {"title": "Audited", "status": "open"}, base=1))
    ok(await patch_record(admin, "courses", 1, {"description": "needle in a haystack"}, base=2))
    ok(await patch_record(editor, "courses", 2, {"description": "other"}, base=1))
    ok(await editor.delete("/api/r/courses/3", headers={"If-Match": '"1"'}))
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("UPDATE sessions SET enrollment_open = NOT enrollment_open WHERE id = 1")
    return {"editor": editor, "admin": admin}


async def test_filters_combine(client_for: ClientFor, edited: dict[str, Any]) -> None:
    auditor = await client_for("auditor")
    everything = await _everything(auditor)
    assert len(everything) > 60  # the seed's inserts plus the edits
    assert [c["id"] for c in everything] == sorted((c["id"] for c in everything), reverse=True)

    def expect(**params: str) -> list[int]:
        def keep(c: dict[str, Any]) -> bool:
            actor = c["actor"] or {}
            return (
                ("resource" not in params or c["resource"] == params["resource"])
                and ("pk" not in params or c["pk"] == params["pk"])
                and ("actor" not in params or actor.get("name") == params["actor"])
                and ("field" not in params or params["field"] in c["diff"])
                and ("op" not in params or c["op"] == params["op"])
                and ("source" not in params or c["source"] == params["source"])
            )

        return [c["id"] for c in everything if keep(c)]

    for params in (
        {"resource": "courses", "pk": "1"},
        {"actor": "Editor"},
        {"actor": "Editor", "field": "description"},
        {"op": "delete"},
        {"source": "db", "resource": "sessions"},
        {"resource": "courses", "field": "status", "op": "update"},
    ):
        got = [c["id"] for c in await _everything(auditor, **params)]
        assert got == expect(**params), params
        assert got, params
    by_login = [c["id"] for c in await _everything(auditor, actor="editor")]
    assert by_login == expect(actor="Editor")
    needle = await _everything(auditor, q="NEEDLE")
    assert [c["diff"]["description"]["new"] for c in needle] == ["needle in a haystack"]
    now = dt.datetime.now(dt.UTC)
    recent = await _everything(auditor, since=(now - dt.timedelta(minutes=5)).isoformat())
    assert len(recent) == len(everything)
    assert await _everything(auditor, until=(now - dt.timedelta(minutes=5)).isoformat()) == []
    page = ok(await auditor.get("/api/audit", params={"limit": "2", "resource": "courses"}))
    assert len(page["items"]) == 2
    assert page["next_cursor"]


@pytest.mark.parametrize(
    "params",
    [
        {"op": "erase"},
        {"source": "magic"},
        {"since": "yesterday"},
        {"limit": "0"},
        {"cursor": "x"},
        {"resource": "nothing"},
        {"field": "a b"},
        {"colour": "red"},
    ],
)
async def test_bad_audit_queries_are_400(client_for: ClientFor, params: dict[str, str]) -> None:
    auditor = await client_for("auditor")
    problem(await auditor.get("/api/audit", params=params), 400)


@pytest.mark.parametrize("role", ["editor", "instructor", "reviewer", "viewer"])
async def test_only_roles_with_audit_read_it(client_for: ClientFor, role: str) -> None:
    client = await client_for(role)
    problem(await client.get("/api/audit"), 403)
    problem(await client.get("/api/audit.csv"), 403)


async def test_auditor_reads_and_changes_nothing(client_for: ClientFor) -> None:
    auditor = await client_for("auditor")
    ok(await auditor.get("/api/audit"))
    problem(await patch_record(auditor, "courses", 1, {"title": "x"}, base=1), 403)
    problem(await auditor.post("/api/r/courses/1/revert", json={"change_id": 1}), 403)


async def test_csv_has_one_row_per_field_change(
    client_for: ClientFor, edited: dict[str, Any]
) -> None:
    auditor = await client_for("auditor")
    response = await auditor.get("/api/audit.csv", params={"resource": "courses", "pk": "1"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    changes = await _everything(auditor, resource="courses", pk="1")
    assert len(rows) == sum(len(c["diff"]) for c in changes)
    title = next(r for r in rows if r["field"] == "title" and r["op"] == "update")
    assert title["new"] == '"Audited"'
    assert title["actor_name"] == "Editor"
    problem(await auditor.get("/api/audit.csv", params={"op": "nope"}), 400)


async def test_revert_restores_fields_as_a_new_change(
    client_for: ClientFor, edited: dict[str, Any]
) -> None:
    editor = edited["editor"]
    before = await get_record(editor, "courses", 1)
    changes = await history(editor, "courses", 1)
    first_edit = next(c for c in changes if c["version"] == 2)
    response = await editor.post(
        "/api/r/courses/1/revert", json={"change_id": first_edit["id"], "fields": ["status"]}
    )
    reverted = ok(response)
    assert reverted["status"] == first_edit["diff"]["status"]["old"]
    assert reverted["title"] == "Audited"  # not chosen, kept
    assert reverted["_version"] == before["_version"] + 1
    [latest, *_] = await history(editor, "courses", 1)
    assert (latest["source"], latest["op"]) == ("revert", "update")
    assert list(latest["diff"]) == ["status"]


async def test_revert_of_a_field_changed_since_is_a_409(
    client_for: ClientFor, edited: dict[str, Any]
) -> None:
    editor = edited["editor"]
    changes = await history(editor, "courses", 1)
    first_edit = next(c for c in changes if c["version"] == 2)
    ok(await patch_record(editor, "courses", 1, {"title": "Changed again"}, base=3))
    body = problem(
        await editor.post(
            "/api/r/courses/1/revert", json={"change_id": first_edit["id"], "fields": ["title"]}
        ),
        409,
    )
    assert body["conflicts"] == [
        {
            "field": "title",
            "base": "Audited",
            "theirs": "Changed again",
            "yours": first_edit["diff"]["title"]["old"],
        }
    ]
    assert (await get_record(editor, "courses", 1))["title"] == "Changed again"


async def test_revert_rejects_what_it_cannot_do(
    client_for: ClientFor, edited: dict[str, Any]
) -> None:
    editor = edited["editor"]
    changes = await history(editor, "courses", 1)
    insert = next(c for c in changes if c["op"] == "insert")
    edit = next(c for c in changes if c["version"] == 2)
    problem(await editor.post("/api/r/courses/1/revert", json={"change_id": insert["id"]}), 409)
    problem(await editor.post("/api/r/courses/1/revert", json={"change_id": 999999}), 404)
    problem(await editor.post("/api/r/courses/2/revert", json={"change_id": edit["id"]}), 404)
    errors = field_errors(
        await editor.post(
            "/api/r/courses/1/revert", json={"change_id": edit["id"], "fields": ["description"]}
        )
    )
    assert errors == {"description": "This change did not touch that field."}
    assert set(field_errors(await editor.post("/api/r/courses/1/revert", json={"x": 1}))) == {
        "change_id",
        "x",
    }
