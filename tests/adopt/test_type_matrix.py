"""Every column type of an adopted schema through every record operation: no 500 anywhere.

The fixture schema (fixture.sql) has an enum, domains, arrays, json and
jsonb, bytea, numeric with and without a scale, real/double, small and big
integers, date, time, timestamp, timestamptz, interval, uuid, citext, inet,
cidr, a tsvector filled by the application's own trigger, identity and
generated columns, and quoted mixed-case names; a view over ``ticket``
(listed, filtered and sorted, read-only) and a table of a second schema
(``archive.old_ticket``), all adopted by ``collabadmin db track`` and served
as ``collabadmin serve`` (no ``--app``) serves them (see conftest.py).
"""

from __future__ import annotations

import asyncio
import base64
import json
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect

from collabadmin.adopt.app import adopt
from collabadmin.settings import Settings
from tests.adopt.cli_database import FIXTURE_SCHEMAS
from tests.adopt.cli_database import connect as connect_db
from tests.adopt.conftest import _token
from tests.conftest import Served
from tests.helpers import field_errors, history, list_all, ok, patch_record, problem

# One value of every writable field, in the JSON form the API reads back.
TICKET = {
    "title": "Printer jam on floor 3",
    "code": "AB-12",
    "status": "in progress",
    "release_year": 1999,
    "tags": ["hardware", "floor 3"],
    "scores": [3, 1, 2],
    "meta": {"k": [1, "x"], "nested": {"deep": True}},
    "attrs": {"n": 1.5, "s": "t"},
    "attachment": "AAFoaQ==",
    "price": "1234.50",
    "ratio": "0.000000000000000000001234567890123456789",
    "weight": 1.5,
    "precise": 2.25,
    "small": 7,
    "big": 9007199254740993,
    "due_on": "2026-03-01",
    "due_at": "10:15:30",
    "logged_at": "2026-03-01T10:15:30",
    "happened_at": "2026-03-01T10:15:30Z",
    "spent": "P1DT2H30M",
    "ref": "2b1e8f3c-6d5a-4c3e-9f10-7a8b9c0d1e2f",
    "email": "Ann@Example.com",
    "client_ip": "192.168.1.10",
    "network": "10.0.0.0/8",
    "done": False,
}
# A different value of each, for a real change.
CHANGED = {
    "title": "Printer fixed",
    "code": "ZZ-9",
    "status": "done",
    "release_year": 2024,
    "tags": ["software"],
    "scores": [],
    "meta": [1, 2],
    "attrs": {"n": 2},
    "attachment": "/wD/",
    "price": "0.05",
    "ratio": "12345678901234567890.123456789",
    "weight": -0.25,
    "precise": 1e-9,
    "small": -32768,
    "big": -9223372036854775808,
    "due_on": "2027-12-31",
    "due_at": "23:59:59.250000",
    "logged_at": "1999-12-31T23:59:59.500000",
    "happened_at": "2026-06-30T22:00:00Z",
    "spent": "-PT30M",
    "ref": "00000000-0000-4000-8000-000000000001",
    "email": "bob@example.org",
    "client_ip": "2001:db8::1",
    "network": "192.168.0.0/24",
    "done": True,
}
EXPECTED_TYPES = {
    "ticket_id": "integer",
    "title": "text",
    "code": "string",
    "status": "string",
    "release_year": "integer",
    "tags": "array",
    "scores": "array",
    "meta": "json",
    "attrs": "json",
    "attachment": "binary",
    "price": "decimal",
    "ratio": "decimal",
    "weight": "float",
    "precise": "float",
    "small": "integer",
    "big": "integer",
    "due_on": "date",
    "due_at": "time",
    "logged_at": "datetime",
    "happened_at": "datetime",
    "spent": "duration",
    "ref": "uuid",
    "email": "text",
    "client_ip": "string",
    "network": "string",
    "done": "boolean",
    "title_length": "integer",
    "search": "string",
}
# A valid operand per field, for filters.
OPERAND = {
    "ticket_id": "1",
    "title": "Printer",
    "code": "AB-12",
    "status": "new",
    "release_year": "1999",
    "tags": "hardware",
    "scores": "2",
    "price": "1234.5",
    "ratio": "0.5",
    "weight": "1.5",
    "precise": "2.25",
    "small": "7",
    "big": "9007199254740993",
    "due_on": "2026-03-01",
    "due_at": "10:15:30",
    "logged_at": "2026-03-01T10:15:30",
    "happened_at": "2026-03-01T10:15:30+00:00",
    "spent": "P1D",
    "ref": "2b1e8f3c-6d5a-4c3e-9f10-7a8b9c0d1e2f",
    "email": "ann@example.com",
    "client_ip": "192.168.1.10",
    "network": "10.0.0.0/8",
    "done": "true",
    "title_length": "5",
    "search": "printer",
}
# An operand each field must refuse with a 400 (text takes any text).
BAD_OPERAND = {
    "ticket_id": "one",
    "status": "closed",
    "release_year": "1999.5",
    "scores": "two",
    "price": "1.2.3",
    "ratio": "NaN",
    "weight": "heavy",
    "precise": "1e",
    "small": "99999999999999999999",
    "big": "0x10",
    "due_on": "2026-02-30",
    "due_at": "25:00",
    "logged_at": "2026-03-01T10:15:30+02:00",
    "happened_at": "2026-03-01T10:15:30",
    "spent": "one day",
    "ref": "not-a-uuid",
    "client_ip": "300.1.1.1",
    "network": "10.0.0.1/8",
    "done": "maybe",
    "title_length": "x",
}


