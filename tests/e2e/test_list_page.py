"""The list page in a real browser: sort, filters, saved columns, shared views, live rows."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import psycopg
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.conftest import PASSWORD
from tests.e2e.conftest import sign_in

pytestmark = pytest.mark.usefixtures("fresh_data")


def _count(conninfo: str, where: str) -> int:
    with psycopg.connect(conninfo) as conn:
        row = conn.execute(f"SELECT count(*) FROM courses WHERE deleted_at IS NULL AND {where}")
        return int(row.fetchone()[0])  # type: ignore[index]


class ApiUser:
    """Someone else, working through the HTTP API with a session (cookie and CSRF token)."""

    def __init__(self, base: str, username: str) -> None:
        self.client = httpx.Client(base_url=base)
        credentials = {"username": username, "password": PASSWORD}
        body = self.client.post("/api/auth/login", json=credentials)
        body.raise_for_status()
        self.client.headers["X-CSRF-Token"] = body.json()["csrf_token"]

    def patch(self, pk: int, changes: dict[str, object]) -> None:
        version = self.client.get(f"/api/r/courses/{pk}").json()["_version"]
        response = self.client.patch(
            f"/api/r/courses/{pk}", json=changes, headers={"X-Base-Version": str(version)}
        )
        assert response.status_code == 200, response.text


@pytest.fixture
def bob(live_server: str) -> Iterator[ApiUser]:
    user = ApiUser(live_server, "admin")
    yield user
    user.client.close()


def _prefs_saved(page: Page) -> object:
    return page.expect_response(
        lambda r: "/api/prefs/views/courses" in r.url and r.request.method == "PUT" and r.ok
    )


def test_sort_filter_and_columns_survive_a_reload(
    page: Page, live_server: str, conninfo: str
) -> None:
    sign_in(page, live_server, "editor", PASSWORD)
    page.get_by_role("navigation", name="Resources").get_by_role("link", name="Courses").click()
    expect(page.get_by_test_id("total")).to_have_text("60 records")
    title = page.get_by_role("columnheader", name=re.compile("^Title"))
    expect(title).to_have_attribute("aria-sort", "ascending")

    # Sort by a header, then filter by a choice and by a date range.
    with _prefs_saved(page):
        title.get_by_role("button").click()
    expect(title).to_have_attribute("aria-sort", "descending")
    titles = page.locator("tbody tr td:nth-child(2)")
    expect(titles.first).not_to_have_text("")
    open_courses = _count(conninfo, "status = 'open'")
    with _prefs_saved(page):
        page.get_by_label("Filter Status").select_option("open")
    expect(page.get_by_test_id("total")).to_have_text(f"{open_courses} records")
    expect(page.locator("tbody tr")).to_have_count(min(open_courses, 50))
    for cell in page.locator("tbody tr td:nth-child(5)").all_inner_texts():
        assert cell == "open"
    later = _count(conninfo, "status = 'open' AND start_date >= '2026-06-01'")
    with _prefs_saved(page):
        page.get_by_label("Start date from").fill("2026-06-01")
    expect(page.get_by_test_id("total")).to_have_text(f"{later} records")
    # The chart counts what the list shows.
    expect(page.get_by_test_id("count-open")).to_have_text(str(later))
    expect(page.get_by_test_id("count-draft")).to_have_text("0")

    # Columns: hide one, format another.
    page.get_by_role("button", name="Columns…").click()
    chooser = page.get_by_role("dialog", name="Columns")
    with _prefs_saved(page):
        chooser.locator("tr[data-field=internal_notes]").get_by_role("checkbox").uncheck()
    with _prefs_saved(page):
        chooser.get_by_label("Format of Start date").select_option("date:iso")
    with _prefs_saved(page):
        chooser.get_by_label("Format of Status").select_option("badge")
    chooser.get_by_role("button", name="Done").click()
    expect(page.get_by_role("columnheader", name="Internal notes")).to_have_count(0)
    page.screenshot(path="test-results/list-page.png", animations="disabled")

    page.reload()
    expect(page.get_by_test_id("total")).to_have_text(f"{later} records")
    expect(page.get_by_role("columnheader", name=re.compile("^Title"))).to_have_attribute(
        "aria-sort", "descending"
    )
    expect(page.get_by_label("Filter Status")).to_have_value("open")
    expect(page.get_by_label("Start date from")).to_have_value("2026-06-01")
    expect(page.get_by_role("columnheader", name="Internal notes")).to_have_count(0)
    expect(page.locator("tbody tr").first.locator(".pill-open")).to_have_text("open")
    dates = page.locator("tbody tr td:nth-child(6)").all_inner_texts()
    assert dates
    assert all(re.fullmatch(r"\d{4}-\d{2}-\d{2}", d) for d in dates), dates
    # Clearing the filters brings everything back.
    page.get_by_role("button", name=re.compile("Clear filters")).click()
    expect(page.get_by_test_id("total")).to_have_text("60 records")


def test_a_shared_view_is_offered_to_others(browser: Browser, live_server: str) -> None:
    editor_context, viewer_context = browser.new_context(), browser.new_context()
    editor, viewer = editor_context.new_page(), viewer_context.new_page()
    try:
        sign_in(editor, live_server, "editor", PASSWORD)
        editor.goto(f"{live_server}/r/courses")
        with _prefs_saved(editor):
            editor.get_by_label("Filter Status").select_option("closed")
        editor.get_by_role("button", name="Save as new view…").click()
        editor.get_by_label("View name").fill("Closed courses")
        editor.get_by_role("button", name="Share").click()
        expect(editor.get_by_test_id("toasts")).to_contain_text("Shared the view “Closed courses”")
        # The new view is the one shown.
        shared_tab = editor.get_by_role("tab", name="Closed courses (shared)")
        expect(shared_tab).to_have_attribute("aria-selected", "true")
        expect(editor.get_by_role("button", name="Delete view")).to_be_visible()

        sign_in(viewer, live_server, "viewer", PASSWORD)
        viewer.goto(f"{live_server}/r/courses")
        expect(viewer.get_by_test_id("total")).to_have_text("60 records")
        viewer.get_by_role("tab", name="Closed courses (shared)").click()
        expect(viewer.get_by_label("Filter Status")).to_have_value("closed")
        for cell in viewer.locator("tbody tr td:nth-child(5)").all_inner_texts():
            assert cell == "closed"
        # Only its creator may delete or update it; others may change what they see.
        expect(viewer.get_by_role("button", name="Delete view")).to_have_count(0)
        viewer.get_by_label("Filter Status").select_option("")
        expect(viewer.get_by_test_id("view-modified")).to_be_visible()
        expect(viewer.get_by_role("button", name="Update view")).to_have_count(0)
    finally:
        editor_context.close()
        viewer_context.close()


def test_rows_and_counts_follow_someone_elses_changes(
    page: Page, live_server: str, bob: ApiUser, conninfo: str
) -> None:
    sign_in(page, live_server, "editor", PASSWORD)
    page.goto(f"{live_server}/r/courses")
    expect(page.get_by_test_id("total")).to_have_text("60 records")
    with psycopg.connect(conninfo) as conn:
        pk, status = conn.execute(
            "SELECT id, status FROM courses WHERE status <> 'open' ORDER BY title LIMIT 1"
        ).fetchone()  # type: ignore[misc]
    opened = _count(conninfo, "status = 'open'")
    before = _count(conninfo, f"status = '{status}'")
    expect(page.get_by_test_id("count-open")).to_have_text(str(opened))

    row = page.locator(f"tbody tr[data-pk='{pk}']")
    bob.patch(pk, {"description": "Rewritten by someone else", "status": "open"})
    expect(row.locator("td").nth(3)).to_have_text("Rewritten by someone else")
    expect(row.locator("td").nth(4)).to_have_text("open")
    expect(row).to_have_class(re.compile("flash"))
    expect(page.get_by_test_id("count-open")).to_have_text(str(opened + 1))
    expect(page.get_by_test_id(f"count-{status}")).to_have_text(str(before - 1))

    # A new record appears in its sorted place; a deleted one goes.
    created = bob.client.post(
        "/api/r/courses",
        json={"title": "AAA live arrival", "short_name": "aaa-live", "status": "draft"},
    )
    assert created.status_code == 201, created.text
    new_row = page.locator(f"tbody tr[data-pk='{created.json()['id']}']")
    expect(new_row).to_contain_text("AAA live arrival")
    expect(page.locator("tbody tr").first).to_have_attribute("data-pk", str(created.json()["id"]))
    page.screenshot(path="test-results/list-live.png", animations="disabled")
    version = bob.client.get(f"/api/r/courses/{pk}").json()["_version"]
    deleted = bob.client.delete(f"/api/r/courses/{pk}", headers={"If-Match": f'"{version}"'})
    assert deleted.status_code == 200, deleted.text
    expect(row).to_have_count(0)
    expect(page.get_by_test_id("total")).to_have_text("60 records")
