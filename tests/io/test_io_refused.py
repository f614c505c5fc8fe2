"""What exports and imports refuse or keep to themselves: roles, hidden rows, odd files, races."""

from __future__ import annotations

import asyncio
import csv
import io
import zipfile

import httpx
import psycopg
import pytest

from tests.bulk.conftest import log_size
from tests.conftest import ClientFor, taught_courses
from tests.helpers import ok, problem
from tests.io.test_import import CSV, csv_bytes

XLSX = {"Content-Type": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


async def post_import(
    client: httpx.AsyncClient,
    body: bytes,
    headers: dict[str, str] | None = None,
    **params: str,
) -> httpx.Response:
    return await client.post(
        "/api/r/courses/import", params=params, content=body, headers=headers or CSV
    )


def course_count(conninfo: str) -> int:
    with psycopg.connect(conninfo) as conn:
        row = conn.execute("SELECT count(*) FROM courses").fetchone()
    assert row is not None
    return int(row[0])


@pytest.mark.parametrize("role", ["viewer", "auditor", "reviewer"])
async def test_a_role_that_may_not_add_or_change_may_not_import(
    client_for: ClientFor, conninfo: str, role: str
) -> None:
    client = await client_for(role)
    before = log_size(conninfo)
    body = csv_bytes([["id", "title"], [1, "Mine now"]])
    problem(await post_import(client, body), 403)
    problem(await post_import(client, body, dry_run="false"), 403)
    assert log_size(conninfo) == before


async def test_an_instructor_cannot_tell_a_hidden_course_from_a_missing_one(
    client_for: ClientFor, conninfo: str
) -> None:
    instructor = await client_for("instructor")
    taught = taught_courses(conninfo)
    hidden = next(i for i in range(1, 61) if i not in taught)
    answers = []
    for pk in (hidden, 999_999):
        body = csv_bytes([["id", "description"], [pk, "by import"]])
        rows = ok(await post_import(instructor, body))["rows"]
        answers.append([(r["op"], r.get("pk"), r["errors"]) for r in rows])
    assert answers[0] == answers[1]
    assert answers[0][0][0] == "insert"
    # A hidden column is refused exactly as a column that does not exist.
    notes = problem(await post_import(instructor, csv_bytes([["id", "internal_notes"]])), 400)
    other = problem(await post_import(instructor, csv_bytes([["id", "no_such"]])), 400)
    assert notes["detail"].replace("internal_notes", "X") == other["detail"].replace("no_such", "X")
    problem(await post_import(instructor, csv_bytes([["id"]]), key="internal_notes"), 400)


async def test_a_key_that_is_not_unique_or_hidden_is_a_400(client_for: ClientFor) -> None:
    editor, instructor = await client_for("editor"), await client_for("instructor")
    body = csv_bytes([["id", "title"], [1, "x"]])
    assert problem(await post_import(editor, body, key="title"), 400)["parameter"] == "key"
    assert problem(await post_import(editor, body, key="nope"), 400)["parameter"] == "key"
    assert (
        problem(await post_import(instructor, body, key="internal_notes"), 400)["parameter"]
        == "key"
    )


@pytest.mark.parametrize(
    ("body", "headers", "status"),
    [
        (b"", CSV, 400),
        (b"\xef\xbb\xbf", CSV, 400),
        (b"id,title\r\n1,a\x00b\r\n", CSV, 400),
        (b"id,ti\x00tle\r\n1,a\r\n", CSV, 400),
        (b"id,title\r\n\xff\xfe\r\n", CSV, 415),
        (b'id,title\r\n1,"open\r\n', CSV, 400),
        (b"id,title\r\n1,a\r\n", {"Content-Type": "application/json"}, 415),
        (b"id,title\r\n1,a\r\n", {}, 415),
        (b"not a workbook", XLSX, 400),
        (b"PK\x03\x04broken", XLSX, 400),
        (b",".join(b"c%d" % i for i in range(100_000)) + b"\r\n", CSV, 400),
        (b"id,title\r\n1," + b"x" * 10_000_000 + b"\r\n", CSV, 400),
    ],
)
async def test_a_file_that_cannot_be_read_is_a_4xx_and_writes_nothing(
    client_for: ClientFor, conninfo: str, body: bytes, headers: dict[str, str], status: int
) -> None:
    editor = await client_for("editor")
    before = log_size(conninfo)
    for params in ({}, {"dry_run": "false"}):
        answer = problem(
            await editor.post(
                "/api/r/courses/import", params=params, content=body, headers=headers
            ),
            status,
        )
        assert "x" * 100 not in answer["detail"]
    assert log_size(conninfo) == before


async def test_bom_crlf_cr_and_odd_unicode_are_read_as_text(client_for: ClientFor) -> None:
    editor = await client_for("editor")
    title = "Zürich \u202e\u200d👩‍🔬 café\u0301"
    for newline in ("\r\n", "\n", "\r"):
        body = ("\ufeffid,title" + newline + f"1,{title}" + newline).encode()
        rows = ok(await post_import(editor, body))["rows"]
        assert [(r["op"], r["errors"]) for r in rows] == [("update", [])], newline


async def test_a_bad_value_is_not_echoed_past_its_field(client_for: ClientFor) -> None:
    editor = await client_for("editor")
    body = csv_bytes([["id", "start_date", "category_id"], [1, "x" * 5000, "=HYPERLINK(1)"]])
    rows = ok(await post_import(editor, body))["rows"]
    errors = rows[0]["errors"]
    assert errors
    assert {e["field"] for e in errors} <= {"start_date", "category_id"}
    assert all(len(e["message"]) < 300 for e in errors)


def _bomb() -> bytes:
    """A real workbook of a few hundred KB whose shared strings inflate to 300 MB."""
    from openpyxl import Workbook  # noqa: PLC0415

    workbook = Workbook()
    workbook.active.append(["id", "title"])  # type: ignore[union-attr]
    plain = io.BytesIO()
    workbook.save(plain)
    shared = (
        b'<?xml version="1.0" encoding="UTF-8"?>'
        b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
        b' count="1" uniqueCount="1"><si><t>' + b"A" * 300_000_000 + b"</t></si></sst>"
    )
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(plain.getvalue())) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as bomb,
    ):
        for info in source.infolist():
            if info.filename != "xl/sharedStrings.xml":
                bomb.writestr(info.filename, source.read(info))
        bomb.writestr("xl/sharedStrings.xml", shared)
    return out.getvalue()


