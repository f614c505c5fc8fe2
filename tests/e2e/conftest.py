"""Browser tests: Debian's Chromium driven by Playwright against a real server.

The server is ``collabadmin serve`` in a subprocess on the test database,
exactly as a user runs it, serving the committed frontend bundle.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from playwright.sync_api import Page, expect

from collabadmin.db.tracking import tracking_sql
from tests.adopt.conftest import ADOPTED, FIXTURE
from tests.servers import start_server

CHROMIUM = Path(os.environ.get("COLLABADMIN_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if CHROMIUM.exists():
        return
    if os.environ.get("CI"):
        raise pytest.UsageError(f"CI runs the browser tests, but {CHROMIUM} is missing")
    skip = pytest.mark.skip(reason=f"Chromium is not installed at {CHROMIUM}")
    for item in items:
        if "e2e" in item.nodeid:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    return {**browser_type_launch_args, "executable_path": str(CHROMIUM), "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def live_server(database_url: str, demo_users: None) -> Iterator[str]:
    server = start_server(database_url)
    yield server.http
    server.stop()


def sign_in(page: Page, base: str, username: str, password: str) -> None:
    page.goto(f"{base}/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_test_id("current-user")).to_be_visible()


@pytest.fixture(scope="session")
def base_url(live_server: str) -> str:
    """Overrides pytest-base-url's fixture: pages may ``goto`` relative paths."""
    return live_server


@pytest.fixture(autouse=True)
def no_saved_views(conninfo: str) -> None:
    """Each browser test starts from default list settings and no shared views."""
    with psycopg.connect(conninfo, autocommit=True) as conn:
        # DELETE, not TRUNCATE: no table lock for a background task to wait behind.
        conn.execute("DELETE FROM collabadmin_view_pref")
        conn.execute("DELETE FROM collabadmin_shared_view")


@pytest.fixture(scope="session")
def adopted_server(database_url: str, conninfo: str, demo_users: None) -> Iterator[str]:
    """``collabadmin serve`` over the adopted fixture schema (loaded, tracked) in its own process.

    The schema is loaded and tracked as tests/adopt/conftest.py does (once per
    test database), and the app reflects it with no resource code.
    """
    with psycopg.connect(conninfo, autocommit=True) as conn:
        loaded = conn.execute("SELECT to_regclass('ticket') IS NOT NULL").fetchone()
        if not (loaded and loaded[0]):
            conn.execute(FIXTURE.read_text())  # a literal file
            for table, pk in ADOPTED.items():
                for statement in tracking_sql(table, pk=pk):
                    conn.execute(statement)
    server = start_server(database_url, app="tests.e2e.adopted_app:create_adopted_app")
    yield server.http
    server.stop()
