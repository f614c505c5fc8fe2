"""Record history and revert, undo, the leave guard, the audit browser, themes, reconnects."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import psycopg
import pytest
from playwright.sync_api import Browser, Page, WebSocketRoute, expect

from tests.conftest import PASSWORD
from tests.e2e.conftest import sign_in

pytestmark = pytest.mark.usefixtures("fresh_data")


def test_history_shows_field_diffs_and_reverts_one_field(page: Page, live_server: str) -> None:
    sign_in(page, live_server, "editor", PASSWORD)
    page.goto(f"{live_server}/r/courses/9")
    original = page.get_by_label("Title").input_value()
    page.get_by_label("Title").fill("A title to regret")
    page.get_by_label("Description").fill("A description to keep")
    page.keyboard.press("Control+s")
    expect(page.get_by_test_id("version")).to_have_text("version 2")

    page.get_by_role("tab", name=re.compile("History")).click()
    change = page.locator(".history li[data-version='2']")
    title_diff = change.locator("li[data-field=title]")
    expect(title_diff).to_contain_text(original)
    expect(title_diff).to_contain_text("A title to regret")
    expect(change.locator("li[data-field=description]")).to_contain_text("A description to keep")
    page.screenshot(path="test-results/record-history.png", animations="disabled")

    title_diff.get_by_role("button", name=re.compile("^Revert")).click()
    expect(page.get_by_test_id("toasts")).to_contain_text("Reverted Title.")
    expect(page.get_by_test_id("version")).to_have_text("version 3")
    reverted = page.locator(".history li[data-version='3']")
    expect(reverted).to_contain_text("revert")
    expect(reverted.locator("li[data-field=title]")).to_contain_text(original)
    page.get_by_role("tab", name="Details").click()
    expect(page.get_by_label("Title")).to_have_value(original)
    expect(page.get_by_label("Description")).to_have_value("A description to keep")


def test_delete_can_be_undone_and_unsaved_edits_ask_before_leaving(
    page: Page, live_server: str
) -> None:
    sign_in(page, live_server, "editor", PASSWORD)
    page.goto(f"{live_server}/r/courses/12")
    expect(page.get_by_test_id("version")).to_have_text("version 1")
    page.get_by_role("button", name="Delete", exact=True).click()
    toasts = page.get_by_test_id("toasts")
    expect(toasts).to_contain_text("Deleted course 12.")
    expect(page.locator(".toolbar .badge")).to_have_text("deleted")
    toasts.get_by_role("button", name="Undo").click()
    expect(toasts).to_contain_text("Restored.")
    expect(page.locator(".toolbar .badge")).to_have_count(0)
    expect(page.get_by_test_id("version")).to_have_text("version 3")

    page.get_by_label("Title").fill("Not saved yet")
    page.get_by_role("navigation", name="Resources").get_by_role("link", name="Courses").click()
    guard = page.get_by_role("alertdialog", name="Leave without saving?")
    expect(guard).to_contain_text("Title")
    guard.get_by_role("button", name="Stay").click()
    expect(page.get_by_label("Title")).to_have_value("Not saved yet")
    # The guard keeps the focus (it starts on Stay); Escape is Stay too.
    page.get_by_role("navigation", name="Resources").get_by_role("link", name="Courses").click()
    expect(guard.get_by_role("button", name="Stay")).to_be_focused()
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    expect(guard.get_by_role("button", name="Stay")).to_be_focused()
    page.keyboard.press("Escape")
    expect(guard).to_have_count(0)
    expect(page.get_by_label("Title")).to_have_value("Not saved yet")
    page.get_by_role("navigation", name="Resources").get_by_role("link", name="Courses").click()
    page.get_by_role("alertdialog").get_by_role("button", name="Leave without saving").click()
    expect(page.get_by_role("heading", name="Courses")).to_be_visible()


def test_audit_browser_filters_downloads_and_verifies(browser: Browser, live_server: str) -> None:
    editor_context, auditor_context = browser.new_context(), browser.new_context()
    editor, auditor = editor_context.new_page(), auditor_context.new_page()
    try:
        sign_in(editor, live_server, "editor", PASSWORD)
        expect(editor.get_by_role("link", name="Audit log")).to_have_count(0)
        editor.goto(f"{live_server}/r/courses/4")
        editor.get_by_label("Title").fill("Audited in the browser")
        editor.keyboard.press("Control+s")
        expect(editor.get_by_test_id("version")).to_have_text("version 2")

        sign_in(auditor, live_server, "auditor", PASSWORD)
        tools = auditor.get_by_role("navigation", name="Tools")
        tools.get_by_role("link", name="Audit log").click()
        expect(auditor.get_by_test_id("verify-badge")).to_contain_text("Chain verified")
        filters = auditor.get_by_role("form", name="Audit filters")
        filters.get_by_label("Resource").select_option("courses")
        filters.get_by_label("Operation").select_option("update")
        filters.get_by_role("button", name="Apply").click()
        rows = auditor.locator("tbody tr")
        expect(rows).to_have_count(1)
        expect(rows.first).to_contain_text("Editor")
        expect(rows.first).to_contain_text("Audited in the browser")
        link = auditor.get_by_test_id("csv-link")
        expect(link).to_have_attribute("href", re.compile(r"resource=courses.*op=update"))
        auditor.screenshot(path="test-results/audit.png", animations="disabled")
        # New changes show up without a reload.
        editor.get_by_label("Description").fill("A second audited edit")
        editor.keyboard.press("Control+s")
        expect(rows).to_have_count(2)
        expect(rows.first).to_contain_text("A second audited edit")
        # The CSV link serves the same search.
        csv = auditor.request.get(f"{live_server}{link.get_attribute('href')}")
        assert csv.ok
        assert "Audited in the browser" in csv.text()
        # The dashboard's recent activity is the audit feed for an auditor, kept live.
        auditor.get_by_role("link", name="collabadmin").click()
        activity = auditor.get_by_test_id("activity")
        expect(activity.locator("li").first).to_contain_text("Editor changed Course #4")
        editor.get_by_label("Title").fill("Third time")
        editor.keyboard.press("Control+s")
        expect(editor.get_by_test_id("version")).to_have_text("version 4")
        expect(activity.locator("li").first).to_contain_text("(title)")
        auditor.screenshot(path="test-results/dashboard.png", animations="disabled")
    finally:
        editor_context.close()
        auditor_context.close()


def test_theme_toggle_switches_and_is_remembered(page: Page, live_server: str) -> None:
    sign_in(page, live_server, "viewer", PASSWORD)
    html = page.locator("html")
    start = html.get_attribute("data-theme")
    assert start in ("light", "dark")
    other = "dark" if start == "light" else "light"
    page.get_by_test_id("theme-toggle").click()
    expect(html).to_have_attribute("data-theme", other)
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    page.reload()
    expect(html).to_have_attribute("data-theme", other)
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") == background
    page.goto(f"{live_server}/r/courses")
    expect(page.get_by_test_id("total")).to_have_text("60 records")
    page.screenshot(path=f"test-results/list-{other}.png", animations="disabled")
    page.get_by_test_id("theme-toggle").click()
    expect(html).to_have_attribute("data-theme", start)


@pytest.fixture
def editor_api(live_server: str) -> Iterator[httpx.Client]:
    client = httpx.Client(base_url=live_server)
    body = client.post("/api/auth/login", json={"username": "editor", "password": PASSWORD})
    client.headers["X-CSRF-Token"] = body.json()["csrf_token"]
    yield client
    client.close()


def test_a_dropped_socket_reconnects_and_resumes_without_a_reload(
    page: Page, live_server: str, editor_api: httpx.Client, conninfo: str
) -> None:
    with psycopg.connect(conninfo) as conn:
        row = conn.execute("SELECT id FROM courses ORDER BY title LIMIT 1").fetchone()
    assert row is not None
    first = int(row[0])  # on the first page of the list, whatever the seed
    sockets: list[WebSocketRoute] = []

    def relay(ws: WebSocketRoute) -> None:
        ws.connect_to_server()
        sockets.append(ws)

    page.route_web_socket(re.compile(r".*/api/ws$"), relay)
    sign_in(page, live_server, "admin", PASSWORD)
    page.goto(f"{live_server}/r/courses")
    expect(page.get_by_test_id("total")).to_have_text("60 records")
    page.wait_for_function("() => document.querySelector('[data-testid=reconnecting]') === null")
    marker = page.evaluate("window.__marker = 1")  # survives only if the page never reloads
    assert marker == 1
    assert sockets, "the page opened its websocket through the relay"
    sockets[-1].close(code=1012, reason="restart")
    expect(page.get_by_test_id("reconnecting")).to_be_visible()
    # A change made while the socket is down still arrives once it is back.
    response = editor_api.patch(
        f"/api/r/courses/{first}",
        json={"description": "Changed during the outage"},
        headers={"X-Base-Version": "1"},
    )
    assert response.status_code == 200, response.text
    expect(page.get_by_test_id("reconnecting")).to_have_count(0, timeout=15_000)
    expect(page.get_by_test_id("toasts")).to_contain_text("Live updates resumed")
    changed = page.locator(f"tbody tr[data-pk='{first}']")
    # The replay of the missed change follows the resume: as long, on a busy machine.
    expect(changed).to_contain_text("Changed during the outage", timeout=15_000)
    assert page.evaluate("window.__marker") == 1
