"""Reading and writing view preferences and shared views (tables from migration 0005).

Services take a :class:`~collabadmin.db.engine.Database` and an
:class:`~collabadmin.db.engine.Actor` and know nothing of HTTP. Configs are
validated by :mod:`collabadmin.prefs.config` before they get here and shaped
for the reader after they leave; this module only stores JSON.

Saving a preference is an upsert on ``(user_id, resource)``, so two tabs
saving at once leave the later write, never a unique-violation error. Shared
view names are unique per resource by a database constraint, not by a
check-then-insert that two people could race: a duplicate is the 23505 that
:mod:`collabadmin.errors` turns into a 409.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from collabadmin.db.engine import Actor, Database, Row, Tx
from collabadmin.errors import Conflict, Forbidden, NotFound

__all__ = [
    "delete_shared_view",
    "insert_shared_view",
    "list_shared_views",
    "load_pref",
    "save_pref",
    "update_shared_view",
]

_SHARED_COLUMNS = """
    v.id, v.resource, v.name, v.config, v.created_at,
    v.created_by, u.display_name AS created_by_name
"""


async def load_pref(db: Database, actor: Actor, resource: str) -> Row | None:
    async with db.read() as tx:
        return await tx.row(
            "SELECT config, updated_at FROM collabadmin.collabadmin_view_pref"
            " WHERE user_id = %(user)s AND resource = %(resource)s",
            {"user": actor.id, "resource": resource},
        )


async def save_pref(db: Database, actor: Actor, resource: str, config: dict[str, Any]) -> Row:
    async with db.connection() as tx:
        row = await tx.row(
            "INSERT INTO collabadmin.collabadmin_view_pref AS p (user_id, resource, config)"
            " VALUES (%(user)s, %(resource)s, %(config)s)"
            " ON CONFLICT (user_id, resource)"
            " DO UPDATE SET config = EXCLUDED.config, updated_at = now()"
            " RETURNING config, updated_at",
            {"user": actor.id, "resource": resource, "config": Jsonb(config)},
        )
    assert row is not None
    return row


async def list_shared_views(db: Database, resource: str) -> list[Row]:
    async with db.read() as tx:
        return await tx.rows(
            f"SELECT {_SHARED_COLUMNS} FROM collabadmin.collabadmin_shared_view v"
            " LEFT JOIN collabadmin.collabadmin_user u ON u.id = v.created_by"
            " WHERE v.resource = %(resource)s ORDER BY lower(v.name), v.id",
            {"resource": resource},
        )


async def insert_shared_view(
    db: Database, actor: Actor, resource: str, name: str, config: dict[str, Any]
) -> Row:
    async with db.connection() as tx:
        try:
            row = await tx.row(
                "WITH v AS ("
                "  INSERT INTO collabadmin.collabadmin_shared_view"
                "   (resource, name, config, created_by)"
                "  VALUES (%(resource)s, %(name)s, %(config)s, %(user)s) RETURNING *)"
                f" SELECT {_SHARED_COLUMNS} FROM v"
                " LEFT JOIN collabadmin.collabadmin_user u ON u.id = v.created_by",
                {"resource": resource, "name": name, "config": Jsonb(config), "user": actor.id},
            )
        except psycopg.errors.UniqueViolation:
            # The only unique key besides the id is (resource, name).
            raise Conflict(f"A view named {name!r} already exists.", field="name") from None
    assert row is not None
    return row


async def _lock_own_view(tx: Tx, actor: Actor, resource: str, view_id: int, verb: str) -> None:
    """Lock a shared view of ``resource``: 404 if there is none, 403 unless the actor shared it.

    A superuser may act on anyone's view.
    """
    row = await tx.row(
        "SELECT created_by FROM collabadmin.collabadmin_shared_view"
        " WHERE id = %(id)s AND resource = %(resource)s FOR UPDATE",
        {"id": view_id, "resource": resource},
    )
    if row is None:
        raise NotFound(f"No shared view {view_id}.")
    if row["created_by"] != actor.id and not actor.is_superuser:
        raise Forbidden(f"Only the person who shared a view may {verb} it.")


async def delete_shared_view(db: Database, actor: Actor, resource: str, view_id: int) -> None:
    """Delete a view its creator (or a superuser) no longer wants shared.

    The row is locked while the creator is checked, so a concurrent delete
    cannot turn this one's 403/404 decision stale.
    """
    async with db.transaction(actor) as tx:
        await _lock_own_view(tx, actor, resource, view_id, "delete")
        await tx.run(
            "DELETE FROM collabadmin.collabadmin_shared_view WHERE id = %(id)s", {"id": view_id}
        )


async def update_shared_view(
    db: Database,
    actor: Actor,
    resource: str,
    view_id: int,
    parse: Callable[[], tuple[str, dict[str, Any]]],
) -> Row:
    """Replace a shared view's name and settings: its creator (or a superuser) only.

    The row is locked while the creator is checked, as for a delete; only
    then is the body parsed (``parse`` gives the name and config, or raises
    the 422), so a missing view is a 404 and someone else's a 403 whatever
    the body says. A name another view of the resource has is the 409 an
    insert would get.
    """
    async with db.transaction(actor) as tx:
        await _lock_own_view(tx, actor, resource, view_id, "change")
        name, config = parse()
        try:
            updated = await tx.row(
                "WITH v AS ("
                "  UPDATE collabadmin.collabadmin_shared_view"
                "  SET name = %(name)s, config = %(config)s"
                "  WHERE id = %(id)s RETURNING *)"
                f" SELECT {_SHARED_COLUMNS} FROM v"
                " LEFT JOIN collabadmin.collabadmin_user u ON u.id = v.created_by",
                {"id": view_id, "name": name, "config": Jsonb(config)},
            )
        except psycopg.errors.UniqueViolation:
            raise Conflict(f"A view named {name!r} already exists.", field="name") from None
    assert updated is not None
    return updated
