"""The record form on an adopted schema (tests/adopt/fixture.sql) in a real browser.

A timestamptz is edited in the browser's time zone, an enum with its select,
a text[] with the token input and a numeric as exact text; the saved values
are read back through the API. Screenshots of the form at a desktop and a
phone size are written to ``COLLABADMIN_SCREENSHOTS`` (a temporary directory
by default).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from playwright.sync_api import Page, expect

from tests.conftest import PASSWORD
from tests.e2e.conftest import sign_in

ZONE = "America/New_York"  # UTC-5 in December: a wrong conversion shows as a 5-hour shift


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict[str, Any]) -> dict[str, Any]:
    return {**browser_context_args, "timezone_id": ZONE, "viewport": {"width": 1280, "height": 800}}


@pytest.fixture
def ticket(adopted_server: str, adopted_conninfo: str) -> int:
    with psycopg.connect(adopted_conninfo, autocommit=True) as conn:
        row = conn.execute(
            "INSERT INTO ticket (title, status, tags, price, happened_at, meta, attachment, spent)"
            " VALUES ('Edited in a browser', 'new', '{alpha,beta}', 12.50,"
            " '2026-11-30 17:00:00+00', '{\"a\": [1, 2]}', '\\x00010203', '1 day 02:30:00')"
            " RETURNING ticket_id"
        ).fetchone()
    assert row is not None
    return int(row[0])


@pytest.fixture
def admin_api(adopted_server: str) -> Iterator[httpx.Client]:
    client = httpx.Client(base_url=adopted_server)
    body = client.post("/api/auth/login", json={"username": "admin", "password": PASSWORD})
    body.raise_for_status()
    client.headers["X-CSRF-Token"] = body.json()["csrf_token"]
    yield client
    client.close()


def _screenshots(tmp_path: Path) -> Path:
    where = Path(os.environ.get("COLLABADMIN_SCREENSHOTS", tmp_path))
    where.mkdir(parents=True, exist_ok=True)
    return where


def test_edit_and_save_a_timestamptz_an_enum_an_array_and_a_decimal(
    page: Page, adopted_server: str, ticket: int, admin_api: httpx.Client, tmp_path: Path
) -> None:
    sign_in(page, adopted_server, "admin", PASSWORD)
    page.goto(f"{adopted_server}/r/ticket/{ticket}")
    expect(page.get_by_test_id("version")).to_have_text("version 1")

    # The stored instant (17:00 UTC) in New York's wall-clock time, not blank.
    happened = page.get_by_label(re.compile(r"^Happened at"))
    expect(happened).to_have_value("2026-11-30T12:00")
    happened.fill("2026-12-01T09:15")

    status = page.get_by_label(re.compile(r"^Status"))
    expect(status).to_have_value("new")
    status.select_option("in progress")

    tags = page.get_by_test_id("tokens-tags")
    tags.get_by_role("button", name="Remove alpha").click()
    box = tags.get_by_role("textbox")
    box.fill("gamma")
    box.press("Enter")
    box.fill("delta,")  # a comma adds too; the comma itself is not part of the element
    expect(tags.get_by_role("listitem").locator("span")).to_have_text(["beta", "gamma", "delta"])

    price = page.get_by_label(re.compile(r"^Price"))
    expect(price).to_have_value("12.50")
    price.fill("12.5.0")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_text("Enter an exact decimal number")).to_be_visible()
    expect(page.get_by_test_id("version")).to_have_text("version 1")  # nothing was sent
    price.fill("1234567890.12")
    # More digits than a float keeps: sent as typed, never through a JS number.
    page.get_by_label(re.compile(r"^Ratio")).fill("0.10000000000000000001")

    shots = _screenshots(tmp_path)
    page.screenshot(
        path=str(shots / "adopted-record-1280x800.png"), full_page=True, animations="disabled"
    )
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(
        path=str(shots / "adopted-record-390x844.png"), full_page=True, animations="disabled"
    )
    page.set_viewport_size({"width": 1280, "height": 800})

    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_role("status").filter(has_text="Saved")).to_be_visible()
    expect(page.get_by_test_id("version")).to_have_text("version 2")

    saved = admin_api.get(f"/api/r/ticket/{ticket}").json()
    # 09:15 in New York on 1 December is 14:15 UTC.
    assert datetime.fromisoformat(saved["happened_at"]) == datetime(2026, 12, 1, 14, 15, tzinfo=UTC)
    assert saved["status"] == "in progress"
    assert saved["tags"] == ["beta", "gamma", "delta"]
    assert saved["price"] == "1234567890.12"
    assert saved["ratio"] == "0.10000000000000000001"
    # Fields not edited went back unchanged (no round trip through the form).
    assert saved["meta"] == {"a": [1, 2]}
    assert saved["attachment"] == "AAECAw=="
    history = admin_api.get(f"/api/r/ticket/{ticket}/history").json()["items"]
    assert sorted(history[0]["diff"]) == ["happened_at", "price", "ratio", "status", "tags"]


def test_resources_are_listed_in_the_order_the_server_gives(
    page: Page, adopted_server: str, admin_api: httpx.Client
) -> None:
    resources = admin_api.get("/api/meta").json()["resources"]
    sign_in(page, adopted_server, "admin", PASSWORD)
    nav = page.get_by_role("navigation", name="Resources").get_by_role("link")
    expect(nav.first).to_be_visible()
    shown = nav.all_inner_texts()[: len(resources)]
    assert shown == [r["label_plural"] for r in resources]


def test_a_saved_filter_the_server_refuses_can_be_cleared(
    page: Page, adopted_server: str, ticket: int, adopted_conninfo: str
) -> None:
    # A filter saved when it was accepted (or by an older version): no `contains` on an array.
    broken = json.dumps(
        {
            "columns": [{"field": "title"}, {"field": "tags"}],
            "sort": "",
            "filters": [{"field": "tags", "op": "contains", "value": "x"}],
        }
    )
    with psycopg.connect(adopted_conninfo, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO collabadmin.collabadmin_view_pref (user_id, resource, config)"
            " SELECT id, 'ticket', %s::jsonb FROM collabadmin.collabadmin_user"
            " WHERE username = 'admin'",
            (broken,),
        )
    sign_in(page, adopted_server, "admin", PASSWORD)
    page.goto(f"{adopted_server}/r/ticket")
    problem = page.get_by_test_id("list-problem")
    expect(problem).to_contain_text("could not be shown")
    with page.expect_response(
        lambda r: r.request.method == "PUT" and "/api/prefs/views/ticket" in r.url
    ) as saved:
        problem.get_by_role("button", name="Clear filters and sort").click()
    assert saved.value.ok
    expect(problem).to_be_hidden()
    # The list shows rows again (other tests may have added tickets before
    # this one, so any row will do, not the fixture's own on the first page).
    rows = page.locator('a[href^="/r/ticket/"]')
    expect(rows.first).to_be_visible()

    def saved_filters() -> Any:
        with psycopg.connect(adopted_conninfo) as conn:
            row = conn.execute(
                "SELECT config->'filters' FROM collabadmin.collabadmin_view_pref p"
                " JOIN collabadmin.collabadmin_user u"
                " ON u.id = p.user_id WHERE u.username = 'admin' AND p.resource = 'ticket'"
            ).fetchone()
        return row[0] if row else None

    # The cleared settings are saved, so the next visit works too.
    page.reload()
    expect(page.get_by_test_id("list-problem")).to_be_hidden()
    expect(rows.first).to_be_visible()
    assert saved_filters() == []
