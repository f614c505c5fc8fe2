"""Export and import over the adoption fixture: every column type, odd names, composite keys."""

from __future__ import annotations

import csv
import io
from typing import Any

import httpx

from tests.adopt.conftest import admin, adopted_app, adopted_url
from tests.adopt.keyed_server import KeyedServer, keyed
from tests.adopt.test_type_matrix import CHANGED, TICKET
from tests.helpers import ok

__all__ = ["admin", "adopted_app", "adopted_url", "keyed"]  # fixtures used by name below

CSV = {"Content-Type": "text/csv"}
XLSX = {"Content-Type": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def rows_of(body: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"), newline="")))


async def _import(client: httpx.AsyncClient, resource: str, body: bytes, **params: str) -> Any:
    headers = XLSX if body.startswith(b"PK") else CSV
    return ok(
        await client.post(f"/api/r/{resource}/import", params=params, content=body, headers=headers)
    )


async def test_every_column_type_round_trips_unchanged(admin: httpx.AsyncClient) -> None:
    first = ok(await admin.post("/api/r/ticket", json=TICKET), 201)
    second = ok(await admin.post("/api/r/ticket", json=CHANGED), 201)
    # NULLs, formula-looking text and an empty array too.
    third = ok(
        await admin.post(
            "/api/r/ticket", json={"title": "=1+2", "status": "new", "tags": [], "code": None}
        ),
        201,
    )
    ids = ",".join(str(t["ticket_id"]) for t in (first, second, third))
    for suffix in ("csv", "xlsx"):
        response = await admin.get(f"/api/r/ticket.{suffix}", params={"filter[ticket_id][in]": ids})
        assert response.status_code == 200, response.text
        answer = await _import(admin, "ticket", response.content)
        assert answer["summary"]["unchanged"] == 3, answer
        assert answer["summary"]["invalid"] == 0, answer
        assert {r["pk"] for r in answer["rows"]} == set(ids.split(","))
    csv_rows = rows_of(
        (
            await admin.get(
                "/api/r/ticket.csv", params={"filter[ticket_id]": str(third["ticket_id"])}
            )
        ).content
    )
    header = csv_rows[0]
    assert csv_rows[1][header.index("Title")] == "'=1+2"


async def test_an_imported_change_of_every_type_is_written(admin: httpx.AsyncClient) -> None:
    ticket = ok(await admin.post("/api/r/ticket", json=TICKET), 201)
    pk = str(ticket["ticket_id"])
    exported = rows_of(
        (await admin.get("/api/r/ticket.csv", params={"filter[ticket_id]": pk})).content
    )
    other = ok(await admin.post("/api/r/ticket", json=CHANGED), 201)
    changed = rows_of(
        (
            await admin.get(
                "/api/r/ticket.csv", params={"filter[ticket_id]": str(other["ticket_id"])}
            )
        ).content
    )
    header = exported[0]
    # The first ticket takes every writable value of the second.
    line = [
        mine if label in ("Ticket id", "Title length", "Search") else theirs
        for label, mine, theirs in zip(header, exported[1], changed[1], strict=True)
    ]
    buffer = io.StringIO()
    csv.writer(buffer).writerows([header, line])
    body = buffer.getvalue().encode()
    preview = await _import(admin, "ticket", body)
    assert preview["rows"][0]["op"] == "update", preview
    applied = await _import(admin, "ticket", body, dry_run="false", preview=str(preview["preview"]))
    assert applied["applied"] is True
    after = ok(await admin.get(f"/api/r/ticket/{pk}"))
    for name, value in CHANGED.items():
        assert after[name] == ok(await admin.get(f"/api/r/ticket/{other['ticket_id']}"))[name], name
        del value


async def test_quoted_mixed_case_names(admin: httpx.AsyncClient) -> None:
    ok(await admin.post("/api/r/MixedCase", json={"Column Name": "x", "Amount": "1.500"}), 201)
    body = (await admin.get("/api/r/MixedCase.csv")).content
    assert rows_of(body)[0] == ["Id", "Column name", "Amount"] or "Column Name" in body.decode()
    answer = await _import(admin, "MixedCase", body)
    assert answer["summary"]["invalid"] == 0, answer
    assert answer["summary"]["update"] == 0


async def test_composite_keys_match_lines_by_every_key_column(keyed: KeyedServer) -> None:
    async with keyed.client() as client:
        body = (await client.get("/api/r/ck_link.csv", params={"sort": "left_id,right_id"})).content
        rows = rows_of(body)
        assert rows[0][:2] == ["Left id", "Right id"]
        unchanged = await _import(client, "ck_link", body)
        assert unchanged["summary"]["unchanged"] == len(rows) - 1
        first = rows[1]
        edited = [rows[0], [first[0], first[1], "edited by import"], ["7", "8", "new link"]]
        buffer = io.StringIO()
        csv.writer(buffer).writerows(edited)
        file = buffer.getvalue().encode()
        preview = await _import(client, "ck_link", file)
        assert [r["op"] for r in preview["rows"]] == ["update", "insert"]
        assert preview["rows"][0]["pk"] == f"{first[0]},{first[1]}"
        applied = await _import(
            client, "ck_link", file, dry_run="false", preview=str(preview["preview"])
        )
        assert [r["pk"] for r in applied["rows"]] == [f"{first[0]},{first[1]}", "7,8"]
        link = ok(await client.get(f"/api/r/ck_link/{first[0]},{first[1]}"))
        assert link["note"] == "edited by import"
        assert ok(await client.get("/api/r/ck_link/7,8"))["note"] == "new link"
        # A composite key needs every one of its columns.
        missing = await client.post(
            "/api/r/ck_link/import", content=b"left_id,note\r\n1,x\r\n", headers=CSV
        )
        assert missing.status_code == 400
        assert "right_id" in missing.json()["detail"]


async def test_a_record_created_since_the_preview_is_a_conflict(keyed: KeyedServer) -> None:
    async with keyed.client() as client, keyed.client("admin") as colleague:
        file = b"left_id,right_id,note\r\n30,31,from the file\r\n"
        preview = await _import(client, "ck_link", file)
        assert preview["rows"][0]["op"] == "insert"
        ok(
            await colleague.post(
                "/api/r/ck_link", json={"left_id": 30, "right_id": 31, "note": "made meanwhile"}
            ),
            201,
        )
        refused = await client.post(
            "/api/r/ck_link/import",
            params={"dry_run": "false", "preview": str(preview["preview"])},
            content=file,
            headers=CSV,
        )
        assert refused.status_code == 409, refused.text
        assert refused.json()["rows"][0]["conflicts"][0]["field"] == "left_id"
        assert ok(await client.get("/api/r/ck_link/30,31"))["note"] == "made meanwhile"
