"""Real websockets: the app served by uvicorn on a local port, clients from ``websockets``."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect

from collabadmin.auth.credentials import create_token
from collabadmin.db.engine import Database
from tests.conftest import Served

FRAME_TIMEOUT = 10.0


@dataclass
class Socket:
    """A websocket client that reads like the protocol."""

    conn: ClientConnection
    seen: list[dict[str, Any]] = field(default_factory=list)

    async def send(self, frame: dict[str, Any] | str) -> None:
        await self.conn.send(frame if isinstance(frame, str) else json.dumps(frame))

    async def next(self, timeout: float = FRAME_TIMEOUT) -> dict[str, Any]:
        frame: dict[str, Any] = json.loads(await asyncio.wait_for(self.conn.recv(), timeout))
        self.seen.append(frame)
        return frame

    async def expect(
        self, kind: str, timeout: float = FRAME_TIMEOUT, **match: Any
    ) -> dict[str, Any]:
        """The next frame, which must be of ``kind`` (and match the given keys).

        Presence of the rows of a list (frames with a ``pk``) is skipped unless
        asked for: it comes whenever anyone, on any instance sharing the
        database, is on a record — a crashed instance's members linger for
        30 s — so tests of other frames must not depend on its absence.
        """
        frame = await self.next(timeout)
        while kind != "presence" and frame["type"] == "presence" and "pk" in frame:
            frame = await self.next(timeout)
        assert frame["type"] == kind, frame
        for key, value in match.items():
            assert frame.get(key) == value, frame
        return frame

    async def subscribe(self, topic: str, since: str | None = None) -> str:
        frame: dict[str, Any] = {"type": "subscribe", "topic": topic}
        if since is not None:
            frame["since"] = since
        await self.send(frame)
        subscribed = await self.expect("subscribed", topic=topic)
        return str(subscribed["cursor"])

    async def changes(self, count: int, timeout: float = FRAME_TIMEOUT) -> list[dict[str, Any]]:
        return [await self.expect("change", timeout) for _ in range(count)]

    async def quiet(self) -> None:
        """Nothing else is queued: a ping is answered by the very next frame."""
        await self.send({"type": "ping"})
        await self.expect("pong")


SocketFor = Callable[..., Awaitable[Socket]]


@pytest.fixture
async def socket_for(
    served: Served, database_url: str, fresh_data: None
) -> AsyncIterator[SocketFor]:
    opened: list[ClientConnection] = []
    db = Database(database_url, pool_size=1)
    tokens: dict[str, str] = {}

    async def open_socket(username: str, url: str | None = None) -> Socket:
        if username not in tokens:
            async with db.connection() as tx:
                user_id = await tx.value(
                    "SELECT id FROM collabadmin.collabadmin_user WHERE username = %(u)s",
                    {"u": username},
                )
                _, tokens[username] = await create_token(tx, user_id, "ws-tests", None)
        conn = await connect(
            url or served.ws, additional_headers={"Authorization": f"Bearer {tokens[username]}"}
        )
        opened.append(conn)
        return Socket(conn)

    yield open_socket
    for conn in opened:
        await conn.close()
    await db.dispose()
