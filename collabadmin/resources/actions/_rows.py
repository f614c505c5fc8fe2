"""The SQL of record writes: lock one row within the actor's scope, insert, update.

Hot statements are compiled once per shape (:class:`~collabadmin.db.engine.SqlCache`):
the lock per resource and action, the update per set of columns, the insert
per set of columns. Every per-call value is a bind parameter, including
column values, whose bind names are derived from the column name so that
any column name (spaces, quotes) gives a safe one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from psycopg.types.json import Json, Jsonb
from sqlalchemy import (
    ClauseElement,
    ColumnElement,
    Select,
    and_,
    bindparam,
    delete,
    select,
    true,
    tuple_,
    update,
)
from sqlalchemy.dialects.postgresql import JSONB

from collabadmin.db.engine import Actor, Row, Tx, context_subquery
from collabadmin.errors import Forbidden, NotFound
from collabadmin.resources.policy import Action
from collabadmin.resources.resource import Resource
from collabadmin.resources.service import KeyValues, RecordService, shown_key

__all__ = [
    "delete_rows",
    "insert_row",
    "insert_rows",
    "keys_in",
    "lock_row",
    "lock_rows",
    "read_row",
    "update_row",
    "update_row_at",
    "update_rows",
]


def _db_value(resource: Resource, name: str, value: Any) -> Any:
    f = resource.fields.get(name)  # None: metadata (deleted_at)
    if f is None or f.type != "json" or value is None:
        return value
    # json and jsonb each get their own wrapper: jsonb has no assignment cast to json.
    return Jsonb(value) if isinstance(resource.column(name).type, JSONB) else Json(value)


def _bind(name: str) -> str:
    """A bind parameter name for a column: any column name (spaces, quotes) gives a safe one."""
    return "v_" + name.encode().hex()


def _db_values(resource: Resource, values: Mapping[str, Any]) -> dict[str, Any]:
    """Column values as psycopg expects them (JSON fields wrapped), keyed by bind name."""
    return {_bind(name): _db_value(resource, name, value) for name, value in values.items()}


async def lock_row(
    records: RecordService,
    tx: Tx,
    actor: Actor,
    resource: Resource,
    pk: KeyValues,
    *,
    action: Action,
) -> Row:
    """Lock the row for a write of ``action``, within the actor's row scope for it.

    The scope is part of the locking statement, not a check made before it:
    a row cannot leave the scope between the check and the write. A row the
    actor may see but not act on is a 403; one it may not see, a 404.

    In a transaction opened with ``deferred_context`` (the action's own),
    the statement also applies the actor settings (:func:`context_subquery`),
    saving a round trip; in a caller's transaction they are already set.
    """
    table = resource.table
    deferred = tx.context is not None

    def build(where: ColumnElement[bool]) -> ClauseElement:
        statement = select(table)
        if deferred:
            statement = statement.select_from(context_subquery()).join(table, true())
        return statement.where(where).with_for_update(of=table)

    kind = "lock+context" if deferred else "lock"
    statement = records.by_pk(actor, resource, kind, action, build)
    row = await tx.row(statement, {**resource.key_params(pk), **(tx.context or {})})
    if row is None:
        if await records.fetch(tx, actor, resource, pk) is not None:
            raise Forbidden(f"You may not {action} this {resource.label.lower()}.")
        raise NotFound(f"No {resource.label.lower()} {shown_key(pk)!r}.")
    return row


async def read_row(
    records: RecordService,
    tx: Tx,
    actor: Actor,
    resource: Resource,
    pk: KeyValues,
    *,
    action: Action,
) -> Row | None:
    """The row as it is now, if it is within the actor's row scope for ``action``; no lock."""

    def build(where: ColumnElement[bool]) -> ClauseElement:
        return select(resource.table).where(where)

    statement = records.by_pk(actor, resource, "get", action, build)
    return await tx.row(statement, resource.key_params(pk))


async def update_row_at(
    records: RecordService,
    tx: Tx,
    actor: Actor,
    resource: Resource,
    pk: KeyValues,
    *,
    values: Mapping[str, Any],
    version: int,
    action: Action,
) -> Row | None:
    """Write ``values`` in one statement, if the row is still at ``version`` and in scope.

    For a connection of :meth:`~collabadmin.db.engine.Database.attributed`
    (autocommit): the statement applies the actor settings itself, so the
    capture trigger records who wrote. None when nothing was written: the
    row moved on (or left the scope) since it was read, or a table's own
    BEFORE trigger cancelled the write.
    """
    assert tx.context is not None, "a statement of its own must carry the actor settings"
    table = resource.table
    columns = tuple(sorted(values))

    def build(where: ColumnElement[bool]) -> ClauseElement:
        context = context_subquery()
        return (
            update(table)
            # The settings' FROM item is joined by naming one of its columns:
            # set_config returns the value it set, never NULL.
            .where(where, table.c.version == bindparam("at_version"), context.c.source.isnot(None))
            .values({name: bindparam(_bind(name)) for name in columns})
            .returning(table)
        )

    statement = records.by_pk(actor, resource, ("update_at", columns), action, build)
    params = {
        **resource.key_params(pk),
        **_db_values(resource, values),
        "at_version": version,
        **tx.context,
    }
    return await tx.row(statement, params)


async def update_row(
    records: RecordService, tx: Tx, resource: Resource, pk: KeyValues, values: Mapping[str, Any]
) -> Row | None:
    """Write ``values`` to the row; None when a table's own BEFORE trigger cancelled it."""
    columns = tuple(sorted(values))

    def build() -> ClauseElement:
        return (
            update(resource.table)
            .where(resource.key_bound())
            .values({name: bindparam(_bind(name)) for name in columns})
            .returning(resource.table)
        )

    sql = records.db.sql.get((resource.name, "update", columns), build)
    return await tx.row(sql, {**resource.key_params(pk), **_db_values(resource, values)})


def _insert_sql(records: RecordService, resource: Resource, columns: tuple[str, ...]) -> Any:
    def build() -> ClauseElement:
        return (
            resource.table.insert()
            .values({n: bindparam(_bind(n)) for n in columns})
            .returning(resource.table)
        )

    return records.db.sql.get((resource.name, "insert", columns), build)


async def insert_rows(
    records: RecordService,
    tx: Tx,
    resource: Resource,
    columns: tuple[str, ...],
    rows: Sequence[Mapping[str, Any]],
) -> list[Row]:
    """Insert ``rows`` (each of exactly ``columns``) in one round trip; the rows as inserted.

    One statement per row (each fires the table's triggers, the capture
    trigger included), sent together in psycopg's pipeline.
    """
    sql = _insert_sql(records, resource, columns)
    params = [{**sql.defaults, **_db_values(resource, row)} for row in rows]
    inserted: list[Row] = []
    async with tx.conn.cursor() as cursor:
        await cursor.executemany(sql.sql, params, returning=True)
        while True:
            row = await cursor.fetchone()
            assert row is not None
            inserted.append(row)
            if not cursor.nextset():
                break
    return inserted


async def insert_row(
    records: RecordService, tx: Tx, resource: Resource, values: Mapping[str, Any]
) -> Row:
    columns = tuple(sorted(values))
    sql = _insert_sql(records, resource, columns)
    row = await tx.row(sql, _db_values(resource, values))
    assert row is not None
    return row


# -- many rows at once (bulk edits): one statement per batch -----------------


def keys_in(resource: Resource, keys: Sequence[KeyValues]) -> ColumnElement[bool]:
    """The rows whose key is one of ``keys`` (typed values); served by the key's index."""
    if len(resource.pk) == 1:
        return resource.column(resource.pk[0]).in_([k[0] for k in keys])
    return tuple_(*resource.key_columns()).in_(list(keys))


def lock_rows(
    resource: Resource, where: ColumnElement[bool], scope: ColumnElement[bool] | None
) -> Select[Any]:
    """``SELECT ... FOR UPDATE`` of the rows of ``where`` within ``scope``, in key order.

    Locks are taken in key order, so two bulk edits over the same rows
    wait for each other instead of deadlocking.
    """
    clauses = [where] if scope is None else [where, scope]
    return (
        select(resource.table)
        .where(and_(*clauses))
        .order_by(*resource.key_columns())
        .with_for_update(of=resource.table)
    )


async def update_rows(
    tx: Tx, resource: Resource, keys: Sequence[KeyValues], values: Mapping[str, Any]
) -> list[Row]:
    """Write the same ``values`` to every row of ``keys`` in one statement; the rows written.

    The rows are locked by the caller and were checked one by one (scope,
    field rules, versions): this is only the write. The capture trigger
    logs one change per row. A row a table's own BEFORE trigger cancelled
    is not returned.
    """
    assignments = {
        name: value
        if isinstance(value, ClauseElement)  # SQL of its own: now()
        else bindparam(
            _bind(name), _db_value(resource, name, value), type_=resource.table.c[name].type
        )
        for name, value in sorted(values.items())
    }
    statement = (
        update(resource.table)
        .where(keys_in(resource, keys))
        .values(assignments)
        .returning(resource.table)
    )
    return await tx.rows(statement)


async def delete_rows(tx: Tx, resource: Resource, keys: Sequence[KeyValues]) -> list[Row]:
    """Delete the rows of ``keys`` (locked and checked by the caller) in one statement."""
    statement = delete(resource.table).where(keys_in(resource, keys)).returning(resource.table)
    return await tx.rows(statement)
