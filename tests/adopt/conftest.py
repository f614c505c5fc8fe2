"""An adopted schema of every column shape (fixture.sql), served with no resource code.

The schema is loaded next to the demo's tables, its tables are tracked with
the same statements ``collabadmin db track`` runs, reflected with
:func:`reflect_resources` and served by :func:`create_app` with the default
policy. Tests use the demo's ``admin`` user.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import psycopg
import pytest
import uvicorn
from litestar import Litestar

from collabadmin.app import create_app
from collabadmin.auth.credentials import create_token
from collabadmin.db.engine import Database
from collabadmin.db.tracking import tracking_sql
from collabadmin.resources.resource import Resource, reflect_resources
from collabadmin.settings import Settings
from tests.conftest import Served, _free_port, anonymous_client
from tests.helpers import running

FIXTURE = Path(__file__).with_name("fixture.sql")
# Tables served by the matrix, with the key column the change log records
# (composite keys, views and the second schema are adopted by their own
# tests).
ADOPTED = {"ticket": "ticket_id", "MixedCase": "Id", "reading": "id"}


@pytest.fixture(scope="session")
def adopted_schema(conninfo: str) -> None:
    with psycopg.connect(conninfo, autocommit=True) as conn:
        exists = conn.execute("SELECT to_regclass('ticket') IS NOT NULL").fetchone()
        if exists and exists[0]:
            return
        conn.execute(FIXTURE.read_text())  # type: ignore[arg-type]  # a literal file
        for table, pk in ADOPTED.items():
            for statement in tracking_sql(table, pk=pk):
                conn.execute(statement)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def adopted_resources(database_url: str, adopted_schema: None) -> list[Resource]:
    return reflect_resources(database_url, only=list(ADOPTED))


@pytest.fixture(scope="session")
async def adopted_app(
    database_url: str, demo_users: None, adopted_resources: list[Resource]
) -> AsyncIterator[Litestar]:
    application = create_app(Settings(database_url=database_url, pool_size=5), adopted_resources)
    async with running(application):
        yield application


async def _token(database_url: str, username: str) -> str:
    db = Database(database_url, pool_size=1)
    try:
        async with db.connection() as tx:
            user_id = await tx.value(
                "SELECT id FROM collabadmin_user WHERE username = %(u)s", {"u": username}
            )
            _, token = await create_token(tx, user_id, "adopt-tests", None)
    finally:
        await db.dispose()
    return token


@pytest.fixture
async def admin(adopted_app: Litestar, database_url: str) -> AsyncIterator[httpx.AsyncClient]:
    token = await _token(database_url, "admin")
    async with anonymous_client(adopted_app, {"Authorization": f"Bearer {token}"}) as client:
        yield client


@pytest.fixture(scope="session")
async def adopted_served(
    database_url: str, demo_users: None, adopted_resources: list[Resource]
) -> AsyncIterator[Served]:
    """The adopted app behind a real uvicorn server, for websocket frames."""
    port = _free_port()
    app = create_app(Settings(database_url=database_url, pool_size=5), adopted_resources)
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)  # sleep-ok: polling uvicorn's start flag, bounded by the task
    yield Served(f"http://127.0.0.1:{port}", f"ws://127.0.0.1:{port}/api/ws")
    server.should_exit = True
    await asyncio.wait_for(task, 30)
