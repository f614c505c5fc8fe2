"""Browser tests: Debian's Chromium driven by Playwright against a real server.

The server is ``collabadmin serve`` in a subprocess on the test database,
exactly as a user runs it, serving the committed frontend bundle.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

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


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def live_server(database_url: str, demo_users: None) -> Iterator[str]:
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": database_url}
    process = subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "collabadmin.cli", "serve", "--app",
         "collabadmin.demo.app:create_demo_app", "--port", str(port)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    ready = threading.Event()
    try:
        for _ in range(300):  # up to 30 s, polling every 0.1 s
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    ready.set()
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None:
                break
            ready.wait(0.1)
        if not ready.is_set():
            raise RuntimeError(
                f"server did not start: {process.stderr.read() if process.stderr else ''}"
            )
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)
        if process.stderr:
            process.stderr.close()


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