async def _meta(client: httpx.AsyncClient, resource: str) -> dict[str, Any]:
    body: dict[str, Any] = ok(await client.options(f"/api/r/{resource}"))
    return body


async def _create(client: httpx.AsyncClient, body: dict[str, Any]) -> dict[str, Any]:
    created: dict[str, Any] = ok(await client.post("/api/r/ticket", json=body), 201)
    return created


async def test_field_meta_maps_every_postgresql_type(admin: httpx.AsyncClient) -> None:
    fields = {f["name"]: f for f in (await _meta(admin, "ticket"))["fields"]}
    assert {name: f["type"] for name, f in fields.items()} == EXPECTED_TYPES
    assert fields["status"]["choices"] == ["new", "in progress", "done"]
    assert fields["code"]["max_length"] == 12  # a domain over varchar(12)
    assert fields["tags"]["items"] == "text"
    assert fields["scores"]["items"] == "integer"
    assert fields["logged_at"]["timezone"] is False
    assert "timezone" not in fields["happened_at"]
    # Identity, generated, defaulted and trigger-filled columns are not required.
    assert not any(f["required"] for f in fields.values())
    assert fields["ticket_id"]["read_only"]
    assert fields["title_length"]["read_only"]
    assert fields["search"]["read_only"]
    assert fields["tags"]["operators"] == ["has", "overlaps", "isnull"]
    assert fields["meta"]["operators"] == ["isnull"]
    assert "contains" in fields["status"]["operators"]
    assert "contains" not in fields["price"]["operators"]
    mixed = {f["name"]: f for f in (await _meta(admin, "MixedCase"))["fields"]}
    assert mixed["Column Name"]["required"]
    assert mixed["Column Name"]["max_length"] == 40
    assert mixed["Amount"]["type"] == "decimal"


async def test_create_reads_back_every_type_in_its_json_form(admin: httpx.AsyncClient) -> None:
    created = await _create(admin, TICKET)
    for name, value in TICKET.items():
        assert created[name] == value, name
    assert created["title_length"] == len(TICKET["title"])
    assert created["search"] == "'3':5 'floor':4 'jam':2 'on':3 'printer':1"
    fetched = ok(await admin.get(f"/api/r/ticket/{created['ticket_id']}"))
    assert fetched == created
    # Numbers are accepted for decimals, and come back as exact strings.
    other = await _create(admin, {"title": "Number in", "price": 12.5, "ratio": 3})
    assert (other["price"], other["ratio"]) == ("12.50", "3")


