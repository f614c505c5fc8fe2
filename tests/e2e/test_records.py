"""Editing in a real browser: lists, the record form, and conflicts between two people."""

from __future__ import annotations

import re

import psycopg
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.conftest import PASSWORD, taught_courses
from tests.e2e.conftest import sign_in

pytestmark = pytest.mark.usefixtures("fresh_data")


def test_list_sorts_by_header_and_opens_a_record(page: Page, live_server: str) -> None:
    sign_in(page, live_server, "editor", PASSWORD)
    page.get_by_role("navigation", name="Resources").get_by_role("link", name="Courses").click()
    expect(page.get_by_role("heading", name="Courses")).to_be_visible()
    expect(page.get_by_text("60 records")).to_be_visible()
    title_header = page.get_by_role("columnheader", name=re.compile("Title"))
    expect(title_header).to_have_attribute("aria-sort", "ascending")
    first = page.locator("tbody tr").first.locator("td").nth(1).inner_text()
    title_header.get_by_role("button").click()
    expect(title_header).to_have_attribute("aria-sort", "descending")
    expect(page.locator("tbody tr").first.locator("td").nth(1)).not_to_have_text(first)
    page.locator("tbody tr").first.get_by_role("link").click()
    expect(page.get_by_test_id("version")).to_have_text("version 1")


def test_edit_saves_only_changes_and_shows_history(page: Page, live_server: str) -> None:
    sign_in(page, live_server, "editor", PASSWORD)
    page.goto(f"{live_server}/r/courses/5")
    title = page.get_by_label("Title")
    title.fill("Edited in the browser")
    page.keyboard.press("Control+s")
    expect(page.get_by_role("status").filter(has_text="Saved")).to_be_visible()
    expect(page.get_by_test_id("version")).to_have_text("version 2")
    page.get_by_role("tab", name=re.compile("History")).click()
    expect(page.locator(".history")).to_contain_text("Edited in the browser")
    expect(page.get_by_label("Short name")).to_be_disabled()  # read-only once created
    page.screenshot(path="test-results/record-page.png", animations="disabled")


def test_two_editors_same_field_get_the_conflict_dialog(browser: Browser, live_server: str) -> None:
    """Without live updates (Bob's socket is down), a save that conflicts opens the dialog."""
    alice_context, bob_context = browser.new_context(), browser.new_context()
    alice, bob = alice_context.new_page(), bob_context.new_page()
    bob.route_web_socket("**/api/ws", lambda ws: None)  # accepted, never connected: no frames
    try:
        sign_in(alice, live_server, "editor", PASSWORD)
        sign_in(bob, live_server, "admin", PASSWORD)
        for page in (alice, bob):
            page.goto(f"{live_server}/r/courses/7")
            expect(page.get_by_test_id("version")).to_have_text("version 1")
        alice.get_by_label("Title").fill("Alice's title")
        alice.get_by_role("button", name="Save", exact=True).click()
        expect(alice.get_by_test_id("version")).to_have_text("version 2")

        bob.get_by_label("Title").fill("Bob's title")
        bob.get_by_role("button", name="Save", exact=True).click()
        dialog = bob.get_by_role("dialog")
        expect(dialog).to_contain_text("Someone else changed these fields")
        row = dialog.locator("tr[data-field=title]")
        expect(row).to_contain_text("Alice's title")
        expect(row).to_contain_text("Bob's title")
        bob.screenshot(path="test-results/conflict-dialog.png", animations="disabled")
        dialog.get_by_role("button", name="Apply").click()  # keep mine
        expect(bob.get_by_test_id("version")).to_have_text("version 3")
        expect(bob.get_by_label("Title")).to_have_value("Bob's title")
    finally:
        alice_context.close()
        bob_context.close()


def test_instructor_never_sees_internal_notes(page: Page, live_server: str, conninfo: str) -> None:
    course = taught_courses(conninfo)[0]
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("UPDATE courses SET internal_notes = 'SECRET-NOTE' WHERE id = %s", (course,))
    sign_in(page, live_server, "instructor", PASSWORD)
    nav = page.get_by_role("navigation", name="Resources")
    # Its courses, their sessions and their overviews (the live view, scoped alike).
    expect(nav.get_by_role("link")).to_have_text(["Courses", "Sessions", "Course overviews"])
    page.goto(f"{live_server}/r/courses/{course}")
    expect(page.get_by_label("Description")).to_be_editable()
    expect(page.get_by_label("Title")).to_be_disabled()
    expect(page.get_by_label("Internal notes")).to_have_count(0)
    assert "SECRET-NOTE" not in page.content()
    page.goto(f"{live_server}/r/courses")
    expect(page.locator("tbody tr")).to_have_count(len(taught_courses(conninfo)))
    assert "SECRET-NOTE" not in page.content()


def test_changes_and_presence_arrive_live_without_reload(
    browser: Browser, live_server: str
) -> None:
    alice_context, bob_context = browser.new_context(), browser.new_context()
    alice, bob = alice_context.new_page(), bob_context.new_page()
    try:
        sign_in(alice, live_server, "editor", PASSWORD)
        sign_in(bob, live_server, "admin", PASSWORD)
        alice.goto(f"{live_server}/r/courses/11")
        bob.goto(f"{live_server}/r/courses/11")
        expect(bob.get_by_test_id("presence")).to_contain_text("Editor")
        expect(alice.get_by_test_id("presence")).to_contain_text("Admin")
        # Bob starts editing the description; Alice sees the field marker.
        bob.get_by_label("Description").click()
        expect(alice.get_by_test_id("editing-description")).to_contain_text("Admin")
        bob.get_by_label("Description").fill("Bob's unsaved words")
        # Alice saves a new title: Bob's untouched title updates in place.
        alice.get_by_label("Title").fill("Live title")
        alice.get_by_role("button", name="Save", exact=True).click()
        expect(bob.get_by_label("Title")).to_have_value("Live title")
        expect(bob.get_by_test_id("version")).to_have_text("version 2")
        # Alice changes the field Bob is editing: Bob is told, and keeps his words.
        alice.get_by_label("Description").fill("Alice's description")
        alice.get_by_role("button", name="Save", exact=True).click()
        notice = bob.get_by_test_id("remote-description")
        expect(notice).to_contain_text("Editor changed this to “Alice's description”")
        expect(bob.get_by_label("Description")).to_have_value("Bob's unsaved words")
        bob.screenshot(path="test-results/live-record.png", animations="disabled")
        notice.get_by_role("button", name="Take theirs").click()
        expect(bob.get_by_label("Description")).to_have_value("Alice's description")
        # Alice leaves: Bob's avatars update.
        alice_context.close()
        expect(bob.get_by_test_id("presence")).to_have_count(0)
    finally:
        bob_context.close()
