"""Bulk edits: the change log as the tests read it, jobs waited for, sockets."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import psycopg
import pytest
import uvicorn
from litestar import Litestar
from psycopg.rows import dict_row

from collabadmin.auth.credentials import create_token
from collabadmin.bulk.jobs import JobService
from collabadmin.context import services_of
from collabadmin.db.engine import Database
from collabadmin.demo.app import create_demo_app
from collabadmin.settings import Settings
from tests.conftest import Served, _free_port
from tests.hub.conftest import socket_for

__all__ = [
    "BATCH",
    "SmallBatches",
    "changes",
    "job_service",
    "log_size",
    "small_batches",
    "socket_for",
]

BATCH = 10
"""Rows per batch of the :func:`small_batches` server: the demo's 60 courses are 6 batches."""


def changes(conninfo: str, resource: str, pk: str | None = None) -> list[dict[str, Any]]:
    """The change log's entries of ``resource`` (one record's, with ``pk``), in order."""
    sql = (
        "SELECT pk, op, source, version, actor_name, request_id, diff"
        " FROM collabadmin.collabadmin_change WHERE resource = %s"
    )
    params: list[Any] = [resource]
    if pk is not None:
        sql += " AND pk = %s"
        params.append(pk)
    with psycopg.connect(conninfo, row_factory=dict_row) as conn:
        return conn.execute(sql + " ORDER BY id", params).fetchall()


def log_size(conninfo: str) -> int:
    with psycopg.connect(conninfo) as conn:
        row = conn.execute("SELECT count(*) FROM collabadmin.collabadmin_change").fetchone()
    assert row is not None
    return int(row[0])


def job_service(app: Litestar) -> JobService:
    return services_of(app).get(JobService)


@dataclass
class SmallBatches:
    """The demo app served by uvicorn with batches of :data:`BATCH` rows, for job frames."""

    served: Served
    app: Litestar
    database_url: str

    async def client(self, username: str) -> httpx.AsyncClient:
        db = Database(self.database_url, pool_size=1)
        try:
            async with db.connection() as tx:
                user_id = await tx.value(
                    "SELECT id FROM collabadmin.collabadmin_user WHERE username = %(u)s",
                    {"u": username},
                )
                _, token = await create_token(tx, user_id, "bulk-tests", None)
        finally:
            await db.dispose()
        return httpx.AsyncClient(
            base_url=self.served.http, headers={"Authorization": f"Bearer {token}"}
        )


@pytest.fixture(scope="session")
async def small_batches(database_url: str, demo_users: None) -> AsyncIterator[SmallBatches]:
    settings = Settings(
        database_url=database_url, pool_size=4, bulk_batch_size=BATCH, bulk_sync_max=2 * BATCH
    )
    app = create_demo_app(settings)
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)  # sleep-ok: polling uvicorn's start flag, bounded by the task
    yield SmallBatches(
        Served(f"http://127.0.0.1:{port}", f"ws://127.0.0.1:{port}/api/ws"), app, database_url
    )
    server.should_exit = True
    await asyncio.wait_for(task, 30)