async def test_what_is_read_writes_back_unchanged(admin: httpx.AsyncClient) -> None:
    created = await _create(admin, TICKET)
    pk = created["ticket_id"]
    # The whole record echoed back, read-only fields included: no change.
    echoed = ok(await patch_record(admin, "ticket", pk, created, if_match=1))
    assert echoed == created
    assert echoed["_version"] == 1
    assert [c["op"] for c in await history(admin, "ticket", pk)] == ["insert"]


async def test_a_real_change_of_every_type_comes_back_and_is_in_history(
    admin: httpx.AsyncClient,
) -> None:
    created = await _create(admin, TICKET)
    pk = created["ticket_id"]
    changed = ok(await patch_record(admin, "ticket", pk, CHANGED, if_match=1))
    for name, value in CHANGED.items():
        assert changed[name] == value, name
    assert changed["_version"] == 2
    assert ok(await admin.get(f"/api/r/ticket/{pk}")) == changed
    [update, insert] = await history(admin, "ticket", pk)
    for name, value in CHANGED.items():
        assert update["diff"][name] == {"old": TICKET[name], "new": value}, name
    for name, value in TICKET.items():
        assert insert["diff"][name]["new"] == value, name


async def test_conflicts_carry_the_same_json_forms(admin: httpx.AsyncClient) -> None:
    created = await _create(admin, TICKET)
    pk = created["ticket_id"]
    ok(await patch_record(admin, "ticket", pk, {"price": "99.90", "spent": "PT1H"}, if_match=1))
    mine = {"price": "10.00", "spent": "PT2H", "attachment": "AAFoaQ=="}
    conflict = problem(await patch_record(admin, "ticket", pk, mine, base=1), 409)
    assert conflict["current"]["price"] == "99.90"
    by_field = {c["field"]: c for c in conflict["conflicts"]}
    assert by_field["price"] == {
        "field": "price",
        "base": "1234.50",
        "theirs": "99.90",
        "yours": "10.00",
    }
    assert by_field["spent"] == {
        "field": "spent",
        "base": "P1DT2H30M",
        "theirs": "PT1H",
        "yours": "PT2H",
    }
    assert "attachment" not in by_field  # unchanged since the base: no conflict
    stale = problem(await patch_record(admin, "ticket", pk, {"price": 1}, if_match=1), 412)
    assert stale["current"]["price"] == "99.90"
    assert stale["current"]["attachment"] == TICKET["attachment"]


async def test_delete_restore_and_revert_keep_the_forms(admin: httpx.AsyncClient) -> None:
    created = await _create(admin, TICKET)
    pk = created["ticket_id"]
    changed = ok(await patch_record(admin, "ticket", pk, CHANGED, if_match=1))
    [update, _] = await history(admin, "ticket", pk)
    reverted = ok(await admin.post(f"/api/r/ticket/{pk}/revert", json={"change_id": update["id"]}))
    for name, value in TICKET.items():
        assert reverted[name] == value, name
    deleted = ok(
        await admin.delete(f"/api/r/ticket/{pk}", headers={"If-Match": f'"{reverted["_version"]}"'})
    )
    assert deleted["_deleted_at"] is not None
    assert deleted["price"] == "1234.50"
    restored = ok(
        await admin.post(
            f"/api/r/ticket/{pk}/restore", headers={"If-Match": f'"{deleted["_version"]}"'}
        )
    )
    assert restored["_deleted_at"] is None
    assert {k: restored[k] for k in TICKET} == TICKET
    assert changed["_version"] < restored["_version"]


