"""Exports: the list as CSV or XLSX, streamed, with only what the reader may read."""

from __future__ import annotations

import csv
import io

import httpx
from openpyxl import load_workbook

from tests.conftest import ClientFor, taught_courses
from tests.helpers import list_all, ok, problem


def _rows(response_text: str) -> list[list[str]]:
    assert response_text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(response_text[1:])))


async def test_export_follows_filters_sort_and_columns(client_for: ClientFor) -> None:
    editor = await client_for("editor")
    params = {"filter[status]": "open", "sort": "-title", "columns": "title,id,status"}
    response = await editor.get("/api/r/courses.csv", params=params)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert 'filename="courses.csv"' in response.headers["content-disposition"]
    rows = _rows(response.text)
    assert rows[0] == ["Title", "Id", "Status"]
    listed = await list_all(
        editor, "/api/r/courses", **{"filter[status]": "open", "sort": "-title"}
    )
    assert rows[1:] == [[c["title"], str(c["id"]), "open"] for c in listed]
    assert len(rows) > 2


async def test_export_hides_what_the_role_may_not_read(
    client_for: ClientFor, conninfo: str
) -> None:
    editor, instructor = await client_for("editor"), await client_for("instructor")
    full = _rows((await editor.get("/api/r/courses.csv")).text)
    assert "Internal notes" in full[0]
    assert len(full) == 61
    mine = _rows((await instructor.get("/api/r/courses.csv", params={"sort": "id"})).text)
    assert "Internal notes" not in mine[0]
    assert [int(r[mine[0].index("Id")]) for r in mine[1:]] == taught_courses(conninfo)
    hidden = problem(
        await instructor.get("/api/r/courses.csv", params={"columns": "id,internal_notes"}), 400
    )
    unknown = problem(
        await instructor.get("/api/r/courses.csv", params={"columns": "id,no_such"}), 400
    )
    assert hidden["detail"].replace("internal_notes", "?") == unknown["detail"].replace(
        "no_such", "?"
    )
    assert hidden["parameter"] == "columns"


async def test_export_follows_search_and_deleted(client_for: ClientFor) -> None:
    editor = await client_for("editor")
    ok(await editor.delete("/api/r/courses/7", headers={"If-Match": '"1"'}))
    deleted = _rows(
        (await editor.get("/api/r/courses.csv", params={"deleted": "only", "columns": "id"})).text
    )
    assert deleted == [["Id"], ["7"]]
    word = ok(await editor.get("/api/r/courses/8"))["title"].split()[0]
    found = _rows(
        (await editor.get("/api/r/courses.csv", params={"q": word, "columns": "id"})).text
    )
    listed = await list_all(editor, "/api/r/courses", q=word)
    assert [int(r[0]) for r in found[1:]] == [c["id"] for c in listed]
    assert problem(await editor.get("/api/r/courses.csv", params={"sort": "nope"}), 400)
    assert problem(await editor.get("/api/r/courses", params={"columns": "id"}), 400)


async def test_xlsx_export_is_the_same_table(client_for: ClientFor) -> None:
    editor = await client_for("editor")
    params = {"sort": "id", "columns": "id,title,start_date,status"}
    response = await editor.get("/api/r/courses.xlsx", params=params)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert 'filename="courses.xlsx"' in response.headers["content-disposition"]
    sheet = load_workbook(io.BytesIO(response.content), read_only=True).worksheets[0]
    table = [[("" if v is None else v) for v in row] for row in sheet.iter_rows(values_only=True)]
    as_csv = _rows((await editor.get("/api/r/courses.csv", params=params)).text)
    assert table == as_csv


async def test_signed_out_and_unknown_resources(
    client_for: ClientFor, anon: httpx.AsyncClient
) -> None:
    problem(await anon.get("/api/r/courses.csv"), 401)
    editor = await client_for("editor")
    problem(await editor.get("/api/r/nothing.csv"), 404)
    problem(await editor.get("/api/r/courses.pdf"), 404)
