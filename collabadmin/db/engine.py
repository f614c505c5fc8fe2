"""Connections, transactions and statement execution.

SQLAlchemy Core builds the SQL (tables, expressions, the psycopg dialect's
compiler); psycopg 3 and its pool execute it. Measured on the PATCH path,
SQLAlchemy's async execution layer (greenlet bridge, execution contexts,
result metadata) cost about 2.3 ms of CPU per request against 0.6 ms for
the same statements through psycopg directly, and the server is CPU-bound
long before PostgreSQL is, so the execution layer is psycopg's own. Hot
statements are compiled once and cached (:class:`SqlCache`).

Every write goes through :meth:`Database.transaction`, which opens one
transaction and sets the ``collabadmin.*`` settings with ``set_config(...,
true)`` (the function form of ``SET LOCAL``) so that the capture trigger
records who made the change, through which surface and in which request.
A write made by any other SQL client carries none of these settings and is
recorded with ``source = 'db'`` and the database role.

The pool works as the restricted server role (:mod:`collabadmin.db.roles`):
when ``DATABASE_URL`` names the owner or a superuser, every new connection
switches to it with ``SET ROLE`` before it is handed out, so no request,
background task or bug in the server can write the change log or anything
else the server role may not. The capture trigger believes the actor
settings only from that role.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, Literal, TypeAlias

import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import set_json_loads
from psycopg_pool import AsyncConnectionPool
from sqlalchemy import bindparam, func, literal_column, select, true
from sqlalchemy.dialects.postgresql.psycopg import PGDialect_psycopg
from sqlalchemy.engine import make_url
from sqlalchemy.sql.expression import ClauseElement, Subquery

from collabadmin.db.json import exact_json_loads
from collabadmin.db.roles import server_role, set_role_statement

__all__ = [
    "SYSTEM",
    "Actor",
    "Database",
    "Row",
    "Source",
    "SqlCache",
    "Tx",
    "compile_sql",
    "context_subquery",
    "libpq_url",
    "normalise_url",
]

Source = Literal["api", "draft", "revert", "workflow", "action", "bulk", "import", "db"]
Row = dict[str, Any]
Params = Mapping[str, Any] | None


@dataclass(frozen=True, slots=True)
class Actor:
    """Who is acting: a user of collabadmin, or the system itself (id None)."""

    id: int | None
    name: str
    username: str = ""
    roles: frozenset[str] = frozenset()
    is_superuser: bool = False


SYSTEM = Actor(id=None, name="system", is_superuser=True)

_CONTEXT_SETTINGS = ("actor_id", "actor_name", "source", "request_id")
_SET_CONTEXT = "SELECT " + ", ".join(
    f"set_config('collabadmin.{name}', %(ctx_{name})s, true)" for name in _CONTEXT_SETTINGS
)


def context_subquery() -> Subquery:
    """A one-row FROM item that sets the transaction's actor settings.

    Joining it into a transaction's first statement (the row lock of a
    write) saves the round trip of a separate ``SELECT set_config(...)``.
    PostgreSQL never drops volatile outputs of a subquery, so the settings
    are applied whenever the statement returns a row; a statement that
    returns none is followed by no write.
    """
    return select(
        *(
            func.set_config(
                literal_column(f"'collabadmin.{name}'"), bindparam(f"ctx_{name}"), true()
            ).label(name)
            for name in _CONTEXT_SETTINGS
        )
    ).subquery("collabadmin_context")


# json/jsonb are read with their numbers exact: the change log's diffs hold
# numeric columns as JSON numbers (to_jsonb), and "12.50" must stay "12.50"
# in history, conflicts and websocket frames, as it is in record bodies.
set_json_loads(exact_json_loads)

_DIALECT = PGDialect_psycopg()  # type: ignore[no-untyped-call]


def normalise_url(url: str) -> str:
    """Accept libpq-style ``postgresql://`` URLs; return a SQLAlchemy psycopg URL."""
    for prefix in ("postgresql+psycopg://", "postgresql+psycopg_async://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    raise ValueError("DATABASE_URL must be a postgresql:// URL")


def libpq_url(url: str) -> str:
    """Any accepted database URL as a libpq connection URI (psycopg's own format)."""
    parsed = make_url(normalise_url(url)).set(drivername="postgresql")
    return parsed.render_as_string(hide_password=False)


def compile_sql(statement: ClauseElement) -> tuple[str, dict[str, Any]]:
    """SQL text with ``%(name)s`` placeholders, and the statement's bound values."""
    compiled = statement.compile(dialect=_DIALECT, compile_kwargs={"render_postcompile": True})
    return compiled.string, dict(compiled.params)


@dataclass(frozen=True, slots=True)
class CompiledSql:
    """SQL text plus the values bound at build time (constants of the statement)."""

    sql: str
    defaults: dict[str, Any]


Statement: TypeAlias = ClauseElement | str | CompiledSql


class SqlCache:
    """Compiled SQL of hot statements, keyed by what shapes them.

    Builders use ``bindparam`` for every per-call value so that one compiled
    text serves all calls; constants bound while building are kept as
    defaults and merged under the call's values at execution time.
    """

    def __init__(self, capacity: int = 2048) -> None:
        self.capacity = capacity
        self._entries: OrderedDict[Any, CompiledSql] = OrderedDict()

    def get(self, key: Any, build: Callable[[], ClauseElement]) -> CompiledSql:
        compiled = self._entries.get(key)
        if compiled is None:
            sql, params = compile_sql(build())
            defaults = {k: v for k, v in params.items() if v is not None}
            compiled = CompiledSql(sql, defaults)
            self._entries[key] = compiled
            if len(self._entries) > self.capacity:
                self._entries.popitem(last=False)
        return compiled


def _context_params(actor: Actor, source: Source, request_id: str | None) -> dict[str, str]:
    return {
        "ctx_actor_id": "" if actor.id is None else str(actor.id),
        "ctx_actor_name": actor.name,
        "ctx_source": source,
        "ctx_request_id": request_id or "",
    }


class Tx:
    """A connection inside a unit of work, with small typed helpers.

    ``context`` holds the actor settings when the transaction was opened with
    ``deferred_context``: the caller's first statement must join
    :func:`context_subquery` and pass ``context`` among its parameters. On a
    connection of :meth:`Database.attributed` (autocommit) every writing
    statement must.
    """

    __slots__ = ("conn", "context")

    def __init__(
        self, conn: psycopg.AsyncConnection[Row], context: dict[str, str] | None = None
    ) -> None:
        self.conn = conn
        self.context = context

    async def _cursor(self, statement: Statement, params: Params) -> psycopg.AsyncCursor[Row]:
        # Statements built per request (filters, searches) are never prepared:
        # a generic plan chosen after a few executions can be right for one
        # time range and very wrong for another. Cached hot statements are.
        prepare: bool | None = False
        if isinstance(statement, str):
            sql, values = statement, dict(params or {})
            prepare = None
        elif isinstance(statement, CompiledSql):
            sql, values = statement.sql, {**statement.defaults, **(params or {})}
            prepare = None
        else:
            sql, values = compile_sql(statement)
            if params:
                values.update(params)
        return await self.conn.execute(sql, values, prepare=prepare)

    async def rows(
        self, statement: Statement, params: Mapping[str, Any] | None = None
    ) -> list[Row]:
        cursor = await self._cursor(statement, params)
        return await cursor.fetchall()

    async def row(
        self, statement: Statement, params: Mapping[str, Any] | None = None
    ) -> Row | None:
        cursor = await self._cursor(statement, params)
        return await cursor.fetchone()

    async def value(self, statement: Statement, params: Params = None) -> Any:
        row = await self.row(statement, params)
        return None if row is None else next(iter(row.values()))

    async def attribute(
        self, actor: Actor, source: Source = "api", request_id: str | None = None
    ) -> None:
        """Attribute this transaction's later writes to ``actor`` (e.g. once it is known)."""
        await self.conn.execute(_SET_CONTEXT, _context_params(actor, source, request_id))

    async def run(self, statement: Statement, params: Params = None) -> int:
        cursor = await self._cursor(statement, params)
        return cursor.rowcount


class Database:
    """A psycopg connection pool and the one way collabadmin opens write transactions."""

    def __init__(
        self,
        url: str,
        *,
        pool_size: int = 20,
        timeout: float = 10.0,
        session_settings: Mapping[str, str] | None = None,
    ) -> None:
        self.url = normalise_url(url)
        self.conninfo = libpq_url(url)
        self.sql = SqlCache()
        settings = dict(session_settings or {})
        # The role each connection switches to; found when the pool opens.
        self.switch_to: str | None = None
        self._opening = asyncio.Lock()

        async def configure(conn: psycopg.AsyncConnection[Row]) -> None:
            # Session-level (the connection is in autocommit): it holds for
            # the connection's life, and no request code resets it.
            if self.switch_to is not None:
                await conn.execute(set_role_statement(self.switch_to))
            for name, value in settings.items():
                await conn.execute("SELECT set_config(%s, %s, false)", (name, value))

        # A fixed-size pool: connections opened and closed per request under
        # load cost a backend fork each, more than waiting for a pooled one.
        self.pool: AsyncConnectionPool[psycopg.AsyncConnection[Row]] = AsyncConnectionPool(
            self.conninfo,
            min_size=min(2, pool_size),
            max_size=pool_size,
            timeout=timeout,
            open=False,
            kwargs={"autocommit": True, "row_factory": dict_row},
            configure=configure,
        )
        self._opened = False

    async def open(self) -> None:
        """Open the pool, working as the server role (raises DatabaseRoleError if it cannot)."""
        if self._opened:
            return
        async with self._opening:
            if not self._opened:
                self.switch_to = await server_role(self.conninfo)
                await self.pool.open()
                self._opened = True

    async def dispose(self) -> None:
        if self._opened:
            await self.pool.close()
            self._opened = False

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[Tx]:
        """A pooled connection in autocommit mode (each statement on its own)."""
        await self.open()
        async with self.pool.connection() as conn:
            yield Tx(conn)

    @asynccontextmanager
    async def transaction(
        self,
        actor: Actor,
        *,
        source: Source = "api",
        request_id: str | None = None,
        deferred_context: bool = False,
    ) -> AsyncIterator[Tx]:
        """One transaction whose writes are attributed to ``actor``.

        With ``deferred_context`` the settings travel with the caller's first
        statement (see :class:`Tx`) instead of a statement of their own.
        """
        await self.open()
        context = _context_params(actor, source, request_id)
        async with self.pool.connection() as conn, conn.transaction():
            if deferred_context:
                yield Tx(conn, context)
                return
            await conn.execute(_SET_CONTEXT, context)
            yield Tx(conn)

    @asynccontextmanager
    async def attributed(
        self, actor: Actor, *, source: Source = "api", request_id: str | None = None
    ) -> AsyncIterator[Tx]:
        """A pooled connection in autocommit whose writes are attributed to ``actor``.

        Each statement is a transaction of its own, so the settings cannot be
        set once: a statement that writes joins :func:`context_subquery` and
        passes ``tx.context`` among its parameters, as the first statement of
        a ``deferred_context`` transaction does. One statement, one round
        trip: no ``BEGIN``, no ``COMMIT``.
        """
        await self.open()
        async with self.pool.connection() as conn:
            yield Tx(conn, _context_params(actor, source, request_id))

    @asynccontextmanager
    async def read(self) -> AsyncIterator[Tx]:
        """A unit of reads; each statement sees the latest committed data."""
        async with self.connection() as tx:
            yield tx
