"""The app on a phone (390x844): a navigation drawer, lists as cards, full-width record forms."""

from __future__ import annotations

import re
from collections.abc import Iterator

import psycopg
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.conftest import PASSWORD
from tests.e2e.conftest import sign_in

pytestmark = pytest.mark.usefixtures("fresh_data")

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def phone(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport=PHONE, has_touch=True)  # type: ignore[arg-type]
    yield context.new_page()
    context.close()


def _page_width(page: Page) -> int:
    return int(page.evaluate("document.documentElement.scrollWidth"))


def test_a_phone_user_reaches_courses_through_the_drawer_and_edits_one(
    phone: Page, live_server: str, conninfo: str
) -> None:
    page = phone
    sign_in(page, live_server, "editor", PASSWORD)
    # No sidebar taking the width: the navigation waits behind the menu button.
    expect(page.get_by_role("navigation", name="Resources")).to_have_count(0)
    menu = page.get_by_role("button", name="Open navigation")
    menu.click()
    drawer = page.get_by_role("dialog", name="Navigation")
    expect(drawer).to_be_visible()
    expect(menu).to_have_attribute("aria-expanded", "true")
    # Modal: the focus is inside, Escape closes it and gives the focus back.
    expect(drawer.get_by_role("button", name="Close navigation")).to_be_focused()
    page.keyboard.press("Escape")
    expect(drawer).to_have_count(0)
    expect(menu).to_be_focused()

    menu.click()
    page.screenshot(path="test-results/phone-drawer.png", animations="disabled")
    drawer.get_by_role("navigation", name="Resources").get_by_role("link", name="Courses").click()
    expect(drawer).to_have_count(0)  # following a link closes it
    expect(page.get_by_role("heading", name="Courses")).to_be_visible()
    expect(page.get_by_test_id("total")).to_have_text("60 records")

    # The list is cards, one per course, as wide as the phone and no wider.
    cards = page.get_by_role("list", name="Courses").get_by_role("listitem")
    expect(cards).to_have_count(50)
    assert _page_width(page) <= PHONE["width"]
    first = cards.first
    box = first.bounding_box()
    assert box is not None
    assert box["width"] > PHONE["width"] - 40, box

    # Filters wait behind their button too.
    page.get_by_role("button", name="Filters").click()
    page.get_by_label("Filter Status").select_option("closed")
    with psycopg.connect(conninfo) as conn:
        row = conn.execute(
            "SELECT count(*) FROM courses WHERE deleted_at IS NULL AND status = 'closed'"
        ).fetchone()
    assert row is not None
    expect(page.get_by_test_id("total")).to_have_text(f"{row[0]} records")
    filters = page.get_by_role("button", name="Filters (1)", exact=True)
    expect(filters).to_have_attribute("aria-expanded", "true")
    filters.click()
    page.screenshot(path="test-results/phone-list.png", animations="disabled")

    # Open a course and edit it: the form takes the width.
    pk = first.get_attribute("data-pk")
    first.get_by_role("link").click()
    expect(page.get_by_test_id("version")).to_have_text("version 1")
    title = page.get_by_label("Title")
    field = title.bounding_box()
    assert field is not None
    assert field["width"] > PHONE["width"] - 60, field
    assert _page_width(page) <= PHONE["width"]
    title.fill("Edited on a phone")
    page.get_by_role("combobox", name="Category").click()
    option = page.get_by_role("listbox", name="Category: suggestions").get_by_role("option")
    expect(option.first).to_be_visible()
    page.screenshot(path="test-results/phone-record.png", animations="disabled")
    page.keyboard.press("Escape")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_test_id("version")).to_have_text("version 2")
    with psycopg.connect(conninfo) as conn:
        saved = conn.execute("SELECT title FROM courses WHERE id = %s", (pk,)).fetchone()
    assert saved == ("Edited on a phone",)

    # Back to the list: the same filtered cards.
    page.go_back()
    expect(page).to_have_url(re.compile(r"filter\[status\]\[eq\]=closed"))
    expect(page.get_by_test_id("total")).to_have_text(f"{row[0]} records")
