"""No lost work in the browser: conflict choices, failed saves, publish conflicts, datetimes."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import httpx
import psycopg
import pytest
from playwright.sync_api import Browser, Page, Route, WebSocketRoute, expect

from tests.conftest import PASSWORD
from tests.e2e.conftest import sign_in

pytestmark = pytest.mark.usefixtures("fresh_data")

DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


class Api:
    """One signed-in user's API client, as another person's tab or script would be."""

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

    def post(self, path: str, body: dict[str, Any], status: int = 200) -> Any:
        response = self.client.post(path, json=body)
        assert response.status_code == status, response.text
        return response.json()

    def patch(self, path: str, changes: dict[str, Any], version: int) -> Any:
        response = self.client.patch(path, json=changes, headers={"X-Base-Version": str(version)})
        assert response.status_code == 200, response.text
        return response.json()


@pytest.fixture
def api(live_server: str) -> Iterator[dict[str, Api]]:
    clients = {name: Api(live_server, name) for name in ("editor", "reviewer", "admin")}
    yield clients
    for client in clients.values():
        client.client.close()


class HeldChanges:
    """A page's websocket through a relay that can hold back record change frames."""

    def __init__(self) -> None:
        self.holding = True

    def relay(self, ws: WebSocketRoute) -> None:
        server = ws.connect_to_server()

        def to_page(message: str | bytes) -> None:
            frame = json.loads(message)
            if self.holding and frame.get("type") == "change":
                return  # this tab has not heard of the other save (yet)
            ws.send(message)

        server.on_message(to_page)


def test_conflict_choice_survives_a_live_frame_arriving_mid_choice(
    browser: Browser, live_server: str, api: dict[str, Api]
) -> None:
    """Pick "Theirs", let another's presence and change frames re-render, Apply: theirs stays."""
    course = 9
    bob_context = browser.new_context(viewport=DESKTOP)
    alice_context = browser.new_context(viewport=DESKTOP)
    bob, alice = bob_context.new_page(), alice_context.new_page()
    socket = HeldChanges()
    bob.route_web_socket(re.compile(r".*/api/ws$"), socket.relay)
    try:
        sign_in(bob, live_server, "editor", PASSWORD)
        bob.goto(f"{live_server}/r/courses/{course}")
        expect(bob.get_by_test_id("version")).to_have_text("version 1")
        # Someone else saves a new title; Bob's tab does not hear of it before he saves.
        api["admin"].patch(f"/api/r/courses/{course}", {"title": "Their title"}, version=1)
        bob.get_by_label("Title").fill("Bob's title")
        bob.get_by_label("Description").fill("Bob's description")
        bob.get_by_role("button", name="Save", exact=True).click()
        dialog = bob.get_by_role("dialog")
        expect(dialog.locator("tr[data-field=title]")).to_contain_text("Their title")
        keep_title = dialog.get_by_label("Keep which value of Title")
        keep_title.select_option("theirs")

        # Live frames arrive while the dialog is open: Alice's presence, then her next save.
        socket.holding = False
        sign_in(alice, live_server, "admin", PASSWORD)
        alice.goto(f"{live_server}/r/courses/{course}")
        expect(bob.get_by_test_id("presence")).to_contain_text("Admin")
        api["admin"].patch(f"/api/r/courses/{course}", {"status": "open"}, version=2)
        expect(bob.get_by_test_id("version")).to_have_text("version 3")
        expect(keep_title).to_have_value("theirs")
        bob.screenshot(path="test-results/conflict-dialog-desktop.png", animations="disabled")
        bob.set_viewport_size(PHONE)
        bob.screenshot(path="test-results/conflict-dialog-phone.png", animations="disabled")
        bob.set_viewport_size(DESKTOP)

        dialog.get_by_role("button", name="Apply").click()
        expect(bob.get_by_role("status").filter(has_text="Saved")).to_be_visible()
        saved = api["editor"].get(f"/api/r/courses/{course}")
        assert saved["title"] == "Their title"  # the choice, not "Mine"
        assert saved["description"] == "Bob's description"
        assert saved["status"] == "open"
        expect(bob.get_by_label("Title")).to_have_value("Their title")
    finally:
        bob_context.close()
        alice_context.close()


