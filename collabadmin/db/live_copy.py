"""The materialised copy of a live view: its table, made by the database's owner.

A live view's rows are evaluated by collabadmin and kept in a table of
collabadmin's own schema, keyed by the view's key, so that reading a row is
an index lookup and a change can be diffed against what subscribers were
last told (see :mod:`collabadmin.views`). The copy has the view's columns
(``CREATE TABLE ... (LIKE view)``) plus ``version`` (raised by one per change
of the row) and ``deleted_at`` (a row that left the view stays as a
tombstone, so that the row scope of its ``delete`` frame can still be
decided, and a list shows it gone like a soft-deleted record).

Creating a table is the owner's business (the server role owns nothing), so
this is done by a migration, or by ``collabadmin db live`` on an adopted
database: never by the running server. Making the copy again (the view's
columns changed) drops the old one and forgets the view's evaluated position:
the next server start fills it afresh, without frames.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from typing import Protocol

from collabadmin.db.quoting import quote_ident, quote_literal
from collabadmin.own import OWN_SCHEMA

__all__ = [
    "COPY_PREFIX",
    "copy_table_name",
    "live_copy_sql",
    "make_live_copy",
    "make_model_copy",
    "model_copy_sql",
    "qualified_copy",
]

COPY_PREFIX = "collabadmin_live_"
MAX_NAME_BYTES = 63
RESERVED = ("version", "deleted_at")


class _Executes(Protocol):
    def execute(self, sqltext: str) -> object: ...


def copy_table_name(resource: str) -> str:
    """The copy's table name (in schema ``collabadmin``) for the view served as ``resource``.

    ``collabadmin_live_course_overview``; a schema-qualified resource name
    (``reports.totals``) keeps its dot's place with ``__``; a name too long
    for PostgreSQL is shortened with a digest of the whole.
    """
    name = COPY_PREFIX + resource.replace(".", "__")
    if len(name.encode()) <= MAX_NAME_BYTES:
        return name
    digest = hashlib.sha256(resource.encode()).hexdigest()[:10]
    room = MAX_NAME_BYTES - len(COPY_PREFIX) - len(digest) - 1
    head = resource.replace(".", "__").encode()[:room].decode(errors="ignore")
    return f"{COPY_PREFIX}{head}_{digest}"


def _copy_sql(
    resource: str, keys: list[str], create: Callable[[str], str], check_of: str | None
) -> list[str]:
    """Statements that (re)make the copy of ``resource``: ``create(copy)`` makes its table."""
    if not keys:
        raise ValueError(f"{resource}: a live view needs a key")
    clash = [k for k in keys if k in RESERVED]
    if clash:
        raise ValueError(f"{resource}: the key may not be {', '.join(clash)}")
    copy = qualified_copy(resource)
    key_list = ", ".join(quote_ident(k) for k in keys)
    res = quote_literal(resource)
    copy_in_literal = copy.replace("'", "''")
    statements = [f"DROP TABLE IF EXISTS {copy}"]
    if check_of is not None:
        # A view column named like ours: say so before CREATE fails obscurely.
        statements.append(
            "DO $$ BEGIN"
            f" IF EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = {quote_literal(check_of)}"
            "::regclass AND attname IN ('version', 'deleted_at') AND NOT attisdropped) THEN"
            f"  RAISE EXCEPTION 'live view %: columns version and deleted_at are collabadmin''s',"
            f"   {quote_literal(check_of)};"
            " END IF;"
            " END $$"
        )
    return [
        *statements,
        create(copy),
        f"ALTER TABLE {copy} ADD COLUMN version integer NOT NULL DEFAULT 1,"
        f" ADD COLUMN deleted_at timestamptz, ADD PRIMARY KEY ({key_list})",
        f"DELETE FROM {OWN_SCHEMA}.collabadmin_live_state WHERE view = {res}",
        f"DELETE FROM {OWN_SCHEMA}.collabadmin_live_change WHERE view = {res}",
        "DO $$ BEGIN"
        f" IF to_regprocedure('{OWN_SCHEMA}.collabadmin_app_role()') IS NOT NULL THEN"
        f"  EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON {copy_in_literal}"
        f" TO %I', {OWN_SCHEMA}.collabadmin_app_role());"
        " END IF;"
        " END $$",
    ]


def qualified_copy(resource: str) -> str:
    """The copy's table of the live view served as ``resource``, schema-qualified and quoted."""
    return f"{OWN_SCHEMA}.{quote_ident(copy_table_name(resource))}"


def _keys(key: str | Sequence[str]) -> list[str]:
    return [key] if isinstance(key, str) else list(key)


def live_copy_sql(
    view: str,
    key: str | Sequence[str],
    *,
    schema: str = "public",
    resource: str | None = None,
) -> list[str]:
    """The statements that (re)make the copy of the database view ``schema.view``.

    ``key`` names the view's key column(s); ``resource`` is the name the
    view is served under (default: the view's name, schema-qualified outside
    ``public``). The server role is granted the copy when the database
    records one (``collabadmin db upgrade`` grants every table of
    collabadmin's schema again anyway).
    """
    name = resource or (view if schema == "public" else f"{schema}.{view}")
    source = f"{quote_ident(schema)}.{quote_ident(view)}"
    return _copy_sql(name, _keys(key), lambda copy: f"CREATE TABLE {copy} (LIKE {source})", source)


def model_copy_sql(resource: str, key: str | Sequence[str], select: str) -> list[str]:
    """The statements that (re)make the copy of a Python view model's ``select``.

    The copy takes the columns and types of the SELECT's result (``CREATE
    TABLE ... AS ... WITH NO DATA``); columns named ``version`` or
    ``deleted_at`` are refused by the ``ALTER`` that adds collabadmin's own.
    """

    def create(copy: str) -> str:
        return f"CREATE TABLE {copy} AS SELECT * FROM ({select}) AS model WITH NO DATA"

    return _copy_sql(resource, _keys(key), create, None)


def make_live_copy(
    view: str,
    key: str | Sequence[str],
    *,
    schema: str = "public",
    resource: str | None = None,
    conn: _Executes | None = None,
) -> None:
    """Alembic helper (inside ``upgrade()``), or run on ``conn``: see :func:`live_copy_sql`."""
    _run(live_copy_sql(view, key, schema=schema, resource=resource), conn)


def make_model_copy(
    resource: str, key: str | Sequence[str], select: str, *, conn: _Executes | None = None
) -> None:
    """Alembic helper (inside ``upgrade()``), or run on ``conn``: see :func:`model_copy_sql`."""
    _run(model_copy_sql(resource, key, select), conn)


def _run(statements: list[str], conn: _Executes | None) -> None:
    if conn is None:
        from alembic import op  # noqa: PLC0415 - only inside a migration

        conn = op
    for statement in statements:
        conn.execute(statement)
