"""An app with a metrics token, served by uvicorn, and helpers to read its metrics."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import httpx
import pytest
import uvicorn
from litestar import Litestar
from prometheus_client.parser import text_string_to_metric_families

from collabadmin.auth.credentials import create_token
from collabadmin.db.engine import Database
from collabadmin.demo.app import create_demo_app
from collabadmin.settings import Settings

METRICS_TOKEN = "scrape-me-0123456789"


@dataclass
class Metered:
    """The metered app, where it is served, and bearer tokens of demo users."""

    app: Litestar
    http: str
    ws: str
    tokens: dict[str, str]

    def client(self, username: str | None = None) -> httpx.AsyncClient:
        headers = {"Authorization": f"Bearer {self.tokens[username]}"} if username else {}
        return httpx.AsyncClient(base_url=self.http, headers=headers, timeout=10)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
async def metered(database_url: str, demo_users: None) -> AsyncIterator[Metered]:
    app = create_demo_app(
        Settings(database_url=database_url, pool_size=5, metrics_token=METRICS_TOKEN)
    )
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)  # sleep-ok: polling uvicorn's start flag, bounded by the task
    tokens: dict[str, str] = {}
    db = Database(database_url, pool_size=1)
    try:
        async with db.connection() as tx:
            for username in ("editor", "viewer"):
                user_id = await tx.value(
                    "SELECT id FROM collabadmin.collabadmin_user WHERE username = %(u)s",
                    {"u": username},
                )
                _, tokens[username] = await create_token(tx, user_id, "ops-tests", None)
    finally:
        await db.dispose()
    yield Metered(app, f"http://127.0.0.1:{port}", f"ws://127.0.0.1:{port}/api/ws", tokens)
    server.should_exit = True
    await asyncio.wait_for(task, 30)


Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def parse(text: str) -> Samples:
    """Every sample of a scrape, keyed by name and labels."""
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    """A sample's value; 0 when the series does not exist yet."""
    return samples.get((name, frozenset(labels.items())), 0.0)


Scrape = Callable[[], Awaitable[Samples]]


@pytest.fixture
def scrape(metered: Metered) -> Scrape:
    async def run() -> Samples:
        async with metered.client() as client:
            response = await client.get(
                "/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}
            )
        assert response.status_code == 200, response.text
        return parse(response.text)

    return run
