"""Import and export in a real browser: a bad line fixed and applied; a filtered list exported.

Both on a desktop (1280x800) and a phone (390x844).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest
from openpyxl import Workbook
from playwright.sync_api import Browser, Page, expect

from tests.conftest import PASSWORD
from tests.e2e.conftest import sign_in

pytestmark = pytest.mark.usefixtures("fresh_data")

SIZES = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}


@pytest.fixture(params=list(SIZES))
def sized(request: pytest.FixtureRequest, browser: Browser) -> Iterator[tuple[str, Page]]:
    context = browser.new_context(viewport=SIZES[request.param], accept_downloads=True)  # type: ignore[arg-type]
    yield request.param, context.new_page()
    context.close()


def _course(conninfo: str, after: int = 0) -> tuple[int, str, str, str, int]:
    """A live course after ``after``: id, title, short name, status, version."""
    with psycopg.connect(conninfo) as conn:
        row = conn.execute(
            "SELECT id, title, short_name, status, version FROM courses"
            " WHERE deleted_at IS NULL AND id > %s ORDER BY id LIMIT 1",
            (after,),
        ).fetchone()
    assert row is not None
    return row[0], row[1], row[2], row[3], row[4]


def _write(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as out:
        csv.writer(out).writerows(rows)
    return path


def _open_list_tools(page: Page, phone: bool) -> None:
    """On a phone the list's tools (filters, export, import) are behind the Filters button."""
    if phone:
        page.get_by_role("button", name="Filters").click()


def test_import_a_csv_with_a_bad_line_fix_it_and_apply(
    sized: tuple[str, Page], live_server: str, conninfo: str, tmp_path: Path
) -> None:
    size, page = sized
    first_id, first_title, first_short, first_status, first_version = _course(conninfo)
    second_id, second_title, second_short, second_status, _ = _course(conninfo, first_id)
    new_title = f"Imported course ({size})"
    # Line 2 renames a course; line 3 changes a status (to a value there is no such
    # status: the bad line); line 4 is a new course (no id).
    header = ["id", "Name", "Code", "status"]
    bad = [
        header,
        [str(first_id), f"{first_title} (revised)", first_short, first_status],
        [str(second_id), second_title, second_short, "maybe"],
        ["", new_title, f"imp-{size}", "draft"],
    ]
    sign_in(page, live_server, "editor", PASSWORD)
    page.goto(f"{live_server}/r/courses")
    expect(page.get_by_test_id("total")).to_have_text("60 records")
    _open_list_tools(page, size == "phone")
    page.get_by_role("link", name="Import…").click()
    expect(page.get_by_role("heading", name="Import courses")).to_be_visible()

    # 1. the file; 2. its columns: id and status suggested, Name and Code chosen.
    page.get_by_label("Choose a file").set_input_files(_write(tmp_path / "courses.csv", bad))
    expect(page.get_by_label("Field for column id")).to_have_value("id")
    expect(page.get_by_label("Field for column status")).to_have_value("status")
    expect(page.get_by_label("Field for column Name")).to_have_value("")
    page.get_by_label("Field for column Name").select_option("title")
    page.get_by_label("Field for column Code").select_option("short_name")
    page.get_by_role("button", name="Preview the import").click()

    # 3. the preview: line 3's status is in error, under its cell, with its line number.
    line3 = page.locator("tr[data-line='3']")
    expect(line3).to_contain_text("error")
    bad_cell = line3.locator("td.cell-error")
    expect(bad_cell).to_have_count(1)
    expect(bad_cell).to_contain_text("maybe")
    expect(bad_cell).to_contain_text("Line 3, Status:")
    expect(page.locator("tr[data-line='2']")).to_contain_text("update")
    expect(page.locator("tr[data-line='4']")).to_contain_text("new")
    expect(page.get_by_test_id("import-summary")).to_contain_text("1 with errors")
    expect(page.get_by_role("button", name="Import 2 changes")).to_have_count(0)
    page.screenshot(
        path=f"test-results/import-preview-{size}.png", full_page=True, animations="disabled"
    )
    with psycopg.connect(conninfo) as conn:
        assert conn.execute(
            "SELECT count(*) FROM courses WHERE title = %s", (new_title,)
        ).fetchone() == (0,)

    # The corrected file, previewed with the same mapping.
    fixed = [row[:] for row in bad]
    fixed[2][3] = "closed" if second_status != "closed" else "open"
    page.get_by_label("Upload the corrected file").set_input_files(
        _write(tmp_path / "courses-fixed.csv", fixed)
    )
    expect(page.get_by_test_id("import-summary")).to_contain_text("1 new")
    expect(page.get_by_test_id("import-summary")).to_contain_text("2 to update")
    expect(page.locator("td.cell-error")).to_have_count(0)

    # 4. applied, all at once; the list shows the rows.
    page.get_by_role("button", name="Import 3 changes").click()
    expect(page.get_by_role("heading", name="Imported")).to_be_visible()
    page.get_by_role("link", name="Open the courses list").click()
    expect(page.get_by_test_id("total")).to_have_text("61 records")
    page.get_by_role("searchbox", name="Search Courses").fill(new_title)
    expect(page.get_by_test_id("total")).to_have_text("1 record")
    expect(page.get_by_text(new_title)).to_be_visible()

    with psycopg.connect(conninfo) as conn:
        sources = conn.execute(
            "SELECT op, count(*) FROM collabadmin.collabadmin_change"
            " WHERE resource = 'courses' AND source = 'import' GROUP BY op ORDER BY op"
        ).fetchall()
        assert sources == [("insert", 1), ("update", 2)]
        row = conn.execute(
            "SELECT title, version FROM courses WHERE id = %s", (first_id,)
        ).fetchone()
        assert row == (f"{first_title} (revised)", first_version + 1)


