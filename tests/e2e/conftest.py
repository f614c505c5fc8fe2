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

from collabadmin.db.engine import libpq_url
from tests.adopt.cli_database import FIXTURE_SCHEMAS, adopt_fixture
from tests.conftest import PASSWORD, _server_database, reset_data
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


# How long derived state (a live view's row, a checklist step that follows
# the data) may take to show, in ms: it follows the paced evaluators in the
# server's background process, which runs below the server's CPU priority
# and falls behind on a busy machine.
DERIVED = 20_000


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
        conn.execute("DELETE FROM collabadmin.collabadmin_view_pref")
        conn.execute("DELETE FROM collabadmin.collabadmin_shared_view")


@pytest.fixture
def fresh_data(conninfo: str) -> None:
    """The small seed, as tests/conftest.py loads it, retried after a deadlock.

    The server goes on serving what the previous test's page asked for after
    the page is closed (a list refetch, a label lookup). Its reads take their
    locks table by table, and the TRUNCATE of the reset takes them all: the
    two can wait on each other, and PostgreSQL then cancels the TRUNCATE,
    which is simply run again once the reads are done.
    """
    for attempt in range(3):
        try:
            reset_data(conninfo)
            return
        except psycopg.errors.DeadlockDetected:
            if attempt == 2:
                raise


@pytest.fixture(scope="session")
def adopted_database(database_url: str) -> Iterator[str]:
    """A database of its own holding tests/adopt/fixture.sql, adopted through the CLI alone.

    Prepared as tests/adopt/conftest.py prepares it (``db upgrade``, the
    schema, ``db track --all`` per schema), with the ``admin`` user made by
    ``collabadmin user create`` with :data:`PASSWORD`.
    """
    for url in _server_database(database_url):
        adopt_fixture(url, admin_password=PASSWORD)
        yield url


@pytest.fixture(scope="session")
def adopted_conninfo(adopted_database: str) -> str:
    return libpq_url(adopted_database)


@pytest.fixture(scope="session")
def adopted_server(adopted_database: str) -> Iterator[str]:
    """``collabadmin serve --schema public --schema archive`` (no ``--app``) over that database."""
    server = start_server(adopted_database, app=None, schemas=FIXTURE_SCHEMAS)
    yield server.http
    server.stop()
