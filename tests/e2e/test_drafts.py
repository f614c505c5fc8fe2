"""Drafts in the browser: an editor drafts, a reviewer previews side by side and publishes."""

from __future__ import annotations

import re

import psycopg
import pytest
from playwright.sync_api import Browser, expect

from tests.conftest import PASSWORD
from tests.e2e.conftest import sign_in

pytestmark = pytest.mark.usefixtures("fresh_data")

COURSE = 5
DRAFTED = "Data Ethics, drafted for review"


def _title(conninfo: str, pk: int) -> str:
    with psycopg.connect(conninfo) as conn:
        row = conn.execute("SELECT title FROM courses WHERE id = %s", (pk,)).fetchone()
    assert row is not None
    return str(row[0])


def test_editor_drafts_reviewer_previews_approves_and_publishes(
    browser: Browser, live_server: str, conninfo: str
) -> None:
    original = _title(conninfo, COURSE)
    editor_context = browser.new_context(viewport={"width": 1400, "height": 1000})
    reviewer_context = browser.new_context(viewport={"width": 1400, "height": 1050})
    editor, reviewer = editor_context.new_page(), reviewer_context.new_page()
    try:
        # The editor drafts a new title from the record page: the record is unchanged.
        sign_in(editor, live_server, "editor", PASSWORD)
        editor.goto(f"{live_server}/r/courses/{COURSE}")
        expect(editor.get_by_test_id("version")).to_have_text("version 1")
        editor.get_by_label("Title").fill(DRAFTED)
        editor.get_by_role("button", name="Save as draft").click()
        expect(editor.get_by_role("status").filter(has_text="Saved as draft #1")).to_be_visible()
        expect(editor.get_by_test_id("version")).to_have_text("version 1")
        expect(editor.get_by_label("Title")).to_have_value(original)
        drafts = editor.get_by_test_id("record-drafts")
        drafts.get_by_role("link", name=re.compile("Draft #1")).click()

        # On the draft page: the diff against live, then submit it for review.
        expect(editor.get_by_test_id("draft-status")).to_have_text("draft")
        diff = editor.get_by_test_id("draft-diff").locator("tr[data-field=title]")
        expect(diff).to_contain_text(original)
        expect(diff).to_contain_text(DRAFTED)
        editor.get_by_label("Comment (optional)").fill("New title for the spring catalogue.")
        editor.get_by_role("button", name="Submit for review").click()
        expect(editor.get_by_test_id("draft-status")).to_have_text("submitted")
        expect(editor.get_by_test_id("review-trail")).to_contain_text(
            "New title for the spring catalogue."
        )
        # The editor goes back to the record and waits there.
        editor.goto(f"{live_server}/r/courses/{COURSE}")
        expect(editor.get_by_label("Title")).to_have_value(original)

        # The reviewer finds it in the review queue and sees the course page side by side.
        sign_in(reviewer, live_server, "reviewer", PASSWORD)
        queue = reviewer.locator("[data-slot=review-queue]")
        queue.get_by_role("link", name=re.compile("Draft #1")).click()
        expect(reviewer.get_by_test_id("draft-status")).to_have_text("submitted")
        draft_frame = reviewer.frame_locator("iframe[title='Draft preview page']")
        live_frame = reviewer.frame_locator("iframe[title='Live page']")
        expect(draft_frame.locator("h1")).to_have_text(DRAFTED)
        expect(live_frame.locator("h1")).to_have_text(original)
        # Frozen while reviewed, and no submit for a reviewer.
        expect(reviewer.get_by_label("Title")).to_be_disabled()
        expect(reviewer.get_by_role("button", name="Submit for review")).to_have_count(0)

        reviewer.get_by_label("Comment (optional)").fill("Looks right.")
        reviewer.get_by_role("button", name="Approve").click()
        expect(reviewer.get_by_test_id("draft-status")).to_have_text("approved")
        expect(editor.get_by_test_id("toasts")).to_contain_text("approved your draft #1")
        reviewer.get_by_label("Comment (optional)").fill("Ready for the catalogue.")
        reviewer.mouse.move(0, 0)
        reviewer.screenshot(path="test-results/draft-review.png", animations="disabled")

        reviewer.get_by_role("button", name="Publish now").click()
        expect(reviewer.get_by_test_id("draft-status")).to_have_text("published")
        expect(reviewer.get_by_text(re.compile(r"Published .* as version 2"))).to_be_visible()

        # The editor's open record follows the publish live, without a reload.
        expect(editor.get_by_label("Title")).to_have_value(DRAFTED)
        expect(editor.get_by_test_id("version")).to_have_text("version 2")
        expect(editor.get_by_test_id("toasts")).to_contain_text("published your draft #1")
        expect(editor.get_by_test_id("record-drafts")).to_contain_text("No open drafts")
        assert _title(conninfo, COURSE) == DRAFTED
    finally:
        editor_context.close()
        reviewer_context.close()