async def test_every_operator_of_every_field_and_every_sort(admin: httpx.AsyncClient) -> None:
    await _create(admin, TICKET)
    await _create(admin, {**CHANGED, "title": "Second"})
    fields = (await _meta(admin, "ticket"))["fields"]
    all_ops = ("eq", "ne", "lt", "lte", "gt", "gte", "in", "contains", "icontains", "isnull",
               "has", "overlaps")  # fmt: skip
    for f in fields:
        name = f["name"]
        for op in all_ops:
            key = f"filter[{name}][{op}]"
            if op not in f["operators"]:
                problem(await admin.get("/api/r/ticket", params={key: "x"}), 400)
                continue
            operand = "true" if op == "isnull" else OPERAND.get(name, "x")
            if op in ("in", "overlaps"):
                operand = f"{operand},{operand}"
            response = await admin.get("/api/r/ticket", params={key: operand})
            assert response.status_code == 200, (key, operand, response.text)
            bad = "maybe" if op == "isnull" else BAD_OPERAND.get(name)
            if bad is not None and op not in ("contains", "icontains"):
                refused = await admin.get("/api/r/ticket", params={key: bad})
                assert refused.status_code == 400, (key, bad, refused.text)
        for sort in (name, f"-{name}"):
            response = await admin.get("/api/r/ticket", params={"sort": sort, "limit": "1"})
            if f["type"] in ("json", "binary", "array") or name == "search":
                problem(response, 400)
                continue
            page = ok(response)
            # The keyset cursor of every sortable type leads to the next page.
            if page["next_cursor"]:
                params = {"sort": sort, "limit": "1", "cursor": page["next_cursor"]}
                following = await admin.get("/api/r/ticket", params=params)
                assert following.status_code == 200, (sort, following.text)


async def test_filters_select_the_right_rows(admin: httpx.AsyncClient) -> None:
    first = await _create(admin, TICKET)
    await _create(admin, {**CHANGED, "title": "Second"})

    async def ids(**params: str) -> set[int]:
        page = ok(await admin.get("/api/r/ticket", params=params))
        return {
            item["ticket_id"] for item in page["items"] if item["ticket_id"] == first["ticket_id"]
        }

    mine = {first["ticket_id"]}
    assert await ids(**{"filter[tags][has]": "floor 3"}) == mine
    assert await ids(**{"filter[scores][overlaps]": "9,2"}) == mine
    assert await ids(**{"filter[status][icontains]": "PROG"}) == mine
    assert await ids(**{"filter[status]": "in progress"}) == mine
    assert await ids(**{"filter[release_year][lt]": "2000"}) == mine
    assert await ids(**{"filter[price]": "1234.5"}) == mine
    assert await ids(**{"filter[spent][gt]": "PT1H"}) == mine
    assert await ids(**{"filter[client_ip]": "192.168.1.10"}) == mine
    assert await ids(**{"filter[email]": "ANN@example.COM"}) == mine  # citext
    assert await ids(q="jam on floor") == mine  # no search fields declared: text columns
    # An enum's labels are its choices: the chart counts by them.
    counts = ok(await admin.get("/api/stats/ticket", params={"by": "status"}))["counts"]
    assert [c["value"] for c in counts] == ["new", "in progress", "done"]
    assert all(c["count"] >= 1 for c in counts[1:])