def test_a_save_that_fails_on_the_network_says_not_saved_and_retries(
    browser: Browser, live_server: str, api: dict[str, Api]
) -> None:
    course = 12
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    offline = {"on": True}

    def patches(route: Route) -> None:
        if route.request.method == "PATCH" and offline["on"]:
            route.abort("internetdisconnected")
        else:
            route.continue_()

    try:
        sign_in(page, live_server, "editor", PASSWORD)
        page.route(f"**/api/r/courses/{course}", patches)
        page.goto(f"{live_server}/r/courses/{course}")
        expect(page.get_by_test_id("version")).to_have_text("version 1")
        page.get_by_label("Title").fill("Written on a train")
        page.get_by_role("button", name="Save", exact=True).click()

        failed = page.get_by_test_id("not-saved")
        expect(failed).to_contain_text("Not saved.")
        expect(failed).to_contain_text("could not be reached")
        expect(page.get_by_label("Title")).to_have_value("Written on a train")
        expect(page.get_by_role("button", name="Save", exact=True)).to_be_enabled()
        assert api["editor"].get(f"/api/r/courses/{course}")["_version"] == 1
        page.screenshot(path="test-results/not-saved-desktop.png", animations="disabled")
        page.set_viewport_size(PHONE)
        failed.scroll_into_view_if_needed()
        page.screenshot(path="test-results/not-saved-phone.png", animations="disabled")
        page.set_viewport_size(DESKTOP)

        offline["on"] = False
        failed.get_by_role("button", name="Retry").click()
        expect(page.get_by_role("status").filter(has_text="Saved (version 2)")).to_be_visible()
        expect(page.get_by_test_id("not-saved")).to_have_count(0)
        assert api["editor"].get(f"/api/r/courses/{course}")["title"] == "Written on a train"
    finally:
        context.close()


def test_a_check_constraint_shows_in_the_form(page: Page, live_server: str, conninfo: str) -> None:
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(
            "ALTER TABLE courses ADD CONSTRAINT courses_title_not_shouting"
            " CHECK (title <> upper(title)) NOT VALID"
        )
    try:
        sign_in(page, live_server, "editor", PASSWORD)
        page.goto(f"{live_server}/r/courses/14")
        page.get_by_label("Title").fill("SHOUTING")
        page.get_by_role("button", name="Save", exact=True).click()
        banner = page.get_by_test_id("form-errors")
        expect(banner).to_contain_text("courses_title_not_shouting")
        expect(page.get_by_label("Title")).to_have_value("SHOUTING")
    finally:
        with psycopg.connect(conninfo, autocommit=True) as conn:
            conn.execute("ALTER TABLE courses DROP CONSTRAINT courses_title_not_shouting")


def test_publish_now_conflict_reaches_the_author_with_the_rebase(
    browser: Browser, live_server: str, api: dict[str, Api]
) -> None:
    course = 13
    draft = api["editor"].post(
        f"/api/r/courses/{course}/drafts", {"data": {"title": "Draft title"}}, status=201
    )
    api["editor"].post(f"/api/drafts/{draft['id']}/submit", {})
    api["reviewer"].post(f"/api/drafts/{draft['id']}/approve", {})
    live = api["admin"].patch(f"/api/r/courses/{course}", {"title": "Live title"}, version=1)

    author_context = browser.new_context(viewport=DESKTOP)
    reviewer_context = browser.new_context(viewport=DESKTOP)
    author, reviewer = author_context.new_page(), reviewer_context.new_page()
    try:
        sign_in(author, live_server, "editor", PASSWORD)
        author.goto(f"{live_server}/drafts/{draft['id']}")
        expect(author.get_by_test_id("draft-status")).to_have_text("approved")
        expect(author.get_by_test_id("publish-error")).to_have_count(0)

        sign_in(reviewer, live_server, "reviewer", PASSWORD)
        reviewer.goto(f"{live_server}/drafts/{draft['id']}")
        reviewer.get_by_role("button", name="Publish now").click()
        shown = reviewer.get_by_role("dialog")
        expect(shown.locator("tr[data-field=title]")).to_contain_text("Live title")
        expect(shown).to_contain_text("Its author, or an editor, must rebase it")
        shown.get_by_role("button", name="Close").click()

        # The author is told (not "edited"), and the draft page offers the rebase.
        toasts = author.get_by_test_id("toasts")
        expect(toasts).to_contain_text(f"could not publish your draft #{draft['id']}")
        failure = author.get_by_test_id("publish-error")
        expect(failure).to_contain_text("could not be published")
        author.screenshot(
            path="test-results/publish-failed-author.png", full_page=True, animations="disabled"
        )
        failure.get_by_role("button", name="Resolve and rebase…").click()
        dialog = author.get_by_role("dialog")
        expect(dialog.locator("tr[data-field=title]")).to_contain_text("Draft title")
        dialog.get_by_label("Keep which value of Title").select_option("mine")
        dialog.get_by_role("button", name="Rebase").click()
        expect(author.get_by_test_id("draft-status")).to_have_text("draft")
        expect(author.get_by_test_id("publish-error")).to_have_count(0)

        rebased = api["editor"].get(f"/api/drafts/{draft['id']}")
        assert rebased["status"] == "draft"
        assert rebased["base_version"] == live["_version"]
        assert rebased["publish_error"] is None
        assert rebased["data"] == {"title": "Draft title"}
    finally:
        author_context.close()
        reviewer_context.close()