def test_export_the_filtered_list_gives_the_rows_shown(
    sized: tuple[str, Page], live_server: str, conninfo: str
) -> None:
    size, page = sized
    phone = size == "phone"
    with psycopg.connect(conninfo) as conn:
        counted = conn.execute(
            "SELECT count(*) FROM courses WHERE deleted_at IS NULL AND status = 'open'"
        ).fetchone()
    assert counted is not None
    expected = int(counted[0])
    sign_in(page, live_server, "editor", PASSWORD)
    page.goto(f"{live_server}/r/courses")
    expect(page.get_by_test_id("total")).to_have_text("60 records")
    _open_list_tools(page, phone)
    page.get_by_label("Filter Status").select_option("open")
    expect(page.get_by_test_id("total")).to_have_text(f"{expected} records")
    link = page.get_by_role("link", name=f"Export {expected} rows as CSV")
    expect(link).to_be_visible()
    with page.expect_download() as waiting:
        link.click()
    download = waiting.value
    assert download.suggested_filename == "courses.csv"
    exported = list(csv.reader(io.StringIO(Path(download.path()).read_text(encoding="utf-8-sig"))))
    header, lines = exported[0], exported[1:]
    assert len(lines) == expected
    title_at = header.index("Title")

    if phone:
        # Cards: each titled by the course's title, in the list's order.
        cards = page.get_by_role("list", name="Courses").get_by_role("listitem")
        expect(cards).to_have_count(min(expected, 50))
        shown = [card.get_by_role("link").first.inner_text().strip() for card in cards.all()]
        assert [line[title_at] for line in lines[: len(shown)]] == shown
        return
    # The columns shown, in order, with their labels; then the same rows in the same order.
    heads = page.locator("thead tr").first.locator("th").all_inner_texts()
    # A header's first line is its label (then the sort arrow, and text for screen readers).
    labels = [re.sub(r"[▲▼\d\s]+$", "", h.split("\n")[0]) for h in heads]
    assert header == [label for label in labels if label]
    rows = page.locator("tbody tr")
    expect(rows).to_have_count(min(expected, 50))
    for line, row in zip(lines, rows.all(), strict=False):
        cells = [c.strip() for c in row.locator("td").all_inner_texts()]
        for label in ("Id", "Title", "Short name", "Status", "Start date"):
            at = header.index(label)
            assert (line[at] or "—") == cells[at], (label, line, cells)


def _api_login(base: str, username: str) -> httpx.Client:
    client = httpx.Client(base_url=base)
    body = client.post("/api/auth/login", json={"username": username, "password": PASSWORD})
    body.raise_for_status()
    client.headers["X-CSRF-Token"] = body.json()["csrf_token"]
    return client


def test_a_record_changed_between_preview_and_apply_is_shown_and_previewed_again(
    page: Page, live_server: str, conninfo: str, tmp_path: Path
) -> None:
    course_id, title, short, status, _ = _course(conninfo)
    mine = f"{title} (from the file)"
    path = _write(
        tmp_path / "courses.csv",
        [["id", "title", "short_name", "status"], [str(course_id), mine, short, status]],
    )
    sign_in(page, live_server, "editor", PASSWORD)
    page.goto(f"{live_server}/r/courses/records/import")
    page.get_by_label("Choose a file").set_input_files(path)
    page.get_by_role("button", name="Preview the import").click()
    expect(page.get_by_test_id("import-summary")).to_contain_text("1 to update")

    # Someone renames the course after the preview.
    other = _api_login(live_server, "admin")
    try:
        version = other.get(f"/api/r/courses/{course_id}").json()["_version"]
        renamed = other.patch(
            f"/api/r/courses/{course_id}",
            json={"title": "Renamed meanwhile"},
            headers={"X-Base-Version": str(version)},
        )
        assert renamed.status_code == 200, renamed.text
    finally:
        other.close()

    page.get_by_role("button", name="Import 1 change").click()
    expect(page.get_by_role("alert")).to_contain_text("some records changed since your preview")
    line = page.locator("tr[data-line='2']")
    expect(line).to_contain_text("changed since preview")
    expect(line.locator("td.cell-error")).to_contain_text("now “Renamed meanwhile”")
    with psycopg.connect(conninfo) as conn:
        row = conn.execute("SELECT title FROM courses WHERE id = %s", (course_id,))
        assert row.fetchone() == ("Renamed meanwhile",)  # nothing written

    # Seen now: previewed again, the file's title replaces it knowingly.
    page.get_by_role("button", name="Preview again").click()
    expect(page.get_by_role("alert")).to_have_count(0)
    page.get_by_role("button", name="Import 1 change").click()
    expect(page.get_by_role("heading", name="Imported")).to_be_visible()
    with psycopg.connect(conninfo) as conn:
        row = conn.execute("SELECT title FROM courses WHERE id = %s", (course_id,))
        assert row.fetchone() == (mine,)
        sources = conn.execute(
            "SELECT source FROM collabadmin.collabadmin_change"
            " WHERE resource = 'courses' AND op = 'update' ORDER BY id"
        ).fetchall()
        assert sources[-2:] == [("api",), ("import",)]


