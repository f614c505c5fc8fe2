"""A new record by way of a draft: an editor drafts it from the list, a reviewer publishes it."""

from __future__ import annotations

import re

import psycopg
import pytest
from playwright.sync_api import Browser, expect

from tests.conftest import PASSWORD
from tests.e2e.conftest import sign_in

pytestmark = pytest.mark.usefixtures("fresh_data")

TITLE = "Sea Ice Physics, drafted from scratch"
SHORT_NAME = "sea-ice-101"


def test_editor_drafts_a_new_course_reviewer_publishes_it(
    browser: Browser, live_server: str, conninfo: str
) -> None:
    editor_context = browser.new_context(viewport={"width": 1400, "height": 1000})
    reviewer_context = browser.new_context(viewport={"width": 1400, "height": 1000})
    editor, reviewer = editor_context.new_page(), reviewer_context.new_page()
    try:
        sign_in(editor, live_server, "editor", PASSWORD)
        editor.goto(f"{live_server}/r/courses")
        editor.get_by_role("link", name="New draft").click()
        expect(editor.get_by_role("heading", name="New course (draft)")).to_be_visible()
        editor.get_by_label("Title").fill(TITLE)
        editor.get_by_label("Short name").fill(SHORT_NAME)
        editor.get_by_label("Status").select_option("open")
        editor.get_by_role("button", name="Save draft").click()

        # The draft page of the new record: nothing is live yet.
        expect(editor).to_have_url(re.compile(r"/drafts/\d+$"))
        draft_url = editor.url
        expect(editor.get_by_role("heading", name=re.compile("new course"))).to_be_visible()
        expect(editor.get_by_test_id("draft-status")).to_have_text("draft")
        expect(editor.get_by_label("Title")).to_have_value(TITLE)
        editor.get_by_role("button", name="Submit for review").click()
        expect(editor.get_by_test_id("draft-status")).to_have_text("submitted")

        sign_in(reviewer, live_server, "reviewer", PASSWORD)
        reviewer.goto(draft_url)
        expect(reviewer.get_by_test_id("draft-status")).to_have_text("submitted")
        reviewer.get_by_role("button", name="Approve").click()
        expect(reviewer.get_by_test_id("draft-status")).to_have_text("approved")
        reviewer.get_by_role("button", name="Publish now").click()
        expect(reviewer.get_by_test_id("draft-status")).to_have_text("published")
        expect(reviewer.get_by_text(re.compile(r"Published .* as version 1"))).to_be_visible()

        with psycopg.connect(conninfo) as conn:
            row = conn.execute(
                "SELECT title, status FROM courses WHERE short_name = %s", (SHORT_NAME,)
            ).fetchone()
        assert row == (TITLE, "open")
    finally:
        editor_context.close()
        reviewer_context.close()
