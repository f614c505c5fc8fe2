"""An adopted schema of every column shape (fixture.sql), served with no resource code.

The schema lives in a database of its own (the demo's tables would be
adopted too otherwise), prepared through the command line alone, as a user
would: ``collabadmin db upgrade``, fixture.sql loaded, ``collabadmin db track
--all`` for the schemas public and archive, ``collabadmin user create admin``.
The app is built by the code ``collabadmin serve --schema public --schema
archive`` runs with no ``--app``: :func:`adopt` then :func:`create_adopted_app`,
default roles, every relation the reflection finds (no hand-picked list).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
import uvicorn
from litestar import Litestar

from collabadmin.adopt.app import adopt, create_adopted_app
from collabadmin.db.engine import Database
from collabadmin.settings import Settings
from tests.adopt.cli_database import FIXTURE_SCHEMAS, adopt_fixture
from tests.conftest import Served, _free_port, _server_database, anonymous_client
from tests.helpers import running, token_for


@pytest.fixture(scope="session")
def adopted_url(database_url: str) -> Iterator[str]:
    """A database of its own on the test server, holding fixture.sql adopted by the CLI."""
    for url in _server_database(database_url):
        adopt_fixture(url)
        yield url


def adopted_app_of(url: str) -> Litestar:
    """What ``collabadmin serve --schema public --schema archive`` (no ``--app``) serves."""
    settings = Settings(database_url=url, pool_size=5)
    return create_adopted_app(settings, adopt(settings, FIXTURE_SCHEMAS))


@pytest.fixture(scope="session")
async def adopted_app(adopted_url: str) -> AsyncIterator[Litestar]:
    application = adopted_app_of(adopted_url)
    async with running(application):
        yield application


async def _token(database_url: str, username: str) -> str:
    db = Database(database_url, pool_size=1)
    try:
        async with db.connection() as tx:
            return await token_for(tx, username, "adopt-tests")
    finally:
        await db.dispose()


@pytest.fixture
async def admin(adopted_app: Litestar, adopted_url: str) -> AsyncIterator[httpx.AsyncClient]:
    token = await _token(adopted_url, "admin")
    async with anonymous_client(adopted_app, {"Authorization": f"Bearer {token}"}) as client:
        yield client


@pytest.fixture(scope="session")
async def adopted_served(adopted_url: str) -> AsyncIterator[Served]:
    """The adopted app behind a real uvicorn server, for websocket frames."""
    port = _free_port()
    app = adopted_app_of(adopted_url)
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
