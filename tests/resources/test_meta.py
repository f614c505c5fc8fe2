"""What a user may see and do: /api/meta and OPTIONS."""

from __future__ import annotations

from tests.conftest import ClientFor
from tests.helpers import ok, problem


async def test_meta_lists_resources_with_fields_and_actions(client_for: ClientFor) -> None:
    editor = await client_for("editor")
    meta = ok(await editor.get("/api/meta"))
    names = [r["name"] for r in meta["resources"]]
    assert names == [
        "universities",
        "categories",
        "instructors",
        "courses",
        "course_instructors",
        "sessions",
    ]
    courses = next(r for r in meta["resources"] if r["name"] == "courses")
    assert courses["pk"] == "id"
    assert courses["label_plural"] == "Courses"
    fields = {f["name"]: f for f in courses["fields"]}
    assert fields["title"]["required"] is True
    assert fields["title"]["max_length"] == 200
    assert fields["short_name"]["pattern"] == "^[a-z0-9.-]+$"
    assert fields["status"]["choices"] == ["draft", "open", "closed"]
    assert fields["category_id"]["relation"] == {"resource": "categories", "display": "name"}
    assert fields["id"]["read_only"] is True
    assert [w["name"] for w in meta["workflows"]] == ["launch-course"]


async def test_options_describes_the_collection_and_one_record(client_for: ClientFor) -> None:
    editor = await client_for("editor")
    response = await editor.options("/api/r/courses")
    collection = ok(response)
    assert response.headers["allow"] == "OPTIONS, GET, HEAD, POST"
    assert "add" in collection["actions"]
    assert "purge" not in collection["actions"]  # superusers only
    short_name = next(f for f in collection["fields"] if f["name"] == "short_name")
    assert short_name["read_only"] is False  # writable when creating
    record_response = await editor.options("/api/r/courses/1")
    record = ok(record_response)
    assert record_response.headers["allow"] == "OPTIONS, GET, HEAD, PATCH, DELETE"
    short_name = next(f for f in record["fields"] if f["name"] == "short_name")
    assert short_name["read_only"] is True  # read-only once created
    problem(await editor.options("/api/r/courses/999999"), 404)
    problem(await editor.options("/api/r/nothing"), 404)
