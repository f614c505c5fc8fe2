"""Keyboard shortcuts in a real browser: `?` lists them, `g` then a key goes, `/` searches."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.conftest import PASSWORD
from tests.e2e.conftest import sign_in


def test_shortcuts_go_and_search_but_never_take_typed_text(page: Page, live_server: str) -> None:
    sign_in(page, live_server, "auditor", PASSWORD)
    page.goto(f"{live_server}/")
    expect(page.get_by_role("heading", name="My checklists")).to_be_visible()
    page.keyboard.press("?")
    dialog = page.get_by_role("dialog", name="Keyboard shortcuts")
    expect(dialog).to_contain_text("Audit log")
    expect(dialog).to_contain_text("Courses")
    # An auditor reviews nothing: no review queue shortcut.
    expect(dialog).not_to_contain_text("Review queue")
    page.screenshot(path="test-results/shortcuts.png", animations="disabled")
    page.keyboard.press("Escape")
    expect(dialog).to_have_count(0)

    page.keyboard.press("g")
    page.keyboard.press("a")
    expect(page).to_have_url(re.compile(r"/audit$"))

    page.get_by_role("navigation", name="Resources").get_by_role("link", name="Courses").click()
    expect(page.get_by_test_id("total")).to_contain_text("records")
    page.keyboard.press("/")
    search = page.get_by_role("searchbox")
    expect(search).to_be_focused()
    # Letters typed in the search box are text, not shortcuts.
    page.keyboard.type("gd")
    expect(search).to_have_value("gd")
    expect(page).to_have_url(re.compile(r"/r/courses\?.*q=gd"))