async def test_a_zip_bomb_workbook_is_refused_before_it_is_inflated(
    client_for: ClientFor, conninfo: str
) -> None:
    editor = await client_for("editor")
    before = log_size(conninfo)
    body = await asyncio.to_thread(_bomb)
    assert len(body) < 2_000_000
    answer = problem(await post_import(editor, body, XLSX), 413)
    assert "XLSX" in answer["detail"] or "workbook" in answer["detail"]
    assert log_size(conninfo) == before


async def test_two_applies_of_one_preview_at_once_write_once(
    client_for: ClientFor, conninfo: str
) -> None:
    editor = await client_for("editor")
    body = csv_bytes([["title", "short_name"], ["Raced", "raced-1"], ["Raced 2", "raced-2"]])
    preview = ok(await post_import(editor, body))["preview"]
    before = course_count(conninfo)
    answers = await asyncio.gather(
        *(post_import(editor, body, dry_run="false", preview=str(preview)) for _ in range(2))
    )
    assert sorted(a.status_code for a in answers) == [200, 404], [a.text for a in answers]
    assert course_count(conninfo) == before + 2


async def test_a_preview_staged_as_drafts_serves_once(client_for: ClientFor) -> None:
    editor = await client_for("editor")
    body = csv_bytes([["id", "title"], [7, "Seven, staged"]])
    preview = ok(await post_import(editor, body))["preview"]
    params = {"dry_run": "false", "as": "drafts", "preview": str(preview)}
    ok(await post_import(editor, body, **params))
    problem(await post_import(editor, body, **params), 404)