def test_a_publish_conflict_shows_three_values_and_rebases(
    browser: Browser, live_server: str, conninfo: str
) -> None:
    """The live title changed after the draft was approved: publish is refused field by field."""
    original = _title(conninfo, COURSE)
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    try:
        sign_in(page, live_server, "admin", PASSWORD)
        api = page.request
        csrf = page.evaluate(
            "fetch('/api/auth/me').then(r => r.json()).then(b => b.csrf_token ?? null)"
        )
        headers = {"X-CSRF-Token": csrf} if csrf else {}
        created = api.post(
            f"{live_server}/api/r/courses/{COURSE}/drafts",
            data={"data": {"title": DRAFTED}},
            headers=headers,
        )
        assert created.status == 201, created.text()
        draft = created.json()["id"]
        for step in ("submit", "approve"):
            assert api.post(f"{live_server}/api/drafts/{draft}/{step}", headers=headers).ok
        with psycopg.connect(conninfo, autocommit=True) as conn:
            conn.execute("UPDATE courses SET title = 'Changed meanwhile' WHERE id = %s", (COURSE,))

        page.goto(f"{live_server}/drafts/{draft}")
        expect(page.get_by_test_id("draft-status")).to_have_text("approved")
        page.get_by_role("button", name="Publish now").click()
        dialog = page.get_by_role("dialog")
        expect(dialog).to_contain_text("The live record changed these fields")
        row = dialog.locator("tr[data-field=title]")
        expect(row).to_contain_text(original)
        expect(row).to_contain_text("Changed meanwhile")
        expect(row).to_contain_text(DRAFTED)
        page.screenshot(path="test-results/draft-conflict.png", animations="disabled")
        dialog.get_by_role("button", name="Rebase").click()  # keep the draft's title
        expect(page.get_by_test_id("draft-status")).to_have_text("draft")
        diff = page.get_by_test_id("draft-diff").locator("tr[data-field=title]")
        expect(diff).to_contain_text("Changed meanwhile")
        expect(diff).to_contain_text(DRAFTED)
        for button in ("Submit for review", "Approve", "Publish now"):
            page.get_by_role("button", name=button).click()
            expect(page.get_by_role("button", name=button)).to_have_count(0)
        expect(page.get_by_test_id("draft-status")).to_have_text("published")
        assert _title(conninfo, COURSE) == DRAFTED
    finally:
        context.close()


def test_a_failed_scheduled_publish_shows_its_reason_live(
    browser: Browser, live_server: str, conninfo: str
) -> None:
    context = browser.new_context()
    page = context.new_page()
    try:
        sign_in(page, live_server, "admin", PASSWORD)
        csrf = page.evaluate("fetch('/api/auth/me').then(r => r.json()).then(b => b.csrf_token)")
        headers = {"X-CSRF-Token": csrf}
        created = page.request.post(
            f"{live_server}/api/r/courses/{COURSE}/drafts",
            data={"data": {"title": DRAFTED}},
            headers=headers,
        )
        draft = created.json()["id"]
        for step in ("submit", "approve"):
            assert page.request.post(f"{live_server}/api/drafts/{draft}/{step}", headers=headers).ok
        with psycopg.connect(conninfo, autocommit=True) as conn:
            conn.execute("UPDATE courses SET title = 'Changed meanwhile' WHERE id = %s", (COURSE,))
            at = conn.execute("SELECT now() + interval '3 seconds'").fetchone()
        assert at is not None
        scheduled = page.request.post(
            f"{live_server}/api/drafts/{draft}/publish",
            data={"publish_at": at[0].isoformat()},
            headers=headers,
        )
        assert scheduled.ok, scheduled.text()

        page.goto(f"{live_server}/drafts/{draft}")
        expect(page.get_by_test_id("scheduled")).to_be_visible()
        failure = page.get_by_test_id("publish-error")
        expect(failure).to_be_visible(timeout=15_000)  # the scheduler looks every second
        expect(failure.get_by_role("button", name="Resolve and rebase…")).to_be_visible()
        expect(page.get_by_test_id("scheduled")).to_have_count(0)
        trail = page.get_by_test_id("review-trail")
        expect(trail).to_contain_text("tried to publish it; it failed")
        failure.get_by_role("button", name="Resolve and rebase…").click()
        expect(page.get_by_role("dialog").locator("tr[data-field=title]")).to_contain_text(
            "Changed meanwhile"
        )
    finally:
        context.close()