def test_an_excel_workbook_is_mapped_and_imported(
    page: Page, live_server: str, conninfo: str, tmp_path: Path
) -> None:
    course_id, title, short, status, _ = _course(conninfo)
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["Identifier", "Course title", "Code", "Status", "Remarks"])
    sheet.append([course_id, f"{title} (xlsx)", short, status, "not imported"])
    sheet.append([None, "Workbook course", "xlsx-1", "draft", "new"])
    path = tmp_path / "courses.xlsx"
    book.save(path)

    sign_in(page, live_server, "editor", PASSWORD)
    page.goto(f"{live_server}/r/courses/records/import")
    page.get_by_label("Choose a file").set_input_files(path)
    expect(page.get_by_label("Field for column Status")).to_have_value("status")
    page.get_by_label("Field for column Identifier").select_option("id")
    page.get_by_label("Field for column Course title").select_option("title")
    page.get_by_label("Field for column Code").select_option("short_name")
    expect(page.get_by_label("Field for column Remarks")).to_have_value("")
    page.get_by_role("button", name="Preview the import").click()
    expect(page.get_by_test_id("import-summary")).to_contain_text("1 new")
    expect(page.get_by_test_id("import-summary")).to_contain_text("1 to update")
    page.get_by_role("button", name="Import 2 changes").click()
    expect(page.get_by_role("heading", name="Imported")).to_be_visible()
    with psycopg.connect(conninfo) as conn:
        row = conn.execute("SELECT title FROM courses WHERE id = %s", (course_id,))
        assert row.fetchone() == (f"{title} (xlsx)",)
        made = conn.execute("SELECT short_name FROM courses WHERE title = 'Workbook course'")
        assert made.fetchone() == ("xlsx-1",)


def test_an_import_staged_as_drafts_is_published_by_a_reviewer(
    browser: Browser, live_server: str, conninfo: str, tmp_path: Path
) -> None:
    course_id, title, short, status, _ = _course(conninfo)
    path = _write(
        tmp_path / "courses.csv",
        [
            ["id", "title", "short_name", "status"],
            [str(course_id), f"{title} (staged)", short, status],
        ],
    )
    editor = browser.new_context(viewport=SIZES["desktop"]).new_page()  # type: ignore[arg-type]
    sign_in(editor, live_server, "editor", PASSWORD)
    editor.goto(f"{live_server}/r/courses/records/import")
    editor.get_by_label("Choose a file").set_input_files(path)
    editor.get_by_role("button", name="Preview the import").click()
    editor.get_by_role("button", name="Stage as drafts for review").click()
    expect(editor.get_by_role("heading", name="Staged as drafts for review")).to_be_visible()
    review = editor.get_by_role("link", name="Review the drafts")
    batch_path = review.get_attribute("href")
    assert batch_path is not None
    assert batch_path.startswith("/drafts?batch=")
    with psycopg.connect(conninfo) as conn:
        row = conn.execute("SELECT title FROM courses WHERE id = %s", (course_id,))
        assert row.fetchone() == (title,)  # nothing written yet
    editor.context.close()

    reviewer = browser.new_context(viewport=SIZES["desktop"]).new_page()  # type: ignore[arg-type]
    sign_in(reviewer, live_server, "reviewer", PASSWORD)
    reviewer.goto(f"{live_server}{batch_path}")
    expect(reviewer.get_by_test_id("drafts").locator("tbody tr")).to_have_count(1)
    reviewer.get_by_role("button", name="Publish the batch").click()
    expect(reviewer.get_by_text("Published 1 draft.")).to_be_visible()
    reviewer.context.close()
    with psycopg.connect(conninfo) as conn:
        row = conn.execute("SELECT title FROM courses WHERE id = %s", (course_id,))
        assert row.fetchone() == (f"{title} (staged)",)
