"""The launch-course checklist in the browser: steps tick live as the data changes."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import psycopg
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.conftest import PASSWORD
from tests.e2e.conftest import DERIVED, sign_in

pytestmark = pytest.mark.usefixtures("fresh_data")

COURSE = 9


@pytest.fixture
def editor_api(live_server: str) -> Iterator[httpx.Client]:
    client = httpx.Client(base_url=live_server)
    body = client.post("/api/auth/login", json={"username": "editor", "password": PASSWORD})
    body.raise_for_status()
    client.headers["X-CSRF-Token"] = body.json()["csrf_token"]
    yield client
    client.close()


def _patch_course(api: httpx.Client, changes: dict[str, object]) -> None:
    version = api.get(f"/api/r/courses/{COURSE}").json()["_version"]
    response = api.patch(
        f"/api/r/courses/{COURSE}", json=changes, headers={"X-Base-Version": str(version)}
    )
    assert response.status_code == 200, response.text


def test_checklist_ticks_live_as_the_course_changes(
    page: Page, live_server: str, editor_api: httpx.Client, conninfo: str
) -> None:
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(
            "UPDATE courses SET description = '', status = 'draft' WHERE id = %s", (COURSE,)
        )
        conn.execute("UPDATE sessions SET deleted_at = now() WHERE course_id = %s", (COURSE,))
    page.set_viewport_size({"width": 1300, "height": 900})
    sign_in(page, live_server, "editor", PASSWORD)
    page.goto(f"{live_server}/r/courses/{COURSE}")
    page.get_by_role("button", name="Start checklist: Launch a course").click()
    expect(page).to_have_url(re.compile(r"/workflow-runs/\d+$"))
    run_id = page.url.rsplit("/", 1)[1]

    description = page.get_by_label("Description written")
    status_open = page.get_by_label("Status set to open")
    announcement = page.get_by_label("Announcement sent")
    expect(description).not_to_be_checked()
    expect(status_open).not_to_be_checked()
    expect(description).to_have_attribute("aria-readonly", "true")  # follows the data
    progress = page.get_by_test_id("run-progress")
    before = int(progress.inner_text().split()[0])

    # Someone else writes the description, then opens the course: the steps tick live.
    _patch_course(editor_api, {"description": "Contracts, torts and the law of obligations."})
    expect(description).to_be_checked(timeout=DERIVED)
    expect(page.locator("li[data-step=description]")).to_have_class(re.compile("flash"))
    expect(progress).to_have_text(f"{before + 1} of 6 done")
    _patch_course(editor_api, {"status": "open"})
    expect(status_open).to_be_checked(timeout=DERIVED)
    expect(progress).to_have_text(f"{before + 2} of 6 done")

    # The manual step is ticked by hand, and stays ticked after a reload.
    announcement.check()
    expect(announcement).to_be_checked()
    expect(progress).to_have_text(f"{before + 3} of 6 done")
    expect(page.locator("li[data-step=announcement]")).to_contain_text("ticked by Editor")
    page.screenshot(path="test-results/checklist.png", full_page=True, animations="disabled")
    page.reload()
    expect(page.get_by_label("Announcement sent")).to_be_checked()
    run = editor_api.get(f"/api/workflow-runs/{run_id}").json()
    assert run["progress"]["done"] == before + 3

    # Without a session yet, that step links to the sessions list filtered to the course:
    # the filter stays in the address (a link to that list) and names the course.
    title = editor_api.get(f"/api/r/courses/{COURSE}").json()["title"]
    page.locator("li[data-step=session-open]").get_by_role("link", name="Find sessions").click()
    expect(page).to_have_url(re.compile(rf"/r/sessions\?filter\[course_id\]\[eq\]={COURSE}$"))
    expect(page.get_by_role("combobox", name="Filter Course")).to_have_value(title)
    page.go_back()

    # A step's link opens the record with its field focused.
    page.locator("li[data-step=start-date]").get_by_role("link").click()
    expect(page).to_have_url(re.compile(rf"/r/courses/{COURSE}\?field=start_date$"))
    expect(page.get_by_label("Start date")).to_be_focused()
    # The record page links back to its checklist; a second start is not offered.
    checklists = page.get_by_test_id("record-workflows")
    expect(checklists).to_contain_text(f"{before + 3} of 6 done")
    expect(checklists.get_by_role("button")).to_have_count(0)


def test_dashboard_lists_my_drafts_review_queue_and_checklists(
    page: Page, browser: Browser, live_server: str, editor_api: httpx.Client
) -> None:
    created = editor_api.post(f"/api/r/courses/{COURSE}/drafts", json={"data": {"title": "T"}})
    assert created.status_code == 201, created.text
    draft = created.json()["id"]
    run = editor_api.post(
        "/api/workflows/launch-course/runs", json={"subject": {"resource": "courses", "pk": COURSE}}
    )
    assert run.status_code == 201, run.text
    sign_in(page, live_server, "editor", PASSWORD)
    mine = page.locator("[data-slot=my-drafts]")
    expect(mine).to_contain_text(f"Draft #{draft}")
    expect(page.locator("[data-slot=review-queue]")).to_have_count(0)  # editors do not review
    expect(page.locator("[data-slot=my-workflow-runs]")).to_contain_text("Launch a course")

    # A second start of the same checklist links to the running one.
    page.goto(f"{live_server}/workflow-runs?status=open&mine=true")
    expect(page.get_by_test_id("workflow-runs")).to_contain_text(f"Course #{COURSE}")
    again = editor_api.post(
        "/api/workflows/launch-course/runs", json={"subject": {"resource": "courses", "pk": COURSE}}
    )
    assert again.status_code == 409
    assert again.json()["run_id"] == run.json()["id"]

    reviewer_context = browser.new_context()
    reviewer = reviewer_context.new_page()
    try:
        sign_in(reviewer, live_server, "reviewer", PASSWORD)
        queue = reviewer.locator("[data-slot=review-queue]")
        expect(queue).to_contain_text("Nothing is waiting for review")
        # The editor submits: the reviewer's queue follows without a reload.
        assert editor_api.post(f"/api/drafts/{draft}/submit").status_code == 200
        expect(queue).to_contain_text(f"Draft #{draft}")
        reviewer.get_by_role("navigation", name="Tools").get_by_role(
            "link", name="Review queue"
        ).click()
        expect(reviewer.get_by_role("heading", name="Review queue")).to_be_visible()
        expect(reviewer.get_by_test_id("drafts")).to_contain_text(f"Draft #{draft}")
    finally:
        reviewer_context.close()
