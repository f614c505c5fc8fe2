"""The dashboard starts with the person's own work: records opened, drafts, checklists due."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
import psycopg
import pytest
from playwright.sync_api import Page, expect

from tests.conftest import PASSWORD
from tests.e2e.conftest import sign_in

pytestmark = pytest.mark.usefixtures("fresh_data")


def _rows(conninfo: str, sql: str, *params: Any) -> list[Any]:
    with psycopg.connect(conninfo) as conn:
        return conn.execute(sql, params).fetchall()


def test_recently_opened_records_and_checklists_soonest_due_first(
    page: Page, live_server: str, conninfo: str
) -> None:
    (first, first_title), (second, second_title) = _rows(
        conninfo, "SELECT id, title FROM courses WHERE deleted_at IS NULL ORDER BY id LIMIT 2"
    )
    editor_id = _rows(
        conninfo, "SELECT id FROM collabadmin.collabadmin_user WHERE username = 'editor'"
    )[0][0]
    yesterday = dt.date.today() - dt.timedelta(days=1)
    with httpx.Client(base_url=live_server) as api:
        login = api.post("/api/auth/login", json={"username": "editor", "password": PASSWORD})
        api.headers["X-CSRF-Token"] = login.json()["csrf_token"]
        for course, due in ((first, None), (second, yesterday.isoformat())):
            started = api.post(
                "/api/workflows/launch-course/runs",
                json={"subject": {"resource": "courses", "pk": course}, "assignee": editor_id}
                | ({"due_date": due} if due else {}),
            )
            assert started.status_code == 201, started.text

    sign_in(page, live_server, "editor", PASSWORD)
    page.goto(f"{live_server}/")
    recent = page.get_by_role("region", name="Recently opened")
    expect(recent).to_contain_text("Records you open will be listed here.")

    for course in (first, second):
        page.goto(f"{live_server}/r/courses/{course}")
        expect(page.get_by_role("heading", level=1)).to_be_visible()
    page.goto(f"{live_server}/")
    items = page.get_by_test_id("recent-records").get_by_role("listitem")
    expect(items).to_have_count(2)
    expect(items.nth(0)).to_contain_text(second_title)
    expect(items.nth(1)).to_contain_text(first_title)

    checklists = page.get_by_role("region", name="My checklists").get_by_role("listitem")
    expect(checklists).to_have_count(2)
    # The overdue one first, saying so; the undated one after it.
    expect(checklists.nth(0)).to_contain_text(f"#{second}")
    expect(checklists.nth(0)).to_contain_text(f"overdue since {yesterday.isoformat()}")
    expect(checklists.nth(1)).to_contain_text(f"#{first}")
    page.screenshot(path="test-results/dashboard.png", full_page=True, animations="disabled")

    items.nth(1).get_by_role("link").click()
    expect(page).to_have_url(f"{live_server}/r/courses/{first}")