async def test_bad_values_of_every_type_are_422_naming_the_field(
    admin: httpx.AsyncClient,
) -> None:
    bad = {
        "code": "lower case",
        "status": "closed",
        "release_year": "1999",
        "tags": "not a list",
        "scores": [1, "two"],
        "attachment": "not base64!",
        "price": "12,50",
        "weight": "1.5",
        "small": 40000,
        "due_on": "2026-02-30",
        "due_at": "noon",
        "logged_at": "2026-03-01T10:00:00+01:00",
        "happened_at": "2026-03-01T10:00:00",
        "spent": "3 days",
        "ref": "nope",
        "client_ip": "10.0.0.256",
        "network": "10.0.0.1/8",
        "done": "yes",
        "title_length": 3,
        "search": "x",
    }
    errors = field_errors(await admin.post("/api/r/ticket", json={"title": "x", **bad}))
    assert set(errors) == set(bad) - {"code"}  # the domain's CHECK is the database's
    # The database enforces what cannot be mirrored: CHECK of a domain, the
    # range of numeric(12,2), a domain's year range.
    for body in ({"code": "lower case"}, {"release_year": 1800}, {"price": "12345678901.5"}):
        response = await admin.post("/api/r/ticket", json={"title": "x", **body})
        assert response.status_code == 422, (body, response.text)


async def test_quoted_mixed_case_names(admin: httpx.AsyncClient) -> None:
    created = ok(
        await admin.post("/api/r/MixedCase", json={"Column Name": "Widget", "Amount": "1.250"}),
        201,
    )
    assert created["Amount"] == "1.250"
    pk = created["Id"]
    same = ok(await patch_record(admin, "MixedCase", pk, created, if_match=1))
    assert same["_version"] == 1
    page = ok(await admin.get("/api/r/MixedCase", params={"filter[Column Name][contains]": "idg"}))
    assert [i["Id"] for i in page["items"]] == [pk]


async def test_websocket_frames_carry_the_same_json_forms(
    adopted_served: Served, adopted_url: str
) -> None:
    token = await _token(adopted_url, "admin")
    headers = {"Authorization": f"Bearer {token}"}
    async with (
        httpx.AsyncClient(base_url=adopted_served.http, headers=headers) as client,
        connect(adopted_served.ws, additional_headers=headers) as ws,
    ):
        await ws.send(json.dumps({"type": "subscribe", "topic": "r/ticket"}))
        created = await _create(client, TICKET)
        ok(await patch_record(client, "ticket", created["ticket_id"], CHANGED, if_match=1))
        changes: list[dict[str, Any]] = []
        while len(changes) < 2:
            frame = json.loads(await asyncio.wait_for(ws.recv(), 10))
            if frame["type"] == "change" and frame["change"]["pk"] == str(created["ticket_id"]):
                changes.append(frame["change"])
    insert, update = changes
    for name, value in TICKET.items():
        assert insert["diff"][name]["new"] == value, name
    for name, value in CHANGED.items():
        assert update["diff"][name] == {"old": TICKET[name], "new": value}, name


@pytest.mark.parametrize("duration", ["P1Y2M", "P2W", "PT0S", "-P1DT1H", "P1.5D"])
async def test_durations_round_trip(admin: httpx.AsyncClient, duration: str) -> None:
    created = await _create(admin, {"title": "d", "spent": duration})
    echoed = ok(await patch_record(admin, "ticket", created["ticket_id"], created, if_match=1))
    assert echoed["_version"] == 1
    assert echoed["spent"] == created["spent"]


JUNK: list[Any] = [
    {},
    [],
    [[1]],
    [{"a": 1}],
    1.5,
    -1,
    2**70,
    "",
    "x" * 5000,
    True,
    "\x00",
    "9" * 1200,
]


async def test_junk_in_any_field_is_a_4xx_never_a_500(admin: httpx.AsyncClient) -> None:
    created = await _create(admin, TICKET)
    pk = created["ticket_id"]
    for name in [*TICKET, "title_length", "search"]:
        for junk in JUNK:
            made = await admin.post("/api/r/ticket", json={"title": "junk", name: junk})
            assert made.status_code in (201, 400, 422), (name, junk, made.text[:300])
            patched = await patch_record(admin, "ticket", pk, {name: junk}, base=1)
            assert patched.status_code in (200, 400, 409, 422), (name, junk, patched.text[:300])


