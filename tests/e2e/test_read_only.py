"""Read-only fields look read-only in a real browser, and say why."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.conftest import PASSWORD, taught_courses
from tests.e2e.conftest import sign_in

pytestmark = pytest.mark.usefixtures("fresh_data")


def test_a_read_only_field_says_why_and_looks_it(page: Page, live_server: str) -> None:
    sign_in(page, live_server, "editor", PASSWORD)
    page.goto(f"{live_server}/r/courses/1")
    short_name = page.get_by_label("Short name")
    expect(short_name).to_be_disabled()
    expect(short_name).to_have_accessible_description(
        "Set when the record is created; it cannot change afterwards."
    )
    # No box to type in: a dashed border on the panel colour, unlike an editable field.
    title = page.get_by_label("Title")
    expect(title).to_be_editable()
    assert short_name.evaluate("e => getComputedStyle(e).borderTopStyle") == "dashed"
    assert title.evaluate("e => getComputedStyle(e).borderTopStyle") == "solid"
    page.screenshot(path="test-results/read-only-fields.png", animations="disabled")


def test_an_instructor_and_a_viewer_are_told_what_they_may_not_change(
    page: Page, live_server: str, conninfo: str
) -> None:
    sign_in(page, live_server, "instructor", PASSWORD)
    page.goto(f"{live_server}/r/courses/{taught_courses(conninfo)[0]}")
    expect(page.get_by_label("Title")).to_have_accessible_description(
        "You may not change this field on this record."
    )
    expect(page.get_by_label("Description")).to_be_editable()
    expect(page.get_by_test_id("view-only")).to_have_count(0)

    page.get_by_role("button", name="Sign out").click()
    sign_in(page, live_server, "viewer", PASSWORD)
    page.goto(f"{live_server}/r/courses/1")
    expect(page.get_by_test_id("view-only")).to_have_text(
        "You may view this course, not change it."
    )
    # Said once for the record, not under every field.
    expect(page.locator(".field .read-only-reason")).to_have_count(0)
