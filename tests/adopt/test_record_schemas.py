"""An adopted database's record schemas: every PostgreSQL type of the fixture.

The record schemas of the OpenAPI document are generated from the reflected
fields, so the adopted ``ticket`` (an enum, arrays, json, bytea, numerics,
dates, times, intervals, uuid, inet...) is where their type mapping is
tried: a ticket holding a value of every type, and one holding nulls, read
back through the API, validate against ``Record_ticket`` (formats included);
so does every record of every adopted resource.
"""

from __future__ import annotations

from typing import Any

import httpx
import jsonschema_rs

from tests.adopt.test_type_matrix import TICKET
from tests.helpers import ok


async def _schemas(admin: httpx.AsyncClient) -> dict[str, Any]:
    schemas: dict[str, Any] = ok(await admin.get("/schema/openapi.json"))["components"]["schemas"]
    return schemas


async def test_ticket_schema_maps_each_postgresql_type(admin: httpx.AsyncClient) -> None:
    props = (await _schemas(admin))["Record_ticket"]["properties"]
    assert props["price"]["type"] == ["string", "null"]  # numeric: an exact string
    assert props["due_on"]["format"] == "date"
    assert props["happened_at"]["format"] == "date-time"  # timestamptz
    assert "format" not in props["logged_at"]  # timestamp: no offset, not RFC 3339
    assert [v for v in props["status"]["enum"] if v is not None] == ["new", "in progress", "done"]
    assert props["tags"]["type"] in ("array", ["array", "null"])
    assert props["scores"]["items"]["type"] == ["integer", "null"]
    assert props["ref"]["format"] == "uuid"
    assert props["attachment"]["contentEncoding"] == "base64"
    assert props["ticket_id"]["readOnly"] is True
    assert props["meta"] == {"title": props["meta"]["title"]}  # json: any value
    assert "/api/r/ticket/{pk}" in ok(await admin.get("/schema/openapi.json"))["paths"]


async def test_tickets_of_every_type_validate_against_their_schema(
    admin: httpx.AsyncClient,
) -> None:
    schemas = await _schemas(admin)
    full = ok(await admin.post("/api/r/ticket", json=TICKET), 201)
    empty = ok(await admin.post("/api/r/ticket", json={"title": "Nulls elsewhere"}), 201)
    validator = jsonschema_rs.validator_for(schemas["Record_ticket"], validate_formats=True)
    for record in (full, empty):
        assert not [e.message for e in validator.iter_errors(record)], record
    meta = ok(await admin.get("/api/meta"))
    for resource in meta["resources"]:
        name = resource["name"]
        suffix = "".join(c if c.isalnum() or c in "_.-" else "_" for c in name)
        check = jsonschema_rs.validator_for(schemas[f"Record_{suffix}"], validate_formats=True)
        for record in ok(await admin.get(f"/api/r/{name}", params={"limit": 100}))["items"]:
            assert not [e.message for e in check.iter_errors(record)], (name, record)
