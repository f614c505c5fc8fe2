"""The OpenAPI document's per-resource record schemas hold the records the API serves.

Each demo resource's ``Record_<name>`` is checked field by field where the
type mapping matters, and every record a real list returns (as the admin,
who reads every field) validates against its resource's schema, formats
included. The adopted fixture's every column type: tests/adopt/test_record_schemas.py.
"""

from __future__ import annotations

from typing import Any

import httpx
import jsonschema_rs

from tests.conftest import ClientFor
from tests.helpers import ok


async def _document(anon: httpx.AsyncClient) -> dict[str, Any]:
    document: dict[str, Any] = ok(await anon.get("/schema/openapi.json"))
    return document


async def test_each_resource_has_a_record_schema_from_its_fields(anon: httpx.AsyncClient) -> None:
    schemas = (await _document(anon))["components"]["schemas"]
    course = schemas["Record_courses"]
    props = course["properties"]
    assert course["required"] == ["_version", "_deleted_at"]
    assert props["_version"] == {"type": "integer", "readOnly": True}
    assert props["id"]["readOnly"] is True
    assert props["id"]["type"] == "integer"
    assert props["status"]["enum"] == ["draft", "open", "closed"]
    assert props["start_date"]["type"] == ["string", "null"]
    assert props["start_date"]["format"] == "date"
    assert props["short_name"]["maxLength"] == 20
    page = schemas["RecordPage_courses"]
    assert page["required"] == ["items", "next_cursor", "total"]
    assert page["properties"]["items"]["items"] == {"$ref": "#/components/schemas/Record_courses"}


async def test_record_operations_of_a_resource_refer_to_its_schemas(
    anon: httpx.AsyncClient,
) -> None:
    paths = (await _document(anon))["paths"]

    def body(path: str, method: str, status: str) -> Any:
        return paths[path][method]["responses"][status]["content"]["application/json"]["schema"]

    assert body("/api/r/courses", "get", "200") == {
        "$ref": "#/components/schemas/RecordPage_courses"
    }
    for path, method, status in [
        ("/api/r/courses", "post", "201"),
        ("/api/r/courses/{pk}", "get", "200"),
        ("/api/r/courses/{pk}", "patch", "200"),
        ("/api/r/courses/{pk}/restore", "post", "200"),
    ]:
        assert body(path, method, status) == {"$ref": "#/components/schemas/Record_courses"}
    patch = paths["/api/r/courses/{pk}"]["patch"]
    assert patch["operationId"] == "patchRecordCourses"
    # The resource is in the path; the preconditions are typed headers.
    assert [(p["name"], p["in"]) for p in patch["parameters"]] == [
        ("pk", "path"),
        ("If-Match", "header"),
        ("X-Base-Version", "header"),
    ]
    assert patch["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Record_courses"
    }
    # The generic operations stay, for clients that take the resource as a parameter.
    assert paths["/api/r/{resource}/{pk}"]["patch"]["operationId"] == "patchRecord"


async def test_every_served_record_validates_against_its_schema(
    anon: httpx.AsyncClient, client_for: ClientFor
) -> None:
    document = await _document(anon)
    admin = await client_for("admin")
    meta = ok(await admin.get("/api/meta"))
    checked = 0
    for resource in meta["resources"]:
        name = resource["name"]
        validator = jsonschema_rs.validator_for(
            document["components"]["schemas"][f"Record_{name}"], validate_formats=True
        )
        page = ok(await admin.get(f"/api/r/{name}", params={"limit": 200}))
        for record in page["items"]:
            errors = [e.message for e in validator.iter_errors(record)]
            assert not errors, (name, record, errors)
            checked += 1
    assert checked > 20


async def test_a_read_only_resource_documents_only_its_reads(
    anon: httpx.AsyncClient, client_for: ClientFor
) -> None:
    paths = (await _document(anon))["paths"]
    assert set(paths["/api/r/course_overview"]) - {"parameters"} == {"get"}
    assert set(paths["/api/r/course_overview/{pk}"]) - {"parameters"} == {"get"}
    assert "/api/r/course_overview/{pk}/restore" not in paths
    assert "/api/r/course_overview/{pk}/revert" not in paths
    # What is not documented is refused, with a problem, for everyone.
    admin = await client_for("admin")
    answer = await admin.patch(
        "/api/r/course_overview/1", json={"title": "x"}, headers={"If-Match": '"1"'}
    )
    assert answer.status_code in (403, 405)
    assert answer.headers["content-type"].startswith("application/problem+json")
