"""Record actions in a real browser: one person opens enrollment, another watches it happen."""

from __future__ import annotations

import datetime as dt

import pytest
from playwright.sync_api import Browser, expect

from tests.conftest import PASSWORD
from tests.e2e.conftest import sign_in
from tests.resources.record_action_helpers import add_course, sessions_of, today

pytestmark = pytest.mark.usefixtures("fresh_data")


def test_open_enrollment_while_another_browser_watches_the_sessions_appear(
    browser: Browser, live_server: str, conninfo: str
) -> None:
    start = today(conninfo) + dt.timedelta(days=14)
    course = add_course(conninfo, status="draft", start_date=start)
    runner_context, watcher_context = browser.new_context(), browser.new_context()
    runner, watcher = runner_context.new_page(), watcher_context.new_page()
    try:
        sign_in(runner, live_server, "editor", PASSWORD)
        sign_in(watcher, live_server, "admin", PASSWORD)
        # The second person watches the course's sessions (a list filtered by course).
        watcher.goto(f"{live_server}/r/sessions?filter[course_id][eq]={course}")
        expect(watcher.get_by_text("Nothing matches these filters.")).to_be_visible()

        runner.goto(f"{live_server}/r/courses/{course}")
        expect(runner.get_by_test_id("version")).to_have_text("version 1")
        actions = runner.get_by_role("group", name="Actions")
        expect(actions.get_by_role("button")).to_have_text(["Open enrollment", "Close course"])
        actions.get_by_role("button", name="Open enrollment").click()
        question = runner.get_by_role("alertdialog")
        expect(question).to_contain_text("Open enrollment on this course's next session?")
        runner.screenshot(path="test-results/record-action-confirm.png", animations="disabled")
        question.get_by_role("button", name="Open enrollment").click()

        expect(runner.get_by_test_id("toasts")).to_contain_text("Open enrollment: done.")
        expect(runner.get_by_test_id("version")).to_have_text("version 2")
        expect(runner.get_by_label("Status")).to_have_value("open")
        # Enrollment is open now: only closing is offered.
        expect(actions.get_by_role("button")).to_have_text(["Close course"])

        # The new session appears in the other browser, live, with enrollment open.
        [session] = sessions_of(conninfo, course)
        row = watcher.locator(f"tbody tr[data-pk='{session['id']}']")
        expect(row).to_contain_text(start.isoformat())
        expect(row).to_contain_text("Yes")
        watcher.screenshot(path="test-results/record-action-watched.png", animations="disabled")

        # Closing the course closes enrollment: the watched row follows.
        actions.get_by_role("button", name="Close course").click()
        runner.get_by_role("alertdialog").get_by_role("button", name="Close course").click()
        expect(runner.get_by_label("Status")).to_have_value("closed")
        expect(runner.get_by_role("group", name="Actions")).to_have_count(0)
        expect(row).to_contain_text("No")
        runner.screenshot(path="test-results/record-actions.png", animations="disabled")
    finally:
        runner_context.close()
        watcher_context.close()


def test_an_action_on_a_version_someone_changed_shows_what_changed(
    browser: Browser, live_server: str, conninfo: str
) -> None:
    course = add_course(conninfo, status="open")
    alice_context, bob_context = browser.new_context(), browser.new_context()
    alice, bob = alice_context.new_page(), bob_context.new_page()
    bob.route_web_socket("**/api/ws", lambda ws: None)  # Bob's page hears nothing live
    try:
        sign_in(alice, live_server, "editor", PASSWORD)
        sign_in(bob, live_server, "admin", PASSWORD)
        for page in (alice, bob):
            page.goto(f"{live_server}/r/courses/{course}")
            expect(page.get_by_test_id("version")).to_have_text("version 1")
        alice.get_by_label("Status").select_option("draft")
        alice.get_by_role("button", name="Save", exact=True).click()
        expect(alice.get_by_test_id("version")).to_have_text("version 2")

        bob.get_by_role("group", name="Actions").get_by_role("button", name="Close course").click()
        bob.get_by_role("alertdialog").get_by_role("button", name="Close course").click()
        refused = bob.get_by_role("alertdialog", name="“Close course” did not go through")
        row = refused.locator("tr[data-field=status]")
        expect(row.locator("td")).to_have_text(["open", "draft"])
        refused.get_by_role("button", name="OK").click()
        # Bob now sees the course as it is, and nothing was closed.
        expect(bob.get_by_test_id("version")).to_have_text("version 2")
        expect(bob.get_by_label("Status")).to_have_value("draft")
        assert [s["enrollment_open"] for s in sessions_of(conninfo, course)] == []
    finally:
        alice_context.close()
        bob_context.close()
