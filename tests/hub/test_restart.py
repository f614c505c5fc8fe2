"""PostgreSQL restarted under a running server: nothing lost, nothing repeated.

This test owns its PostgreSQL (an embedded one in a temporary folder) so
that it can stop and start it.
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest
from websockets.asyncio.client import connect

from collabadmin.db.embedded import EmbeddedPostgres
from collabadmin.db.engine import libpq_url
from collabadmin.db.migrate import EVERYTHING, upgrade
from collabadmin.demo.seed import seed_demo
from tests.conftest import PASSWORD, TEST_SEED
from tests.helpers import ok
from tests.hub.conftest import Socket
from tests.servers import ServerProcess, start_server


@pytest.fixture
def own_postgres() -> Iterator[tuple[EmbeddedPostgres, str]]:
    folder = Path(tempfile.mkdtemp(prefix="collabadmin-restart-"))
    server = EmbeddedPostgres(folder)
    url = server.start()
    upgrade(url, EVERYTHING)
    seed_demo(libpq_url(url), TEST_SEED)
    try:
        yield server, url
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def app_on_own_postgres(own_postgres: tuple[EmbeddedPostgres, str]) -> Iterator[ServerProcess]:
    _, url = own_postgres
    subprocess.run(
        [sys.executable, "-m", "collabadmin.cli", "user", "create", "editor", "--role", "editor",
         "--password-stdin"],
        input=PASSWORD + "\n", env={"DATABASE_URL": url, "PATH": "/usr/bin:/bin"},
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    server = start_server(url)
    yield server
    server.stop()


async def _patch(client: httpx.AsyncClient, pk: int, title: str, version: int) -> httpx.Response:
    # Generous: with the database down, the answer waits for the pool to give up on it,
    # which takes longer on a busy machine. What matters is the answer, not its time.
    return await client.patch(
        f"/api/r/courses/{pk}",
        json={"title": title},
        headers={"If-Match": f'"{version}"'},
        timeout=60,
    )


async def _until_healthy(client: httpx.AsyncClient, seconds: float) -> None:
    """Poll another process's /health until it is 200, at most ``seconds``."""
    deadline = time.monotonic() + seconds
    while (await client.get("/health")).status_code != 200:
        assert time.monotonic() < deadline, "the server did not recover"
        await asyncio.sleep(0.1)  # sleep-ok: polling another process, bounded by the deadline


async def test_postgres_restart_mid_stream_loses_nothing(
    own_postgres: tuple[EmbeddedPostgres, str], app_on_own_postgres: ServerProcess
) -> None:
    postgres, url = own_postgres
    server = app_on_own_postgres
    async with httpx.AsyncClient(base_url=server.http, timeout=10) as client:
        csrf = ok(
            await client.post("/api/auth/login", json={"username": "editor", "password": PASSWORD})
        )
        client.headers["X-CSRF-Token"] = csrf["csrf_token"]
        cookie = f"collabadmin_session={client.cookies['collabadmin_session']}"
        async with connect(server.ws, additional_headers={"Cookie": cookie}) as conn:
            ws = Socket(conn)
            await ws.subscribe("r/courses")
            ok(await _patch(client, 1, "before", 1))
            [before] = await ws.changes(1)
            assert before["change"]["pk"] == "1"

            postgres.stop()
            outage = await _patch(client, 2, "during", 1)
            assert outage.status_code == 503, outage.text  # a clear answer, not a 500
            assert (await client.get("/health")).status_code == 503
            postgres.start()
            await _until_healthy(client, 30)

            ok(await _patch(client, 2, "after", 1))
            with psycopg.connect(libpq_url(url), autocommit=True) as db:
                db.execute("UPDATE courses SET title = 'psql after' WHERE id = 3")
            after = await ws.changes(2, timeout=20)
            assert [(c["change"]["pk"], c["change"]["version"]) for c in after] == [
                ("2", 2),
                ("3", 2),
            ]
            await ws.quiet()