async def test_someone_elses_preview_or_batch_is_not_found(
    client_for: ClientFor, conninfo: str
) -> None:
    editor, admin, instructor = (
        await client_for("editor"),
        await client_for("admin"),
        await client_for("instructor"),
    )
    body = csv_bytes([["id", "title"], [8, "Eight, staged"]])
    preview = ok(await post_import(editor, body))["preview"]
    missing = problem(await post_import(admin, body, dry_run="false", preview="999999999"), 404)
    other = problem(await post_import(admin, body, dry_run="false", preview=str(preview)), 404)
    assert other["title"] == missing["title"]
    staged = ok(await post_import(editor, body, dry_run="false", **{"as": "drafts"}))
    batch = staged["batch"]
    # An instructor may not see course 8's draft: the batch is as absent as one that never was.
    assert 8 not in taught_courses(conninfo)
    assert ok(await instructor.get("/api/drafts", params={"batch": str(batch)}))["items"] == []
    hidden = problem(await instructor.post(f"/api/drafts/batches/{batch}/publish"), 404)
    never = problem(await instructor.post("/api/drafts/batches/999999999/publish"), 404)
    assert hidden["detail"].replace(str(batch), "N") == never["detail"].replace("999999999", "N")
    for bad in ("99999999999999999999", "-1", "abc"):
        response = await admin.post(f"/api/drafts/batches/{bad}/publish")
        assert 400 <= response.status_code < 500, (bad, response.text)
    for bad in ("99999999999999999999", "-1", "x"):
        response = await post_import(editor, body, dry_run="false", preview=bad)
        assert 400 <= response.status_code < 500, (bad, response.text)
        response = await admin.get("/api/drafts", params={"batch": bad})
        assert response.status_code < 500, (bad, response.text)


async def test_a_batch_published_twice_at_once_is_published_once(
    client_for: ClientFor, conninfo: str
) -> None:
    editor, reviewer = await client_for("editor"), await client_for("reviewer")
    body = csv_bytes([["id", "title"], [9, "Nine, staged"], [10, "Ten, staged"]])
    batch = ok(await post_import(editor, body, dry_run="false", **{"as": "drafts"}))["batch"]
    before = log_size(conninfo)
    answers = await asyncio.gather(
        *(reviewer.post(f"/api/drafts/batches/{batch}/publish") for _ in range(2))
    )
    assert sorted(a.status_code for a in answers) == [200, 404], [a.text for a in answers]
    with psycopg.connect(conninfo) as conn:
        row = conn.execute(
            "SELECT count(*) FROM collabadmin.collabadmin_change"
            " WHERE resource = 'courses' AND source = 'draft' AND id > %s",
            (before,),
        ).fetchone()
    assert row is not None
    assert row[0] == 2


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
async def test_an_export_by_an_instructor_holds_its_courses_and_no_hidden_field(
    client_for: ClientFor, conninfo: str, fmt: str
) -> None:
    instructor = await client_for("instructor")
    with psycopg.connect(conninfo) as conn:
        conn.execute("UPDATE courses SET internal_notes = 'SECRET-NOTE'")
    response = await instructor.get(f"/api/r/courses.{fmt}")
    assert response.status_code == 200
    text = _export_text(response.content, fmt)
    assert "SECRET-NOTE" not in text
    rows = list(csv.reader(io.StringIO(text)))
    assert len(rows) - 1 == len(taught_courses(conninfo))
    for columns in ("internal_notes", "id,internal_notes", "id,nope"):
        assert (
            problem(
                await instructor.get(f"/api/r/courses.{fmt}", params={"columns": columns}), 400
            )["parameter"]
            == "columns"
        )
    for params in ({"filter[title][eq]": "a\x00"}, {"q": "\x00"}, {"filter[id][eq]": "9" * 30}):
        problem(await instructor.get(f"/api/r/courses.{fmt}", params=params), 400)


def _export_text(content: bytes, fmt: str) -> str:
    if fmt == "csv":
        return content.decode("utf-8-sig")
    from openpyxl import load_workbook  # noqa: PLC0415

    sheet = load_workbook(io.BytesIO(content), read_only=True).worksheets[0]
    out = io.StringIO()
    csv.writer(out).writerows(
        [["" if v is None else str(v) for v in row] for row in sheet.iter_rows(values_only=True)]
    )
    return out.getvalue()


_FORMULAS = ["=1+1", "+1", "-1", "@SUM(A1)", "\t=1", "\r=1", "'=1"]


