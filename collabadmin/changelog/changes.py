"""Reading the change log written by the capture triggers.

The log is written only by ``collabadmin_capture()`` inside the writer's
transaction; this module only reads it. Within one record, entry ids follow
commit order because writers of a row are serialised by its row lock, so a
record's history can page by id. (Across records ids are *not* commit order;
the hub reads by transaction snapshots for that.)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Integer,
    MetaData,
    Table,
    Text,
    literal,
    null,
    select,
)
from sqlalchemy.dialects.postgresql import JSONB

from collabadmin.changelog.types import Change, ChangeActor, Entry, JsonForm, Reader
from collabadmin.errors import BadRequest
from collabadmin.inputs import ascii_int
from collabadmin.own import OWN_SCHEMA

__all__ = [
    "CHANGE_LOG",
    "DERIVED_LOG",
    "ChangePage",
    "change_body",
    "parse_id_cursor",
    "record_history",
]

_metadata = MetaData()

CHANGE_LOG = Table(
    "collabadmin_change",
    _metadata,
    Column("id", BigInteger, primary_key=True),
    Column("at", DateTime(timezone=True)),
    Column("resource", Text),
    Column("pk", Text),
    Column("op", Text),
    Column("actor_id", BigInteger),
    Column("actor_name", Text),
    Column("db_role", Text),
    Column("source", Text),
    Column("request_id", Text),
    Column("version_before", Integer),
    Column("version", Integer),
    Column("diff", JSONB),
    schema=OWN_SCHEMA,
)

# The rows of live views that moved (see collabadmin.changelog.batches): not
# audit entries, but a view row's history is read from here.
DERIVED_LOG = Table(
    "collabadmin_live_change",
    _metadata,
    Column("id", BigInteger, primary_key=True),
    Column("at", DateTime(timezone=True)),
    Column("view", Text),
    Column("pk", Text),
    Column("op", Text),
    Column("version", Integer),
    Column("diff", JSONB),
    schema=OWN_SCHEMA,
)


def change_body(
    row: Entry,
    readable: frozenset[str] | None = None,
    fields: Mapping[str, JsonForm] | None = None,
) -> Change:
    """The API's ``Change`` shape; fields outside ``readable`` are dropped from the diff.

    History, the audit log and websocket change frames all come through here,
    so a reader learns the same everywhere about a change it cannot fully
    see: the entry is still there (its ``version`` moves, so versions stay
    continuous), its ``diff`` holds only the fields it may read, and
    ``hidden_fields`` is true when something was left out. Never which
    fields, how many, or their values. With the resource's ``fields``, each
    value takes its field's JSON form, the same as in record bodies (the log
    holds ``to_jsonb`` forms: bytea as hex, intervals as PostgreSQL text).
    """
    diff = row["diff"]
    if fields is not None:
        diff = {name: _json_change(fields.get(name), change) for name, change in diff.items()}
    hidden = False
    if readable is not None:
        shown = {k: v for k, v in diff.items() if k in readable or k == "deleted_at"}
        hidden = len(shown) < len(diff)
        diff = shown
    actor: ChangeActor | None = None
    if row["actor_id"] is not None:
        actor = {"id": row["actor_id"], "name": row["actor_name"]}
    return {
        "id": row["id"],
        "at": row["at"],
        "resource": row["resource"],
        "pk": row["pk"],
        "op": row["op"],
        "actor": actor,
        "source": row["source"],
        "db_role": row["db_role"],
        "request_id": row["request_id"],
        "version": row["version"],
        "diff": diff,
        "hidden_fields": hidden,
    }


def _json_change(f: JsonForm | None, change: Any) -> Any:
    if f is None or not isinstance(change, dict):
        return change
    return {"old": f.json(change.get("old")), "new": f.json(change.get("new"))}


ChangePage = tuple[list[Entry], str | None]


def parse_id_cursor(cursor: str | None) -> int | None:
    if not cursor:
        return None
    before = ascii_int(cursor)
    if before is None:
        raise BadRequest("The cursor is not valid for this list.", parameter="cursor")
    return before


async def record_history(
    tx: Reader,
    resource: str,
    pk: str,
    *,
    before_id: int | None,
    limit: int,
    derived: bool = False,
) -> ChangePage:
    """One page of a record's changes, newest first, and the next cursor.

    ``derived``: a live view's row, whose moves are in the derived log (as
    entries with ``source`` ``view`` and no actor).
    """
    if derived:
        log = DERIVED_LOG
        query = (
            select(
                log.c.id,
                log.c.at,
                log.c.view.label("resource"),
                log.c.pk,
                log.c.op,
                null().label("actor_id"),
                null().label("actor_name"),
                null().label("db_role"),
                literal("view").label("source"),
                null().label("request_id"),
                log.c.version,
                log.c.diff,
            )
            .where(log.c.view == resource, log.c.pk == pk)
            .order_by(log.c.id.desc())
            .limit(limit + 1)
        )
        if before_id is not None:
            query = query.where(log.c.id < before_id)
    else:
        query = (
            select(CHANGE_LOG)
            .where(CHANGE_LOG.c.resource == resource, CHANGE_LOG.c.pk == pk)
            .order_by(CHANGE_LOG.c.id.desc())
            .limit(limit + 1)
        )
        if before_id is not None:
            query = query.where(CHANGE_LOG.c.id < before_id)
    rows = await tx.rows(query)
    next_cursor = str(rows[limit - 1]["id"]) if len(rows) > limit else None
    return rows[:limit], next_cursor