async def test_nan_and_infinities_travel_as_strings_and_write_back(
    admin: httpx.AsyncClient,
) -> None:
    body = {"title": "odd", "weight": "NaN", "precise": "-Infinity", "ratio": "Infinity"}
    created = await _create(admin, body)
    assert {k: created[k] for k in body} == body
    echoed = ok(await patch_record(admin, "ticket", created["ticket_id"], created, if_match=1))
    assert echoed["_version"] == 1
    assert field_errors(await admin.post("/api/r/ticket", json={"price": "Infinity"})) == {
        "price": "Must be finite (the column is numeric(12, 2))."
    }


async def test_a_partitioned_table_is_served_like_a_table(admin: httpx.AsyncClient) -> None:
    fields = {f["name"]: f["type"] for f in (await _meta(admin, "reading"))["fields"]}
    assert fields == {"id": "integer", "taken_on": "date", "value": "float"}
    created = ok(
        await admin.post("/api/r/reading", json={"id": 7, "taken_on": "2026-05-01", "value": 0.5}),
        201,
    )
    assert created["_version"] == 1
    page = ok(
        await admin.get(
            "/api/r/reading", params={"filter[taken_on][gte]": "2026-05-01", "sort": "-value"}
        )
    )
    assert [(i["id"], i["value"]) for i in page["items"]] == [(7, 0.5)]
    outside = await admin.post("/api/r/reading", json={"id": 8, "taken_on": "2030-01-01"})
    assert outside.status_code == 422, outside.text  # no partition holds it


ALL_OPERATORS = ("eq", "ne", "lt", "lte", "gt", "gte", "in", "contains", "icontains", "isnull",
                 "has", "overlaps")  # fmt: skip


async def _every_filter_and_sort_is_a_200_or_a_400(
    client: httpx.AsyncClient,
    resource: str,
    operands: dict[str, str],
    rows: dict[str, str] | None = None,
) -> None:
    """Each operator a field offers answers 200 (a bad operand 400); the others 400; no 500.

    Every sort is paged through its keyset cursor over ``rows`` (a filter:
    the test's own rows, whatever other tests stored; see
    test_a_cursor_over_a_long_text_is_accepted_back).
    """
    path = f"/api/r/{resource}"
    for f in (await _meta(client, resource))["fields"]:
        name = f["name"]
        for op in ALL_OPERATORS:
            key = f"filter[{name}][{op}]"
            if op not in f["operators"]:
                problem(await client.get(path, params={key: "x"}), 400)
                continue
            operand = "true" if op == "isnull" else operands.get(name, "x")
            if op in ("in", "overlaps"):
                operand = f"{operand},{operand}"
            response = await client.get(path, params={key: operand})
            assert response.status_code == 200, (resource, key, operand, response.text)
            bad = "maybe" if op == "isnull" else BAD_OPERAND.get(name)
            if bad is not None and op not in ("contains", "icontains"):
                refused = await client.get(path, params={key: bad})
                assert refused.status_code == 400, (resource, key, bad, refused.text)
        for sort in (name, f"-{name}"):
            first = {**(rows or {}), "sort": sort, "limit": "1"}
            page = ok(await client.get(path, params=first))
            assert page["next_cursor"], (resource, sort)  # the test's rows span two pages
            following = await client.get(path, params={**first, "cursor": page["next_cursor"]})
            assert following.status_code == 200, (resource, sort, following.text)


