"""course_overview in the browser: the course page's figures and the overview list move live."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import psycopg
import pytest
from playwright.sync_api import Page, expect

from tests.conftest import PASSWORD
from tests.e2e.conftest import DERIVED, sign_in

pytestmark = pytest.mark.usefixtures("fresh_data")

COURSE = 11


@pytest.fixture
def editor_api(live_server: str) -> Iterator[httpx.Client]:
    client = httpx.Client(base_url=live_server)
    body = client.post("/api/auth/login", json={"username": "editor", "password": PASSWORD})
    body.raise_for_status()
    client.headers["X-CSRF-Token"] = body.json()["csrf_token"]
    yield client
    client.close()


def test_the_course_page_shows_its_overview_moving_live(
    page: Page, live_server: str, editor_api: httpx.Client
) -> None:
    before = editor_api.get(f"/api/r/course_overview/{COURSE}").json()
    sign_in(page, live_server, "viewer", PASSWORD)
    page.goto(f"{live_server}/r/courses/{COURSE}")
    panel = page.get_by_test_id("overview-course_overview")
    expect(panel.get_by_role("heading", name="Course overview")).to_be_visible()
    sessions = panel.locator("[data-field=sessions] dd")
    expect(sessions).to_have_text(str(before["sessions"]))

    # Someone else adds an open session: the page was not reloaded.
    created = editor_api.post(
        "/api/r/sessions",
        json={
            "course_id": COURSE,
            "starts_on": "2031-02-01",
            "ends_on": "2031-02-02",
            "enrollment_open": True,
        },
    )
    assert created.status_code == 201, created.text
    expect(sessions).to_have_text(str(before["sessions"] + 1), timeout=DERIVED)
    expect(panel.locator("[data-field=open_sessions] dd")).to_have_text(
        str(before["open_sessions"] + 1), timeout=DERIVED
    )
    expect(panel.locator("[data-field=sessions]")).to_have_class(re.compile("flash"))
    page.screenshot(path="test-results/course-overview.png", full_page=True, animations="disabled")


def test_the_overview_list_counts_follow_a_psql_insert(
    page: Page, live_server: str, editor_api: httpx.Client, conninfo: str
) -> None:
    before = editor_api.get(f"/api/r/course_overview/{COURSE}").json()
    sign_in(page, live_server, "editor", PASSWORD)
    page.goto(f"{live_server}/r/course_overview?sort=id")
    row = page.locator(f"tr[data-pk='{COURSE}']")
    expect(row).to_contain_text(before["title"])
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO course_instructors (course_id, instructor_id)"
            " SELECT %s, i.id FROM instructors i WHERE NOT EXISTS (SELECT 1 FROM"
            " course_instructors ci WHERE ci.course_id = %s AND ci.instructor_id = i.id"
            " AND ci.deleted_at IS NULL) ORDER BY i.id LIMIT 1",
            (COURSE, COURSE),
        )
    headers = [h.strip() for h in page.locator("thead tr").first.locator("th").all_inner_texts()]
    column = next(i for i, h in enumerate(headers) if h.startswith("Instructors"))
    expect(row.locator("td").nth(column)).to_have_text(
        str(before["instructors"] + 1), timeout=DERIVED
    )
    expect(row).to_have_class(re.compile("flash"))


def test_the_dashboard_figures_follow_a_status_change(
    page: Page, live_server: str, editor_api: httpx.Client
) -> None:
    figures = {r["status"]: r for r in editor_api.get("/api/r/catalogue_figures").json()["items"]}
    course = editor_api.get(f"/api/r/courses/{COURSE}").json()
    new = "closed" if course["status"] != "closed" else "open"
    sign_in(page, live_server, "viewer", PASSWORD)
    card = page.locator("[data-slot=figures-catalogue_figures]")
    expect(card.get_by_role("link", name="Catalogue figures")).to_be_visible()
    row = card.locator(f"tr[data-pk={new}]")
    if new in figures:
        expect(row.locator("td").nth(1)).to_have_text(str(figures[new]["courses"]))
    response = editor_api.patch(
        f"/api/r/courses/{COURSE}",
        json={"status": new},
        headers={"X-Base-Version": str(course["_version"])},
    )
    assert response.status_code == 200, response.text
    expect(row.locator("td").nth(1)).to_have_text(
        str(figures.get(new, {"courses": 0})["courses"] + 1), timeout=DERIVED
    )
    page.screenshot(
        path="test-results/dashboard-figures.png", full_page=True, animations="disabled"
    )
