"""Helpers that read like the API contract."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import httpx
from litestar import Litestar

from collabadmin.auth.credentials import create_token
from collabadmin.db.engine import Tx


def problem(response: httpx.Response, status: int) -> dict[str, Any]:
    """Assert ``response`` is an RFC 9457 problem with ``status``; return its body."""
    assert response.status_code == status, (response.status_code, response.text)
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert {"type", "title", "detail"} <= set(body)
    return body


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, (response.status_code, response.text)
    return response.json() if response.content else None


def field_errors(response: httpx.Response) -> dict[str, str]:
    body = problem(response, 422)
    return {e["field"]: e["message"] for e in body["errors"]}


async def get_record(client: httpx.AsyncClient, resource: str, pk: Any) -> dict[str, Any]:
    body: dict[str, Any] = ok(await client.get(f"/api/r/{resource}/{pk}"))
    return body


async def patch_record(
    client: httpx.AsyncClient,
    resource: str,
    pk: Any,
    body: dict[str, Any],
    *,
    if_match: int | None = None,
    base: int | None = None,
) -> httpx.Response:
    headers = {"Content-Type": "application/merge-patch+json"}
    if if_match is not None:
        headers["If-Match"] = f'"{if_match}"'
    if base is not None:
        headers["X-Base-Version"] = str(base)
    return await client.patch(f"/api/r/{resource}/{pk}", json=body, headers=headers)


async def history(client: httpx.AsyncClient, resource: str, pk: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = ok(await client.get(f"/api/r/{resource}/{pk}/history"))["items"]
    return items


async def list_all(client: httpx.AsyncClient, path: str, **params: str) -> list[dict[str, Any]]:
    """Follow next_cursor to the end and return every item."""
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        query = dict(params)
        if cursor:
            query["cursor"] = cursor
        page = ok(await client.get(path, params=query))
        items.extend(page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            return items


@contextlib.asynccontextmanager
async def running(application: Litestar) -> AsyncIterator[Litestar]:
    """``application`` with its lifespan (pool, listener, hub, background tasks) running.

    The lifespan runs in a task of its own: anyio cancel scopes inside it must
    be entered and exited by the same task, which fixture teardown is not.
    """
    started, stopping = asyncio.Event(), asyncio.Event()

    async def run_lifespan() -> None:
        async with application.lifespan():
            started.set()
            await stopping.wait()

    task = asyncio.create_task(run_lifespan())
    await asyncio.wait_for(started.wait(), 30)
    try:
        yield application
    finally:
        stopping.set()
        await asyncio.wait_for(task, 30)


async def token_for(tx: Tx, username: str, name: str = "tests") -> str:
    """A new API token (its secret) of user ``username``."""
    user_id = await tx.value(
        "SELECT id FROM collabadmin.collabadmin_user WHERE username = %(u)s", {"u": username}
    )
    _, token = await create_token(tx, user_id, name, None)
    return token