async def test_a_view_is_listed_filtered_and_sorted_read_only(admin: httpx.AsyncClient) -> None:
    meta = await _meta(admin, "open_ticket")
    fields = {f["name"]: f for f in meta["fields"]}
    assert list(fields) == ["ticket_id", "title", "status", "price"]
    assert {n: f["type"] for n, f in fields.items()} == {
        n: EXPECTED_TYPES[n] for n in fields
    }  # the types of the table it reads
    assert fields["status"]["choices"] == ["new", "in progress", "done"]
    assert all(f["read_only"] for f in fields.values())
    assert meta["read_only_reason"] == "A view: served read-only."
    assert not {"add", "change", "delete", "restore", "purge"} & set(meta["actions"])
    # A view over one table is keyed by that table's key (reflection infers it).
    assert meta["pk"] == "ticket_id"

    first = await _create(admin, {**TICKET, "title": "View row A", "price": "5.00"})
    second = await _create(admin, {**TICKET, "title": "View row B", "status": "new"})
    closed = await _create(admin, {**TICKET, "title": "View row C", "status": "done"})
    mine = {"filter[title][contains]": "View row"}

    async def titles(**params: str) -> list[str]:
        items = await list_all(admin, "/api/r/open_ticket", **mine, **params)
        return [i["title"] for i in items]

    # The view's own WHERE: the done ticket is not in it.
    assert sorted(await titles()) == ["View row A", "View row B"]
    assert await titles(**{"filter[status]": "new"}) == ["View row B"]
    assert await titles(**{"filter[price][lt]": "100"}) == ["View row A"]
    assert await titles(sort="-price") == ["View row B", "View row A"]
    assert await titles(sort="title") == ["View row A", "View row B"]
    assert await titles(q="View row B") == ["View row B"]
    [row] = await list_all(
        admin, "/api/r/open_ticket", **{"filter[ticket_id]": str(first["ticket_id"])}
    )
    assert {n: row[n] for n in fields} == {n: first[n] for n in fields}
    fetched = ok(await admin.get(f"/api/r/open_ticket/{second['ticket_id']}"))
    assert fetched["title"] == "View row B"
    problem(await admin.get(f"/api/r/open_ticket/{closed['ticket_id']}"), 404)
    await _every_filter_and_sort_is_a_200_or_a_400(admin, "open_ticket", OPERAND, mine)

    # Read-only: every write is refused with a problem, nothing reaches the table.
    pk = first["ticket_id"]
    problem(await admin.post("/api/r/open_ticket", json={"title": "via view"}), 403)
    for response in (
        await patch_record(admin, "open_ticket", pk, {"title": "via view"}, if_match=1),
        await admin.delete(f"/api/r/open_ticket/{pk}", headers={"If-Match": '"1"'}),
    ):
        assert response.status_code in (403, 405), response.text
        assert response.headers["content-type"].startswith("application/problem+json")
    assert ok(await admin.get(f"/api/r/ticket/{pk}"))["title"] == "View row A"


