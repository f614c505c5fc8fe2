"""Per-user list settings: ``GET|PUT /api/prefs/views/{resource}``."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from tests.conftest import ClientFor
from tests.helpers import field_errors, ok, problem

COURSE_FIELDS = [
    "id", "title", "short_name", "description", "status", "start_date",
    "category_id", "university_id", "internal_notes",
]  # fmt: skip


def _filter(field: str, op: str, value: Any) -> dict[str, Any]:
    """A body with one column and one filter."""
    return {
        "columns": [{"field": "title"}],
        "filters": [{"field": field, "op": op, "value": value}],
    }


GOOD: dict[str, Any] = {
    "columns": [
        {"field": "title", "width": 320, "format": "truncate:40"},
        {"field": "status", "format": "badge"},
        {"field": "start_date", "format": "date:long"},
        {"field": "id", "format": "number:grouped"},
    ],
    "sort": "-start_date,title",
    "filters": [
        {"field": "status", "op": "in", "value": "open,draft"},
        {"field": "start_date", "op": "gte", "value": "2026-01-01"},
        {"field": "title", "op": "icontains", "value": "intro"},
    ],
}


async def test_default_is_every_readable_field_and_the_default_sort(client_for: ClientFor) -> None:
    editor = await client_for("editor")
    body = ok(await editor.get("/api/prefs/views/courses"))
    assert [c["field"] for c in body["columns"]] == COURSE_FIELDS
    assert body["sort"] == "title"
    assert body["filters"] == []
    assert body["updated_at"] is None


async def test_saved_settings_come_back_and_are_per_user(client_for: ClientFor) -> None:
    editor, admin = await client_for("editor"), await client_for("admin")
    saved = ok(await editor.put("/api/prefs/views/courses", json=GOOD))
    assert saved["updated_at"] is not None
    again = ok(await editor.get("/api/prefs/views/courses"))
    assert {k: again[k] for k in ("columns", "sort", "filters")} == GOOD
    # Someone else still has the default; a second save replaces the first.
    assert ok(await admin.get("/api/prefs/views/courses"))["updated_at"] is None
    ok(await editor.put("/api/prefs/views/courses", json={"columns": [{"field": "title"}]}))
    replaced = ok(await editor.get("/api/prefs/views/courses"))
    assert replaced["columns"] == [{"field": "title"}]
    assert replaced["sort"] == ""
    assert replaced["filters"] == []


async def test_saved_settings_are_a_query_the_records_api_accepts(client_for: ClientFor) -> None:
    editor = await client_for("editor")
    ok(await editor.put("/api/prefs/views/courses", json=GOOD))
    pref = ok(await editor.get("/api/prefs/views/courses"))
    params = {"sort": pref["sort"]}
    for f in pref["filters"]:
        params[f"filter[{f['field']}][{f['op']}]"] = f["value"]
    page = ok(await editor.get("/api/r/courses", params=params))
    for item in page["items"]:
        assert item["status"] in ("open", "draft")
        assert "intro" in item["title"].lower()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"columns": []}, "columns"),
        ({"columns": "title"}, "columns"),
        ({"columns": [{"field": "nope"}]}, "columns.0.field"),
        ({"columns": [{"field": "title"}, {"field": "title"}]}, "columns.1.field"),
        ({"columns": [{"field": "title", "colour": "red"}]}, "columns.0.colour"),
        ({"columns": [{"field": "title", "width": 5}]}, "columns.0.width"),
        ({"columns": [{"field": "title", "width": True}]}, "columns.0.width"),
        ({"columns": [{"field": "title", "format": "date:long"}]}, "columns.0.format"),
        ({"columns": [{"field": "start_date", "format": "date:klingon"}]}, "columns.0.format"),
        ({"columns": [{"field": "title", "format": "badge"}]}, "columns.0.format"),
        ({"columns": [{"field": "status", "format": "truncate:0"}]}, "columns.0.format"),
        ({"columns": [{"field": "title", "format": "truncate:99999"}]}, "columns.0.format"),
        ({"columns": [{"field": "title", "format": 3}]}, "columns.0.format"),
        ({"columns": [{"field": "title"}], "sort": "colour"}, "sort"),
        ({"columns": [{"field": "title"}], "sort": "title,title"}, "sort"),
        ({"columns": [{"field": "title"}], "sort": 7}, "sort"),
        ({"columns": [{"field": "title"}], "filters": {"status": "open"}}, "filters"),
        (_filter("x", "eq", "1"), "filters.0.field"),
        (_filter("id", "like", "1"), "filters.0.op"),
        (_filter("id", "gte", "one"), "filters.0.value"),
        (_filter("id", "contains", "1"), "filters.0.value"),
        (_filter("start_date", "eq", "soon"), "filters.0.value"),
        (_filter("title", "eq", {"a": 1}), "filters.0.value"),
        ({"columns": [{"field": "title"}], "theme": "dark"}, "theme"),
    ],
)  # fmt: skip
async def test_bad_settings_are_a_422_naming_the_field(
    client_for: ClientFor, body: dict[str, Any], field: str
) -> None:
    editor = await client_for("editor")
    errors = field_errors(await editor.put("/api/prefs/views/courses", json=body))
    assert field in errors, errors
    # Nothing was saved.
    assert ok(await editor.get("/api/prefs/views/courses"))["updated_at"] is None


async def test_every_problem_is_listed_at_once(client_for: ClientFor) -> None:
    editor = await client_for("editor")
    body = {
        "columns": [{"field": "nope"}, {"field": "title", "width": 1}],
        "sort": "nope",
        "filters": [{"field": "id", "op": "gte", "value": "x"}],
    }
    errors = field_errors(await editor.put("/api/prefs/views/courses", json=body))
    assert set(errors) == {"columns.0.field", "columns.1.width", "sort", "filters.0.value"}


async def test_malformed_bodies_and_unknown_resources(client_for: ClientFor) -> None:
    editor = await client_for("editor")
    url = "/api/prefs/views/courses"
    problem(await editor.put(url, content=b"{", headers={"Content-Type": "application/json"}), 400)
    problem(await editor.put(url, content=b"[]", headers={"Content-Type": "application/json"}), 400)
    problem(await editor.put(url, content=b"{}", headers={"Content-Type": "text/plain"}), 415)
    problem(await editor.get("/api/prefs/views/nothing"), 404)
    problem(await editor.put("/api/prefs/views/nothing", json=GOOD), 404)


async def test_a_resource_the_user_may_not_view_is_403(client_for: ClientFor) -> None:
    instructor = await client_for("instructor")
    problem(await instructor.get("/api/prefs/views/universities"), 403)
    body = {"columns": [{"field": "name"}]}
    problem(await instructor.put("/api/prefs/views/universities", json=body), 403)


@pytest.mark.parametrize("user", ["instructor", "viewer"])
async def test_hidden_fields_can_be_neither_saved_nor_seen(
    client_for: ClientFor, user: str
) -> None:
    client = await client_for(user)
    default = ok(await client.get("/api/prefs/views/courses"))
    assert "internal_notes" not in str(default)
    hidden_column = {"columns": [{"field": "title"}, {"field": "internal_notes"}]}
    errors = field_errors(await client.put("/api/prefs/views/courses", json=hidden_column))
    # The same answer as a field that does not exist: nothing says it is there.
    assert errors == {"columns.1.field": "Not a field of this resource."}
    for body, field in (
        ({"columns": [{"field": "title"}], "sort": "-internal_notes"}, "sort"),
        (
            {
                "columns": [{"field": "title"}],
                "filters": [{"field": "internal_notes", "op": "contains", "value": "S"}],
            },
            "filters.0.field",
        ),
    ):
        assert field in field_errors(await client.put("/api/prefs/views/courses", json=body))


async def test_a_field_hidden_after_saving_is_dropped_from_the_body(
    client_for: ClientFor, conninfo: str
) -> None:
    """A pref saved while a field was readable never shows it once it is hidden."""
    viewer = await client_for("viewer")
    stored = {
        "columns": [{"field": "internal_notes"}, {"field": "title", "width": 200}],
        "sort": "-internal_notes,title",
        "filters": [
            {"field": "internal_notes", "op": "icontains", "value": "secret"},
            {"field": "status", "op": "eq", "value": "open"},
        ],
    }
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO collabadmin.collabadmin_view_pref (user_id, resource, config)"
            " SELECT id, 'courses', %s::jsonb FROM collabadmin.collabadmin_user"
            " WHERE username = 'viewer'",
            (psycopg.types.json.Jsonb(stored),),
        )
    body = ok(await viewer.get("/api/prefs/views/courses"))
    assert "internal_notes" not in str(body)
    assert "secret" not in str(body)
    assert body["columns"] == [{"field": "title", "width": 200}]
    assert body["sort"] == "title"
    assert body["filters"] == [{"field": "status", "op": "eq", "value": "open"}]


async def test_needs_authentication(anon: Any) -> None:
    problem(await anon.get("/api/prefs/views/courses"), 401)
    problem(await anon.put("/api/prefs/views/courses", json=GOOD), 401)