async def test_formula_looking_text_is_neutralised_in_csv_and_text_in_xlsx(
    client_for: ClientFor, conninfo: str
) -> None:
    editor = await client_for("editor")
    with psycopg.connect(conninfo) as conn:
        for pk, title in enumerate(_FORMULAS, start=1):
            conn.execute("UPDATE courses SET title = %s WHERE id = %s", (title, pk))
    params = {"columns": "id,title", "sort": "id", "filter[id][lte]": str(len(_FORMULAS))}
    body = (await editor.get("/api/r/courses.csv", params=params)).content.decode("utf-8-sig")
    titles = [r[1] for r in csv.reader(io.StringIO(body, newline=""))][1:]
    assert titles == ["'" + t for t in _FORMULAS]
    from openpyxl import load_workbook  # noqa: PLC0415

    content = (await editor.get("/api/r/courses.xlsx", params=params)).content
    sheet = load_workbook(io.BytesIO(content)).worksheets[0]
    cells = [row[1] for row in sheet.iter_rows(min_row=2)]
    assert all(c.data_type == "s" for c in cells)
    # The export reads back unchanged.
    answer = ok(await post_import(editor, body.encode()))
    assert answer["summary"]["unchanged"] == len(_FORMULAS), answer["rows"]


async def test_a_hidden_field_steers_no_export_nor_bulk_run(
    client_for: ClientFor, conninfo: str
) -> None:
    instructor = await client_for("instructor")
    taught = taught_courses(conninfo)
    with psycopg.connect(conninfo) as conn:
        conn.execute("UPDATE courses SET internal_notes = 'ZZSECRET' WHERE id = %s", (taught[0],))
    # Search does not look into what the reader may not read.
    exported = (await instructor.get("/api/r/courses.csv", params={"q": "ZZSECRET"})).content
    assert len(list(csv.reader(io.StringIO(exported.decode("utf-8-sig"))))) == 1
    for params in ({"sort": "internal_notes"}, {"filter[internal_notes][eq]": "ZZSECRET"}):
        problem(await instructor.get("/api/r/courses.csv", params=params), 400)
    before = log_size(conninfo)
    accepted = await instructor.post(
        "/api/r/courses/bulk",
        json={"op": "update", "filter": {}, "q": "ZZSECRET", "patch": {"description": "x"}},
    )
    from tests.bulk.test_bulk_refused import _finished  # noqa: PLC0415

    job = await _finished(instructor, ok(accepted, 202)["job"])
    assert (job["total"], job["result"]["done"]) == (0, [])
    assert log_size(conninfo) == before


async def test_a_formula_in_a_workbook_is_refused_on_its_line(
    client_for: ClientFor, conninfo: str
) -> None:
    from openpyxl import Workbook  # noqa: PLC0415
    from openpyxl.worksheet.formula import ArrayFormula  # noqa: PLC0415

    editor = await client_for("editor")
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["id", "description", "category_id"])
    # Saved without their results, as a generated workbook is: read as values they are empty.
    sheet.append([1, '=CONCAT("a","b")', 1])
    sheet.append([2, "kept", "=1+1"])
    sheet.append([3, "kept", 1])
    sheet["C4"] = ArrayFormula("C4", "=SUM(A1:A2)")
    sheet.append([4, "ends empty", None])  # no cell at all for category_id
    out = io.BytesIO()
    workbook.save(out)
    before = log_size(conninfo)
    answer = problem(await post_import(editor, out.getvalue(), XLSX, dry_run="false"), 422)
    assert [sorted(e["field"] for e in r["errors"]) for r in answer["rows"]] == [
        ["description"],
        ["category_id"],
        ["category_id"],
        [],
    ]
    assert answer["rows"][3]["op"] == "update"
    assert log_size(conninfo) == before


@pytest.mark.parametrize(
    "params",
    [
        {"key": "\x00"},
        {"key": "ti\x00tle"},
        {"dry_run": "maybe"},
        {"as": "records,drafts"},
        {"as": "everything"},
        {"preview": "1e3"},
        {"unknown": "1"},
    ],
)
async def test_an_odd_query_is_a_400_and_writes_nothing(
    client_for: ClientFor, conninfo: str, params: dict[str, str]
) -> None:
    editor = await client_for("editor")
    before = log_size(conninfo)
    body = csv_bytes([["id", "title"], [1, "Renamed"]])
    problem(await post_import(editor, body, **{"dry_run": "false", **params}), 400)
    assert log_size(conninfo) == before
