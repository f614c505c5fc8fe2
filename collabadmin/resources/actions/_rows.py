"""The SQL of record writes: lock one row within the actor's scope, insert, update.

Hot statements are compiled once per shape (:class:`~collabadmin.db.engine.SqlCache`):
the lock per resource and action, the update per set of columns, the insert
per set of columns. Every per-call value is a bind parameter, including
column values, whose bind names are derived from the column name so that
any column name (spaces, quotes) gives a safe one.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from psycopg.types.json import Json, Jsonb
from sqlalchemy import ClauseElement, ColumnElement, bindparam, select, true, update
from sqlalchemy.dialects.postgresql import JSONB

from collabadmin.db.engine import Actor, Row, Tx, context_subquery
from collabadmin.errors import Forbidden, NotFound
from collabadmin.resources.policy import Action
from collabadmin.resources.resource import Resource
from collabadmin.resources.service import KeyValues, RecordService, shown_key

__all__ = ["insert_row", "lock_row", "read_row", "update_row", "update_row_at"]


def _db_value(resource: Resource, name: str, value: Any) -> Any:
    f = resource.fields[name]
    if f.type != "json" or value is None:
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


async def insert_row(
    records: RecordService, tx: Tx, resource: Resource, values: Mapping[str, Any]
) -> Row:
    columns = tuple(sorted(values))

    def build() -> ClauseElement:
        return (
            resource.table.insert()
            .values({n: bindparam(_bind(n)) for n in columns})
            .returning(resource.table)
        )

    sql = records.db.sql.get((resource.name, "insert", columns), build)
    row = await tx.row(sql, _db_values(resource, values))
    assert row is not None
    return row
