"""A list's views as tabs: the user's own and the shared ones, the active one in the address.

Choosing a shared view survives a reload, leaves the user's own settings as
they were, and its creator can update it for everyone from what the list shows.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.conftest import PASSWORD
from tests.e2e.conftest import sign_in

pytestmark = pytest.mark.usefixtures("fresh_data")

DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
SCREENSHOTS = "docs/screenshots"


class Api:
    def __init__(self, base: str, username: str) -> None:
        self.client = httpx.Client(base_url=base)
        body = self.client.post(
            "/api/auth/login", json={"username": username, "password": PASSWORD}
        )
        body.raise_for_status()
        self.client.headers["X-CSRF-Token"] = body.json()["csrf_token"]

    def get(self, path: str) -> Any:
        response = self.client.get(path)
        assert response.status_code == 200, response.text
        return response.json()


@pytest.fixture
def editor_api(live_server: str) -> Iterator[Api]:
    api = Api(live_server, "editor")
    yield api
    api.client.close()


def _prefs_saved(page: Page) -> Any:
    return page.expect_response(
        lambda r: "/api/prefs/views/courses" in r.url and r.request.method == "PUT" and r.ok
    )


def _share(api: Api) -> dict[str, Any]:
    view = {
        "name": "Closed by title",
        "columns": [{"field": "title"}, {"field": "status", "format": "badge"}],
        "sort": "title",
        "filters": [{"field": "status", "op": "eq", "value": "closed"}],
    }
    response = api.client.post("/api/views/courses", json=view)
    assert response.status_code == 201, response.text
    return dict(response.json())


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_a_shared_view_is_a_tab_that_survives_a_reload_and_is_updated_by_its_creator(
    browser: Browser, live_server: str, editor_api: Api, viewport: dict[str, int]
) -> None:
    view = _share(editor_api)
    phone = viewport == PHONE
    context = browser.new_context(viewport=viewport)  # type: ignore[arg-type]
    page = context.new_page()
    try:
        sign_in(page, live_server, "editor", PASSWORD)
        page.goto(f"{live_server}/r/courses")
        expect(page.get_by_test_id("total")).to_have_text("60 records")
        mine = page.get_by_role("tab", name="My view")
        shared = page.get_by_role("tab", name="Closed by title (shared)")
        expect(mine).to_have_attribute("aria-selected", "true")
        # The user's own settings: open courses.
        if phone:
            page.get_by_role("button", name="Filters").click()
        with _prefs_saved(page):
            page.get_by_label("Filter Status").select_option("open")
        expect(page).to_have_url(re.compile(r"filter\[status\]\[eq\]=open"))
        own = editor_api.get("/api/prefs/views/courses")
        assert own["filters"] == [{"field": "status", "op": "eq", "value": "open"}]

        shared.click()
        expect(shared).to_have_attribute("aria-selected", "true")
        expect(page).to_have_url(re.compile(rf"\?view={view['id']}&sort=title&"))
        expect(page.get_by_label("Filter Status")).to_have_value("closed")
        expect(page.get_by_test_id("view-modified")).to_have_count(0)
        page.reload()
        expect(page.get_by_role("tab", name="Closed by title (shared)")).to_have_attribute(
            "aria-selected", "true"
        )
        if phone:
            page.get_by_role("button", name="Filters").click()
        expect(page.get_by_label("Filter Status")).to_have_value("closed")
        if not phone:
            # The view's columns, not the user's own.
            expect(page.get_by_role("columnheader", name=re.compile("^Title"))).to_be_visible()
            start = page.get_by_role("columnheader", name=re.compile("^Start date"))
            expect(start).to_have_count(0)

        # Changing what the view shows saves nothing of the user's own.
        page.get_by_label("Filter Status").select_option("draft")
        expect(page.get_by_test_id("view-modified")).to_be_visible()
        expect(page).to_have_url(re.compile(r"filter\[status\]\[eq\]=draft"))
        assert editor_api.get("/api/prefs/views/courses")["filters"] == own["filters"]
        if phone:
            page.screenshot(path=f"{SCREENSHOTS}/view-tabs-phone.png", animations="disabled")
        else:
            page.screenshot(path=f"{SCREENSHOTS}/view-tabs.png", animations="disabled")

        # Its creator updates it for everyone.
        page.get_by_role("button", name="Update view").click()
        expect(page.get_by_test_id("toasts")).to_contain_text("Updated the view “Closed by title”")
        expect(page.get_by_test_id("view-modified")).to_have_count(0)
        stored = editor_api.get("/api/views/courses")["items"]
        draft = {"field": "status", "op": "eq", "value": "draft"}
        assert [v["filters"] for v in stored] == [[draft]]

        # Back to the user's own view: their settings, as they were.
        page.get_by_role("tab", name="My view").click()
        expect(page).not_to_have_url(re.compile("view="))
        expect(page.get_by_label("Filter Status")).to_have_value("open")
        assert editor_api.get("/api/prefs/views/courses")["filters"] == own["filters"]
    finally:
        context.close()
