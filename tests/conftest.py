"""Fixtures: a real PostgreSQL, migrated with Alembic, and the demo app over it.

With ``DATABASE_URL`` set (CI points it at the machine's server) each test run
creates a database of its own there and drops it afterwards; without it the
run starts an embedded PostgreSQL in a temporary folder. Either way the
schema comes from ``alembic upgrade heads``, never ``create_all``.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import socket
import tempfile
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psycopg
import psycopg.sql
import pytest
import uvicorn
from litestar import Litestar
from sqlalchemy.engine import make_url

from collabadmin.db.embedded import EmbeddedPostgres
from collabadmin.db.engine import Database, libpq_url, normalise_url
from collabadmin.db.migrate import EVERYTHING, upgrade
from collabadmin.db.roles import app_role_name
from collabadmin.demo.app import create_demo_app
from collabadmin.demo.seed import DEMO_USERS, SeedSize, seed_demo, seed_users
from collabadmin.settings import Settings
from tests.helpers import running, token_for

PASSWORD = "correct horse battery staple"
TEST_SEED = SeedSize(universities=5, categories=5, instructors=20, courses=60, sessions=120)
DOMAIN_TABLES = (
    "sessions, course_instructors, courses, instructors, categories, universities, "
    "collabadmin.collabadmin_change, collabadmin.collabadmin_seal,"
    " collabadmin.collabadmin_login_attempt, collabadmin.collabadmin_draft_event,"
    " collabadmin.collabadmin_draft, collabadmin.collabadmin_workflow_run,"
    " collabadmin.collabadmin_live_course_overview, collabadmin.collabadmin_live_change,"
    " collabadmin.collabadmin_live_catalogue_figures"
)


def _server_database(server_url: str) -> Iterator[str]:
    name = "collabadmin_test_" + secrets.token_hex(4)
    admin = libpq_url(normalise_url(server_url))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield (
            make_url(normalise_url(server_url))
            .set(database=name)
            .render_as_string(hide_password=False)
        )
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            # Roles are cluster-wide: the server role of this database goes too.
            conn.execute(
                psycopg.sql.SQL("DROP ROLE IF EXISTS {}").format(
                    psycopg.sql.Identifier(app_role_name(name))
                )
            )


def _embedded_database() -> Iterator[str]:
    folder = Path(tempfile.mkdtemp(prefix="collabadmin-test-"))
    server = EmbeddedPostgres(folder)
    try:
        yield server.start()
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    server_url = os.environ.get("DATABASE_URL")
    source = _server_database(server_url) if server_url else _embedded_database()
    for url in source:
        upgrade(url, EVERYTHING)
        yield url


@pytest.fixture(scope="session")
def conninfo(database_url: str) -> str:
    """The test database as a libpq URI, for plain psycopg connections."""
    return libpq_url(database_url)


@pytest.fixture(scope="session")
def demo_users(database_url: str) -> None:
    """The six demo users, with :data:`PASSWORD`.

    Synchronous (on a thread with its own event loop) so that browser tests,
    whose Playwright runs a loop of its own, can depend on it too.
    """

    async def seed() -> None:
        db = Database(database_url, pool_size=1)
        try:
            await seed_users(db, PASSWORD)
        finally:
            await db.dispose()

    worker = threading.Thread(target=asyncio.run, args=(seed(),))
    worker.start()
    worker.join()


@pytest.fixture(scope="session")
async def app(database_url: str, demo_users: None) -> AsyncIterator[Litestar]:
    application = create_demo_app(Settings(database_url=database_url, pool_size=20))
    async with running(application):
        yield application


def _end_frozen_transactions(conn: psycopg.Connection[Any]) -> None:
    """End transactions left open by the in-process app's background tasks.

    The session-wide app runs on the tests' event loop, which stands still
    between tests: a background task (the workflow evaluator, the draft
    scheduler) caught between two statements of a transaction would hold its
    locks until the next async test, and TRUNCATE would wait for it forever.
    Ending those transactions is what a failover would do; the tasks recover.
    """
    conn.execute(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
        " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        " AND state LIKE 'idle in transaction%'"
    )


RESET_ATTEMPTS = 10


def reset_data(conninfo: str) -> None:
    """Empty the domain tables and the change log, then load the small seed.

    A background statement still running when the frozen transactions are
    ended finishes and freezes in its turn, holding its locks: the TRUNCATE
    then waits a bounded time (``lock_timeout``), and the frozen ones are
    ended again before it is retried.
    """
    for attempt in range(RESET_ATTEMPTS):
        with psycopg.connect(conninfo, autocommit=True) as conn:
            _end_frozen_transactions(conn)
        try:
            _empty_tables(conninfo)
            break
        except (psycopg.errors.LockNotAvailable, psycopg.errors.DeadlockDetected):
            # The sealer may hold the seal state's row while waiting for a
            # table being emptied: PostgreSQL ends one of the two; start again.
            if attempt == RESET_ATTEMPTS - 1:
                raise
    seed_demo(conninfo, TEST_SEED)


def _empty_tables(conninfo: str) -> None:
    with psycopg.connect(conninfo, autocommit=True) as conn, conn.transaction():
        conn.execute("SET LOCAL lock_timeout = '2s'")
        # The change log refuses TRUNCATE to everyone; the tests connect as a
        # superuser, who may switch ordinary triggers off for a transaction.
        conn.execute("SET LOCAL session_replication_role = replica")
        conn.execute(f"TRUNCATE {DOMAIN_TABLES} RESTART IDENTITY CASCADE")
        conn.execute(
            "UPDATE collabadmin.collabadmin_seal_state SET snapshot = '1:1:', last_seq = 0,"
            " last_hash = repeat('0', 64), anchor_seq = 0, anchor_hash = repeat('0', 64)"
        )
        conn.execute(
            "UPDATE collabadmin.collabadmin_verify_state"
            " SET verified_seq = 0, verified_hash = repeat('0', 64),"
            " verified_change_id = 0, verified_at = NULL, first_bad = NULL"
        )


@pytest.fixture
def fresh_data(conninfo: str) -> None:
    reset_data(conninfo)


def taught_courses(conninfo: str) -> list[int]:
    """Ids of the courses the demo user ``instructor`` teaches, ascending."""
    with psycopg.connect(conninfo) as conn:
        rows = conn.execute(
            "SELECT ci.course_id FROM course_instructors ci"
            " JOIN instructors i ON i.id = ci.instructor_id"
            " WHERE i.\"user\" = 'instructor' AND ci.deleted_at IS NULL ORDER BY 1"
        ).fetchall()
    return [int(r[0]) for r in rows]


Client = httpx.AsyncClient
ClientFor = Callable[[str], Awaitable[Client]]


@pytest.fixture
async def client_for(
    app: Litestar, database_url: str, fresh_data: None
) -> AsyncIterator[ClientFor]:
    """``await client_for("editor")``: an API client authenticated by a bearer token."""
    clients: list[httpx.AsyncClient] = []
    db = Database(database_url, pool_size=1)

    async def make(username: str) -> httpx.AsyncClient:
        assert username in DEMO_USERS
        async with db.connection() as tx:
            token = await token_for(tx, username)
        client = anonymous_client(app, headers={"Authorization": f"Bearer {token}"})
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.aclose()
    await db.dispose()


def anonymous_client(app: Litestar, headers: dict[str, str] | None = None) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://testserver",
        headers=headers or {},
    )


@pytest.fixture
async def anon(app: Litestar) -> AsyncIterator[httpx.AsyncClient]:
    async with anonymous_client(app) as client:
        yield client


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Browser tests run last.

    Playwright's sync API keeps an event loop running in the main thread for
    as long as its session fixture lives, and asyncio tests cannot start
    their loop while it does.
    """
    items.sort(key=lambda item: "/e2e/" in item.nodeid)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Served:
    http: str
    ws: str


@pytest.fixture(scope="session")
async def served(database_url: str, demo_users: None) -> AsyncIterator[Served]:
    """The demo app behind a real uvicorn server, in this event loop."""
    port = _free_port()
    app = create_demo_app(Settings(database_url=database_url, pool_size=10))
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        log_level="warning",
        ws_max_size=1 << 20,
        ws_per_message_deflate=False,
        lifespan="on",
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)  # sleep-ok: polling uvicorn's start flag, bounded by the task
    yield Served(f"http://127.0.0.1:{port}", f"ws://127.0.0.1:{port}/api/ws")
    server.should_exit = True
    await asyncio.wait_for(task, 30)
