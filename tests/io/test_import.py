"""Imports: preview, apply all or nothing, conflicts since the preview, bad files."""

from __future__ import annotations

import csv
import io
from typing import Any

import httpx
import psycopg

from collabadmin.demo.app import create_demo_app
from collabadmin.settings import Settings
from tests.conftest import ClientFor, anonymous_client, taught_courses
from tests.helpers import ok, problem, running

CSV = {"Content-Type": "text/csv"}


def csv_bytes(rows: list[list[Any]]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue().encode()


async def export(client: Any, resource: str, **params: str) -> bytes:
    response = await client.get(f"/api/r/{resource}.csv", params=params)
    assert response.status_code == 200, response.text
    return response.content


async def test_export_then_import_is_all_unchanged(client_for: ClientFor) -> None:
    editor = await client_for("editor")
    body = await export(editor, "courses")
    answer = ok(await editor.post("/api/r/courses/import", content=body, headers=CSV))
    assert answer["summary"] == {
        "insert": 0, "update": 0, "unchanged": 60, "invalid": 0, "conflicts": 0
    }  # fmt: skip
    assert all(r["op"] == "unchanged" and not r["errors"] for r in answer["rows"])
    assert answer["rows"][0]["line"] == 2
    assert isinstance(answer["preview"], int)


async def test_a_bad_line_refuses_the_whole_apply_then_the_fixed_file_applies(
    client_for: ClientFor, conninfo: str
) -> None:
    editor = await client_for("editor")
    before = ok(await editor.get("/api/r/courses/1"))
    bad = csv_bytes(
        [["id", "title", "status"], [1, "Renamed by import", "open"], ["", "New", "draft"]]
    )
    preview = ok(await editor.post("/api/r/courses/import", content=bad, headers=CSV))
    assert [(r["line"], r["op"], r["errors"]) for r in preview["rows"]] == [
        (2, "update", []),
        (3, "insert", [{"field": "short_name", "message": "This field is required."}]),
    ]
    assert preview["summary"]["invalid"] == 1
    refused = problem(
        await editor.post(
            "/api/r/courses/import", params={"dry_run": "false"}, content=bad, headers=CSV
        ),
        422,
    )
    assert refused["rows"][1]["errors"][0]["field"] == "short_name"
    assert ok(await editor.get("/api/r/courses/1")) == before

    rows = [
        ["id", "title", "short_name", "status"],
        [1, "Renamed by import", before["short_name"], "open"],
        ["", "A new course", "new-1", "draft"],
    ]
    body = csv_bytes(rows)
    preview = ok(await editor.post("/api/r/courses/import", content=body, headers=CSV))
    assert [(r["line"], r["op"]) for r in preview["rows"]] == [(2, "update"), (3, "insert")]
    assert preview["rows"][0]["pk"] == "1"
    applied = ok(
        await editor.post(
            "/api/r/courses/import",
            params={"dry_run": "false", "preview": str(preview["preview"])},
            content=body,
            headers=CSV,
        )
    )
    assert applied["applied"] is True
    assert applied["summary"]["update"] == 1
    assert applied["summary"]["insert"] == 1
    new_pk = applied["rows"][1]["pk"]
    course = ok(await editor.get("/api/r/courses/1"))
    assert course["title"] == "Renamed by import"
    assert ok(await editor.get(f"/api/r/courses/{new_pk}"))["short_name"] == "new-1"
    with psycopg.connect(conninfo) as conn:
        logged = conn.execute(
            "SELECT pk, op, source FROM collabadmin.collabadmin_change"
            " WHERE resource = 'courses' AND source = 'import' ORDER BY id"
        ).fetchall()
    assert logged == [("1", "update", "import"), (new_pk, "insert", "import")]


async def test_roles_that_write_nothing_may_not_import(client_for: ClientFor) -> None:
    body = csv_bytes([["id", "title"], [1, "x"]])
    for role in ("viewer", "auditor", "reviewer"):
        client = await client_for(role)
        refused = problem(
            await client.post("/api/r/courses/import", content=body, headers=CSV), 403
        )
        assert "import" in refused["detail"]


async def test_an_instructor_imports_within_its_courses_only(
    client_for: ClientFor, conninfo: str
) -> None:
    taught = taught_courses(conninfo)
    with psycopg.connect(conninfo) as conn:
        other = conn.execute(
            "SELECT min(id) FROM courses WHERE id <> ALL(%s)", (taught,)
        ).fetchone()
    assert other is not None
    instructor = await client_for("instructor")
    body = csv_bytes(
        [
            ["id", "description"],
            [taught[0], "Taught, described by import"],
            [other[0], "Not taught"],
            [999_999, "No such course"],
        ]
    )
    answer = ok(await instructor.post("/api/r/courses/import", content=body, headers=CSV))
    taught_line, other_line, missing_line = answer["rows"]
    assert taught_line["op"] == "update"
    assert taught_line["errors"] == []
    # A course it may not see answers exactly as one that does not exist.
    assert (
        other_line["errors"]
        == missing_line["errors"]
        == [{"field": "", "message": "You may not add courses."}]
    )
    assert other_line["op"] == missing_line["op"] == "insert"
    assert other_line["pk"] is None
    # A field it may not write, and one it may not read.
    title = csv_bytes([["id", "title"], [taught[0], "New title"]])
    answer = ok(await instructor.post("/api/r/courses/import", content=title, headers=CSV))
    assert answer["rows"][0]["errors"] == [
        {"field": "title", "message": "This field is read-only."}
    ]
    hidden = csv_bytes([["id", "internal_notes"], [taught[0], "x"]])
    refused = problem(
        await instructor.post("/api/r/courses/import", content=hidden, headers=CSV), 400
    )
    unknown = csv_bytes([["id", "no_such_field"], [taught[0], "x"]])
    refused_unknown = problem(
        await instructor.post("/api/r/courses/import", content=unknown, headers=CSV), 400
    )
    assert refused["detail"].replace("internal_notes", "?") == refused_unknown["detail"].replace(
        "no_such_field", "?"
    )


async def test_bad_files_are_refused_with_their_line(client_for: ClientFor) -> None:
    editor = await client_for("editor")

    async def post(body: bytes, headers: dict[str, str] = CSV, **params: str) -> httpx.Response:
        return await editor.post(
            "/api/r/courses/import", content=body, headers=headers, params=params
        )

    quote = problem(await post(b'id,title\r\n1,"open quote\r\n2,x\r\n'), 400)
    assert quote["line"] >= 2
    assert "malformed" in quote["detail"]
    latin = problem(await post("id,title\r\n1,Caf\u00e9\r\n".encode("latin-1")), 415)
    assert latin["line"] == 2
    assert "UTF-8" in latin["detail"]
    nul = problem(await post(b"id,title\r\n1,a\x00b\r\n"), 400)
    assert nul["line"] == 2
    assert "NUL" in nul["detail"]
    assert "empty" in problem(await post(b""), 400)["detail"]
    unknown = problem(await post(b"id,colour\r\n1,red\r\n"), 400)
    assert unknown["errors"] == [{"field": "colour", "message": "Unknown column."}]
    assert "twice" in problem(await post(b"id,title,Title\r\n1,a,b\r\n"), 400)["detail"]
    assert "key" in problem(await post(b"title\r\nx\r\n", key="id"), 400)["detail"]
    # Without key=, a file with no key column inserts every line.
    assert ok(await post(b"title,short_name\r\nx,y\r\n"))["rows"][0]["op"] == "insert"
    assert "not unique" in problem(await post(b"id,title\r\n1,a\r\n", key="title"), 400)["detail"]
    assert problem(await post(b"id,title\r\n1,a\r\n", key="nope"), 400)["parameter"] == "key"
    assert problem(await post(b"id,title\r\n1,a\r\n", {"Content-Type": "text/plain"}), 415)
    xlsx = {"Content-Type": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
    assert "XLSX" in problem(await post(b"not a zip", xlsx), 400)["detail"]
    # Line errors: every line is answered, nothing is written.
    body = (
        "\ufeffid,title,status\r\n"
        "1,Fine,open\r\n"
        "1,Same key,open\r\n"
        "2,Too,many,cells\r\n"
        '3,=HYPERLINK("http://x"),open\r\n'
        '4,"Two\r\nlines",open\r\n'
        "5,,open\r\n"
    ).encode()
    answer = ok(await post(body))
    errors = {r["line"]: r["errors"] for r in answer["rows"]}
    assert errors[2] == []
    assert errors[3] == [{"field": "id", "message": "The same key as line 2."}]
    assert errors[4] == [{"field": "", "message": "This line has 4 cells; the header has 3."}]
    assert errors[5][0]["field"] == "title"
    assert "formula" in errors[5][0]["message"]
    assert errors[6] == []
    assert errors[8][0]["field"] == "title"  # the quoted cell spans lines 6 and 7
    assert answer["summary"]["invalid"] == 4
    before = ok(await editor.get("/api/r/courses/1"))
    problem(await post(body, dry_run="false"), 422)
    assert ok(await editor.get("/api/r/courses/1")) == before


async def test_a_file_over_the_cap_is_413(client_for: ClientFor, database_url: str) -> None:
    editor = await client_for("editor")
    small = create_demo_app(Settings(database_url=database_url, pool_size=2, import_max_bytes=100))
    headers = {"Authorization": editor.headers["Authorization"], **CSV}
    async with running(small), anonymous_client(small, headers) as client:
        body = csv_bytes([["id", "title"]] + [[i, "x" * 20] for i in range(10)])
        refused = problem(await client.post("/api/r/courses/import", content=body), 413)
        assert "100 bytes" in refused["detail"]
        fits = csv_bytes([["id", "title"], [1, "x"]])
        assert ok(await client.post("/api/r/courses/import", content=fits))["rows"]


async def test_relations_by_key_or_display_value(client_for: ClientFor) -> None:
    editor = await client_for("editor")
    category = ok(await editor.get("/api/r/categories/2"))
    for short in ("tw1", "tw2"):
        ok(await editor.post("/api/r/categories", json={"name": "Twin", "short_name": short}), 201)
    body = csv_bytes(
        [
            ["title", "short_name", "category_id"],
            ["By name", "n1", category["name"]],
            ["By key", "n2", "2"],
            ["Ambiguous", "n3", "Twin"],
            ["Unknown", "n4", "No such category"],
            ["Unknown key", "n5", "999999"],
        ]
    )
    answer = ok(await editor.post("/api/r/courses/import", content=body, headers=CSV))
    errors = [r["errors"] for r in answer["rows"]]
    assert errors[0] == errors[1] == []
    assert errors[2] == [
        {"field": "category_id", "message": "Several categories are named 'Twin'; use the key."}
    ]
    assert (
        errors[3]
        == errors[4]
        == [{"field": "category_id", "message": "No category has this key or name."}]
    )
    fine = csv_bytes(
        [body.decode().splitlines()[0].split(","), ["By name", "n1", category["name"]]]
    )
    applied = ok(
        await editor.post(
            "/api/r/courses/import", params={"dry_run": "false"}, content=fine, headers=CSV
        )
    )
    course = ok(await editor.get(f"/api/r/courses/{applied['rows'][0]['pk']}"))
    assert course["category_id"] == 2


async def test_a_database_refusal_names_its_line_and_writes_nothing(
    client_for: ClientFor, conninfo: str
) -> None:
    editor = await client_for("editor")
    taken = ok(await editor.get("/api/r/categories/1"))["short_name"]
    lines = [["name", "short_name"], *[[f"Imported {n}", f"imp{n}"] for n in range(30)]]
    lines.insert(20, ["Clash", taken])
    body = csv_bytes(lines)
    assert (
        ok(await editor.post("/api/r/categories/import", content=body, headers=CSV))["summary"][
            "invalid"
        ]
        == 0
    )  # the database alone knows
    refused = problem(
        await editor.post(
            "/api/r/categories/import", params={"dry_run": "false"}, content=body, headers=CSV
        ),
        422,
    )
    bad = [r for r in refused["rows"] if r["errors"]]
    assert [(r["line"], r["errors"][0]["field"]) for r in bad] == [(21, "short_name")]
    with psycopg.connect(conninfo) as conn:
        count = conn.execute("SELECT count(*) FROM categories WHERE name LIKE 'Imported %'")
        assert count.fetchone() == (0,)
    del lines[20]
    applied = ok(
        await editor.post(
            "/api/r/categories/import",
            params={"dry_run": "false"},
            content=csv_bytes(lines),
            headers=CSV,
        )
    )
    assert applied["summary"]["insert"] == 30
    assert len({r["pk"] for r in applied["rows"]}) == 30
    with psycopg.connect(conninfo) as conn:
        logged = conn.execute(
            "SELECT count(*) FROM collabadmin.collabadmin_change"
            " WHERE resource = 'categories' AND source = 'import' AND op = 'insert'"
        )
        assert logged.fetchone() == (30,)