def test_a_timestamptz_field_shows_and_saves_in_the_browsers_zone(
    browser: Browser, live_server: str
) -> None:
    """The demo has no timestamptz column: the record and its meta gain one on the way in."""
    course = 15
    context = browser.new_context(viewport=DESKTOP, timezone_id="Europe/Paris")
    page = context.new_page()
    sent: list[dict[str, Any]] = []
    stored = {"opens_at": "2026-11-30T17:00:00+00:00"}

    def with_opens_at(route: Route) -> None:
        request = route.request
        if request.method == "PATCH":
            sent.append(json.loads(request.post_data or "{}"))
            stored["opens_at"] = sent[-1].get("opens_at", stored["opens_at"])
            rest = {k: v for k, v in sent[-1].items() if k != "opens_at"}
            response = route.fetch(post_data=json.dumps(rest))
        else:
            response = route.fetch()
        body = response.json()
        if request.method == "OPTIONS":
            body["fields"].append(
                {"name": "opens_at", "type": "datetime", "label": "Opens at",
                 "required": True, "read_only": False}
            )  # fmt: skip
        else:
            body["opens_at"] = stored["opens_at"]
        route.fulfill(response=response, json=body)

    try:
        sign_in(page, live_server, "editor", PASSWORD)
        page.route(f"**/api/r/courses/{course}", with_opens_at)
        page.goto(f"{live_server}/r/courses/{course}")
        opens = page.get_by_label("Opens at")
        expect(opens).to_have_value("2026-11-30T18:00")  # 17:00 UTC is 18:00 in Paris
        # A required datetime that is shown does not block saving another field.
        page.get_by_label("Title").fill("Saved past a datetime")
        page.get_by_role("button", name="Save", exact=True).click()
        expect(page.get_by_role("status").filter(has_text="Saved")).to_be_visible()
        assert sent[-1] == {"title": "Saved past a datetime"}

        opens.fill("2026-12-01T09:15")
        page.get_by_label("Title").fill("Opens in December")
        page.get_by_role("button", name="Save", exact=True).click()
        expect(page.get_by_role("status").filter(has_text="version 3")).to_be_visible()
        assert sent[-1] == {"title": "Opens in December", "opens_at": "2026-12-01T09:15:00+01:00"}
        expect(opens).to_have_value("2026-12-01T09:15")
    finally:
        # A live refetch may still be inside the handler: let it end quietly with the page.
        page.unroute_all(behavior="ignoreErrors")
        context.close()


def test_a_record_deleted_then_purged_under_you_says_so_and_keeps_your_edits(
    page: Page, live_server: str, api: dict[str, Api], conninfo: str
) -> None:
    # A new course, so that nothing refers to it and it can be purged.
    created = api["admin"].post(
        "/api/r/courses", {"title": "Under you", "short_name": "under-you"}, status=201
    )
    pk = created["id"]
    sign_in(page, live_server, "editor", PASSWORD)
    page.goto(f"{live_server}/r/courses/{pk}")
    description = page.get_by_label("Description")
    description.fill("My unsaved words")
    expect(page.get_by_role("button", name="Save", exact=True)).to_be_enabled()

    deleted = api["admin"].client.delete(
        f"/api/r/courses/{pk}", headers={"If-Match": f'"{created["_version"]}"'}
    )
    assert deleted.status_code == 200, deleted.text
    note = page.get_by_test_id("removed-note")
    expect(note).to_have_text(
        "Admin deleted this course while you had it open."
        " Your unsaved changes are kept: restore it to save them."
    )
    expect(description).to_have_value("My unsaved words")
    expect(description).to_be_disabled()

    purged = api["admin"].client.delete(
        f"/api/r/courses/{pk}",
        params={"purge": "true"},
        headers={"If-Match": f'"{deleted.json()["_version"]}"'},
    )
    assert purged.status_code == 204, purged.text
    expect(note).to_have_text(
        "Admin purged this course: it no longer exists. Your unsaved changes are still shown below."
    )
    expect(description).to_have_value("My unsaved words")
    expect(page.get_by_role("button", name="Restore")).to_have_count(0)
    page.screenshot(path="test-results/record-purged.png", animations="disabled")
    with psycopg.connect(conninfo) as conn:
        assert conn.execute("SELECT count(*) FROM courses WHERE id = %s", (pk,)).fetchone() == (0,)
