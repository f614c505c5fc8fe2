"""Row selection and bulk edit in the browser: three rows chosen, their status set at once.

Someone else changes one of them while the form is open: that row comes back as
a conflict (base / theirs / yours) instead of being overwritten, the form keeps
what was chosen when the change arrives live, and *Keep mine* writes it on
top of the other person's version. Checked against the change log.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import psycopg
import pytest
from playwright.sync_api import Browser, expect

from tests.conftest import PASSWORD
from tests.e2e.conftest import sign_in

pytestmark = pytest.mark.usefixtures("fresh_data")

DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


class Api:
    """Someone else, through the HTTP API."""

    def __init__(self, base: str, username: str) -> None:
        self.client = httpx.Client(base_url=base)
        body = self.client.post(
            "/api/auth/login", json={"username": username, "password": PASSWORD}
        )
        body.raise_for_status()
        self.client.headers["X-CSRF-Token"] = body.json()["csrf_token"]

    def patch(self, pk: str, changes: dict[str, Any]) -> None:
        version = self.client.get(f"/api/r/courses/{pk}").json()["_version"]
        response = self.client.patch(
            f"/api/r/courses/{pk}", json=changes, headers={"X-Base-Version": str(version)}
        )
        assert response.status_code == 200, response.text


@pytest.fixture
def admin_api(live_server: str) -> Iterator[Api]:
    api = Api(live_server, "admin")
    yield api
    api.client.close()


def _rows(conninfo: str, sql: str, *params: Any) -> list[Any]:
    with psycopg.connect(conninfo) as conn:
        return conn.execute(sql, params).fetchall()


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_bulk_edit_reports_a_conflict_and_keeps_mine(
    browser: Browser, live_server: str, conninfo: str, admin_api: Api, viewport: dict[str, int]
) -> None:
    phone = viewport == PHONE
    # Three courses not closed, in the list's order (by title).
    chosen = _rows(
        conninfo,
        "SELECT id::text, title, status FROM courses WHERE deleted_at IS NULL"
        " AND status <> 'closed' ORDER BY title, id LIMIT 3",
    )
    context = browser.new_context(viewport=viewport)  # type: ignore[arg-type]
    page = context.new_page()
    try:
        sign_in(page, live_server, "editor", PASSWORD)
        page.goto(f"{live_server}/r/courses?sort=title&filter[status][ne]=closed")
        expect(page.get_by_test_id("total")).not_to_have_text("")
        for _, title, _ in chosen:
            page.get_by_role("checkbox", name=f"Choose {title}", exact=True).check()
        expect(page.get_by_test_id("selected-count")).to_have_text("3 selected")
        row_sel = ".record-card" if phone else "tbody tr"
        for pk, _, _ in chosen:
            expect(page.locator(f"{row_sel}[data-pk='{pk}']")).to_have_class(re.compile("chosen"))

        page.screenshot(
            path=f"docs/screenshots/bulk-selection{'-phone' if phone else ''}.png",
            animations="disabled",
        )
        page.get_by_role("button", name="Edit fields…").click()
        dialog = page.get_by_role("dialog", name="Edit 3 courses")
        dialog.get_by_role("checkbox", name="Status").check()
        dialog.locator("#bulk-status").select_option("closed")

        # Someone else changes the second one's status while the form is open.
        other_pk, other_title, other_status = chosen[1]
        theirs = "open" if other_status == "draft" else "draft"
        admin_api.patch(other_pk, {"status": theirs})
        # The change arrives live in the list behind the form (the row flashes) ...
        expect(page.locator(f"{row_sel}[data-pk='{other_pk}']")).to_contain_text(theirs)
        # ... and the form keeps what was chosen, the row stays chosen.
        expect(dialog.locator("#bulk-status")).to_have_value("closed")
        expect(dialog.get_by_role("checkbox", name="Status")).to_be_checked()
        expect(page.get_by_test_id("selected-count")).to_have_text("3 selected")

        dialog.get_by_role("button", name="Apply to 3 courses").click()
        outcome = page.get_by_role("dialog", name="Some records need you")
        conflict = outcome.get_by_role("article", name=other_title)
        expect(conflict.locator("tr[data-field='status'] td")).to_have_text(
            [other_status, theirs, "closed"]
        )
        expect(outcome.locator("[data-outcome='done'] dt")).to_have_text("Done (2)")
        page.screenshot(
            path=f"docs/screenshots/bulk-conflict{'-phone' if phone else ''}.png",
            animations="disabled",
        )
        assert _rows(conninfo, "SELECT status FROM courses WHERE id = %s", int(other_pk)) == [
            (theirs,)
        ]

        conflict.get_by_role("button", name="Keep mine").click()
        expect(page.get_by_role("dialog", name="Done")).to_be_visible()
        expect(page.locator("[data-outcome='done'] dt")).to_have_text("Done (3)")
        page.get_by_role("button", name="Close", exact=True).click()
        expect(page.get_by_test_id("selected-count")).to_have_count(0)

        statuses = _rows(
            conninfo,
            "SELECT status FROM courses WHERE id = ANY(%s)",
            [int(pk) for pk, _, _ in chosen],
        )
        assert statuses == [("closed",)] * 3
        # The other person's change is in the log, then ours on top of it, never lost.
        log = _rows(
            conninfo,
            "SELECT source, diff->'status'->>'new' FROM collabadmin.collabadmin_change"
            " WHERE resource = 'courses' AND pk = %s AND diff ? 'status' ORDER BY id DESC LIMIT 2",
            other_pk,
        )
        assert log == [("bulk", "closed"), ("api", theirs)]
    finally:
        context.close()


def test_all_matching_rows_are_changed_as_a_job_followed_to_its_outcome(
    browser: Browser, live_server: str, conninfo: str
) -> None:
    where = "deleted_at IS NULL"
    matching = _rows(conninfo, f"SELECT count(*) FROM courses WHERE {where}")[0][0]
    assert matching > 50  # more than the first page loads
    context = browser.new_context(viewport=DESKTOP)  # type: ignore[arg-type]
    page = context.new_page()
    try:
        sign_in(page, live_server, "editor", PASSWORD)
        page.goto(f"{live_server}/r/courses?sort=title")
        expect(page.get_by_test_id("total")).to_have_text(f"{matching} records")
        expect(page.locator("tbody tr")).to_have_count(50)
        page.get_by_role("checkbox", name="Choose all loaded courses").check()
        page.get_by_role("button", name=f"Select all {matching} matching").click()
        expect(page.get_by_test_id("selected-count")).to_have_text(f"All {matching} matching")
        page.get_by_role("button", name="Edit fields…").click()
        dialog = page.get_by_role("dialog", name=f"Edit {matching} courses")
        dialog.get_by_role("checkbox", name="Description").check()
        dialog.locator("#bulk-description").fill("Set for every match")
        dialog.get_by_role("button", name=f"Apply to {matching} courses").click()
        # A filter runs as a job: its frames end in the outcome.
        outcome = page.get_by_role("dialog", name="Done")
        expect(outcome.locator("[data-outcome='done'] dt")).to_have_text(f"Done ({matching})")
        described = _rows(
            conninfo,
            f"SELECT count(*) FROM courses WHERE {where} AND description = 'Set for every match'",
        )[0][0]
        assert described == matching
    finally:
        context.close()