async def test_a_table_of_a_second_schema_round_trips(
    admin: httpx.AsyncClient, adopted_url: str
) -> None:
    resource = "archive.old_ticket"
    path = f"/api/r/{resource}"
    meta = await _meta(admin, resource)
    assert meta["pk"] == "id"
    assert meta["read_only_reason"] is None  # tracked by `db track --all --schema archive`
    assert {f["name"]: (f["type"], f["required"]) for f in meta["fields"]} == {
        "id": ("integer", True),
        "title": ("text", True),
    }
    created = ok(await admin.post(path, json={"id": 101, "title": "Filed away"}), 201)
    assert (created["id"], created["title"], created["_version"]) == (101, "Filed away", 1)
    assert ok(await admin.get(f"{path}/101")) == created
    problem(await admin.post(path, json={"id": 101, "title": "Twice"}), 409)
    assert field_errors(await admin.post(path, json={"id": 102})) == {
        "title": "This field is required."
    }

    echoed = ok(await patch_record(admin, resource, 101, created, if_match=1))
    assert echoed["_version"] == 1
    changed = ok(await patch_record(admin, resource, 101, {"title": "Refiled"}, if_match=1))
    assert changed["_version"] == 2
    conflict = problem(await patch_record(admin, resource, 101, {"title": "Mine"}, base=1), 409)
    assert conflict["conflicts"] == [
        {"field": "title", "base": "Filed away", "theirs": "Refiled", "yours": "Mine"}
    ]
    problem(await patch_record(admin, resource, 101, {"title": "Stale"}, if_match=1), 412)

    ok(await admin.post(path, json={"id": 103, "title": "Another"}), 201)
    page = ok(await admin.get(path, params={"filter[title][icontains]": "REFILED"}))
    assert [i["id"] for i in page["items"]] == [101]
    assert [i["id"] for i in await list_all(admin, path, sort="-id")] == [103, 101]
    await _every_filter_and_sort_is_a_200_or_a_400(admin, resource, {"id": "101", "title": "R"}, {})

    [update, insert] = await history(admin, resource, 101)
    assert (update["op"], insert["op"]) == ("update", "insert")
    assert update["diff"]["title"] == {"old": "Filed away", "new": "Refiled"}
    reverted = ok(await admin.post(f"{path}/101/revert", json={"change_id": update["id"]}))
    assert reverted["title"] == "Filed away"
    deleted = ok(
        await admin.delete(f"{path}/101", headers={"If-Match": f'"{reverted["_version"]}"'})
    )
    assert deleted["_deleted_at"] is not None
    assert [i["id"] for i in await list_all(admin, path)] == [103]
    restored = ok(
        await admin.post(f"{path}/101/restore", headers={"If-Match": f'"{deleted["_version"]}"'})
    )
    assert (restored["_deleted_at"], restored["title"]) == (None, "Filed away")

    # What psql sees: the row in its own schema, and the change log naming it.
    with connect_db(adopted_url) as conn:
        row = conn.execute("SELECT title FROM archive.old_ticket WHERE id = 101").fetchone()
        ops = conn.execute(
            "SELECT op FROM collabadmin.collabadmin_change WHERE resource = %s AND pk = '101'"
            " ORDER BY id",
            (resource,),
        ).fetchall()
    assert row == ("Filed away",)
    assert [o[0] for o in ops] == ["insert", "update", "update", "delete", "restore"]


def test_the_cli_adopts_every_relation_of_the_fixture(adopted_url: str) -> None:
    """What the matrix serves is what `db track --all` and `serve` found, not a chosen list."""
    adoption = adopt(Settings(database_url=adopted_url), FIXTURE_SCHEMAS)
    served = {r.name: r for r in adoption.resources}
    assert set(served) == {"ticket", "MixedCase", "reading", "open_ticket", "archive.old_ticket"}
    assert dict(adoption.skipped) == {"reading_low": "a partition of reading: served as reading"}
    tables = ("ticket", "MixedCase", "reading", "archive.old_ticket")
    assert all(not served[t].read_only and served[t].untracked == "" for t in tables)
    assert served["open_ticket"].read_only


async def test_a_cursor_over_a_long_text_is_accepted_back(admin: httpx.AsyncClient) -> None:
    marker = "long-title-cursor"
    for _ in range(2):
        await _create(admin, {"title": f"{marker} {'x' * 5000}"})
    first = {"filter[title][contains]": marker, "sort": "-title", "limit": "1"}
    page = ok(await admin.get("/api/r/ticket", params=first))
    assert len(page["next_cursor"]) < 200  # it names the row, not its 5,000-character title
    following = ok(
        await admin.get("/api/r/ticket", params={**first, "cursor": page["next_cursor"]})
    )
    assert len(following["items"]) == 1
    assert following["items"][0]["ticket_id"] != page["items"][0]["ticket_id"]
    assert following["items"][0]["title"] <= page["items"][0]["title"]  # descending
    # A forged by-row cursor naming a row that does not exist is refused, not a 500.
    token = page["next_cursor"]
    sort, values, skip, _ = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    assert (values, skip) == ([], 0)
    forged = base64.urlsafe_b64encode(json.dumps([sort, [], 0, "999999999"]).encode())
    forged = forged.decode().rstrip("=")
    problem(await admin.get("/api/r/ticket", params={**first, "cursor": forged}), 400)
