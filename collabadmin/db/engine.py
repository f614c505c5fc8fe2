"""Engines and transactions.

Every write goes through :meth:`Database.transaction`, which opens one
transaction and sets the ``collabadmin.*`` settings with ``set_config(...,
true)`` (the function form of ``SET LOCAL``) so that the capture trigger
records who made the change, through which surface and in which request.
A write made by any other SQL client carries none of these settings and is
recorded with ``source = 'db'`` and the database role.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

__all__ = ["SYSTEM", "Actor", "Database", "Source", "normalise_url"]

Source = Literal["api", "draft", "revert", "workflow", "db"]


@dataclass(frozen=True, slots=True)
class Actor:
    """Who is acting: a user of collabadmin, or the system itself (id None)."""

    id: int | None
    name: str
    username: str = ""
    roles: frozenset[str] = frozenset()
    is_superuser: bool = False


SYSTEM = Actor(id=None, name="system", is_superuser=True)

_SET_CONTEXT = text(
    "SELECT set_config('collabadmin.actor_id', :actor_id, true),"
    " set_config('collabadmin.actor_name', :actor_name, true),"
    " set_config('collabadmin.source', :source, true),"
    " set_config('collabadmin.request_id', :request_id, true)"
)


def normalise_url(url: str) -> str:
    """Accept libpq-style ``postgresql://`` URLs and pick the psycopg 3 driver."""
    for prefix in ("postgresql+psycopg://", "postgresql+psycopg_async://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    raise ValueError("DATABASE_URL must be a postgresql:// URL")


class Database:
    """An async engine plus the one way collabadmin opens write transactions."""

    def __init__(self, url: str, *, pool_size: int = 10) -> None:
        self.url = normalise_url(url)
        self.engine: AsyncEngine = create_async_engine(
            self.url,
            pool_size=pool_size,
            max_overflow=pool_size,
            pool_pre_ping=False,
            pool_recycle=1800,
        )

    async def dispose(self) -> None:
        await self.engine.dispose()

    @asynccontextmanager
    async def transaction(
        self, actor: Actor, *, source: Source = "api", request_id: str | None = None
    ) -> AsyncIterator[AsyncConnection]:
        """One transaction whose writes are attributed to ``actor``."""
        async with self.engine.begin() as conn:
            await conn.execute(
                _SET_CONTEXT,
                {
                    "actor_id": "" if actor.id is None else str(actor.id),
                    "actor_name": actor.name,
                    "source": source,
                    "request_id": request_id or "",
                },
            )
            yield conn

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        """A read-only unit of work (still one transaction, for a consistent view)."""
        async with self.engine.connect() as conn:
            yield conn
            await conn.rollback()
