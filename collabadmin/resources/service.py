"""Records: the read side of ``/api/r/{resource}``, and what every record action shares.

:class:`RecordService` answers who may do what to which resource, reads
records, lists and histories, and shapes bodies. Writes are action objects
(:mod:`collabadmin.resources.actions`), which hold a service for these
answers: each write is one transaction that locks its row, checks the
precondition against the locked version and writes, so no PATCH can
overwrite a field change it has not seen (DESIGN invariant 3). The version
itself is bumped by the database trigger, never by this code.

Services take an :class:`~collabadmin.db.engine.Actor` and typed inputs
(a :class:`~collabadmin.resources.list_params.RecordListQuery`, never raw
query parameters) and know nothing of HTTP; the routes translate requests.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ClauseElement, and_, select

from collabadmin.changelog.changes import change_body, record_history
from collabadmin.changelog.types import Change
from collabadmin.db.engine import Actor, CompiledSql, Database, Row, Tx
from collabadmin.errors import BadRequest, Conflict, Forbidden, NotFound
from collabadmin.freshness import note_stale
from collabadmin.resources.list_params import RecordListQuery
from collabadmin.resources.listing import (
    COUNT_CAP,
    build_after_row_select,
    build_count_select,
    build_page_select,
)
from collabadmin.resources.policy import READ_ONLY_ACTIONS, Action, Policy
from collabadmin.resources.query import encode_cursor, resolve_list_query
from collabadmin.resources.resource import Registry, Resource

__all__ = ["KeyValues", "Page", "ReadGate", "RecordService", "shown_key"]

KeyValues = tuple[Any, ...]
"""A record's key as its columns' typed values, in key order."""

_NO_KEY = (
    "{plural} have no key (no primary key or unique column): they can be listed,"
    " not addressed one by one."
)


@dataclass(frozen=True, slots=True)
class Page:
    items: list[dict[str, Any]]
    next_cursor: str | None
    total: int | None


def shown_key(pk: KeyValues) -> Any:
    """A key in a message: its value for a single-column key, else the tuple."""
    return pk[0] if len(pk) == 1 else pk


ReadGate = Callable[[str | None], Awaitable[bool]]
"""Brings derived rows (the row of that key, else all) up to date before a read.

False when it could not in time.
"""


class RecordService:
    def __init__(self, db: Database, registry: Registry, policy: Policy) -> None:
        self.db = db
        self.registry = registry
        self.policy = policy
        # Per resource of derived rows (a live view): what a read waits for
        # first, so that it sees every write that returned before it.
        self.read_gates: dict[str, ReadGate] = {}

    async def fresh(self, resource: Resource, pk: KeyValues | None = None) -> None:
        """Derived rows of ``resource`` (the row ``pk``) reflect every committed write.

        Or the reply says they may not (:func:`~collabadmin.freshness.note_stale`).
        """
        gate = self.read_gates.get(resource.name)
        if gate is None:
            return
        key = None if pk is None else resource.key_of(dict(zip(resource.pk, pk, strict=True)))
        if not await gate(key):
            note_stale(resource.name)

    # -- who may do what ---------------------------------------------------------

    def resource(
        self, actor: Actor, name: str, action: Action, *, record: bool = False
    ) -> Resource:
        """The resource, if ``actor`` may do ``action`` on it (on one record: ``record``)."""
        resource = self.registry.get(name)
        if not self.policy.allows(actor, resource, "view"):
            raise Forbidden(f"You may not view {resource.label_plural.lower()}.")
        if record and not resource.addressable:
            raise NotFound(_NO_KEY.format(plural=resource.label_plural))
        if resource.untracked and action not in READ_ONLY_ACTIONS:
            # Not the caller's fault nor a permission: the table needs tracking.
            raise Conflict(
                resource.untracked, track=f"collabadmin db track {resource.table.fullname}"
            )
        if not self.policy.allows(actor, resource, action):
            raise Forbidden(f"You may not {action} {resource.label_plural.lower()}.")
        return resource

    def parse_pk(self, resource: Resource, raw: str, *, stored: bool = False) -> KeyValues:
        """The typed key values of a key written as text; 404 when it cannot be a key.

        A resource with no key (a view without a unique column) is list-only:
        no URL addresses one of its rows.
        """
        if not resource.addressable:
            raise NotFound(_NO_KEY.format(plural=resource.label_plural))
        values = resource.pk_values(raw, url=not stored)
        if values is None:
            raise NotFound(f"No {resource.label.lower()} {raw!r}.")
        return values

    def body(self, actor: Actor, resource: Resource, row: Mapping[str, Any]) -> dict[str, Any]:
        readable = self.policy.readable_fields(actor, resource)
        item = {name: f.json(row[name]) for name, f in resource.fields.items() if name in readable}
        item["_version"] = row["version"] if resource.versioned else 1
        item["_deleted_at"] = row["deleted_at"] if resource.soft_delete else None
        return item

    def by_pk(
        self,
        actor: Actor,
        resource: Resource,
        kind: Hashable,
        action: Action,
        build: Callable[[Any], ClauseElement],
    ) -> ClauseElement | CompiledSql:
        """A statement addressing one row by ``:pk``, within the actor's row scope.

        Unscoped statements are compiled once per resource and cached; a
        scoped one carries actor-specific values and is compiled per call.
        """
        scope = self.policy.row_filter(actor, resource, action)
        if scope is None:
            # The key clause is built only when the statement is compiled: a
            # cached one needs nothing built (SQLAlchemy expressions cost).
            return self.db.sql.get(
                (resource.name, kind, action), lambda: build(resource.key_bound())
            )
        return build(and_(resource.key_bound(), scope))

    async def fetch(self, tx: Tx, actor: Actor, resource: Resource, pk: KeyValues) -> Row | None:
        """The row with key ``pk`` if ``actor`` may view it."""
        table = resource.table
        statement = self.by_pk(
            actor, resource, "get", "view", lambda where: select(table).where(where)
        )
        return await tx.row(statement, resource.key_params(pk))

    # -- reads -------------------------------------------------------------------

    async def list_page(self, actor: Actor, name: str, params: RecordListQuery) -> Page:
        resource = self.resource(actor, name, "view")
        readable = self.policy.readable_fields(actor, resource)
        query = resolve_list_query(resource, params, readable)
        scope = self.policy.row_filter(actor, resource)
        await self.fresh(resource)
        async with self.db.read() as tx:
            if query.after_row is not None:
                after = await tx.rows(build_after_row_select(resource, query, scope))
                if not after:
                    # Purged since (or out of scope): its place in the order is gone.
                    raise BadRequest(
                        "The record this cursor continues from is no longer there;"
                        " start the list again.",
                        parameter="cursor",
                    )
                query.after = [after[0][k.field] for k in query.sort]
            rows = await tx.rows(build_page_select(resource, query, scope))
            total: int | None = None
            if query.after is None:
                counted = await tx.value(build_count_select(resource, query, scope))
                total = None if counted is None or counted > COUNT_CAP else int(counted)
        next_cursor = None
        if len(rows) > query.limit:
            rows = rows[: query.limit]
            next_cursor = encode_cursor(query, rows, resource)
        return Page([self.body(actor, resource, r) for r in rows], next_cursor, total)

    async def get_row(
        self, actor: Actor, name: str, raw_pk: str, *, stored: bool = False
    ) -> tuple[Resource, Row]:
        """The resource and the raw row of a record the actor may view, or 404.

        ``raw_pk`` is a URL's key segment, or with ``stored`` the key's text
        as the change log, topics and bodies write it.
        """
        resource = self.resource(actor, name, "view", record=True)
        pk = self.parse_pk(resource, raw_pk, stored=stored)
        await self.fresh(resource, pk)
        async with self.db.read() as tx:
            row = await self.fetch(tx, actor, resource, pk)
        if row is None:
            raise NotFound(f"No {resource.label.lower()} {raw_pk!r}.")
        return resource, row

    async def get(self, actor: Actor, name: str, raw_pk: str) -> dict[str, Any]:
        resource, row = await self.get_row(actor, name, raw_pk)
        return self.body(actor, resource, row)

    async def history(
        self, actor: Actor, name: str, raw_pk: str, *, before_id: int | None, limit: int
    ) -> tuple[list[Change], str | None]:
        resource, row = await self.get_row(actor, name, raw_pk)
        readable = self.policy.readable_fields(actor, resource)
        pk = resource.key_of(row)
        async with self.db.read() as tx:
            rows, next_cursor = await record_history(
                tx, resource.name, pk, before_id=before_id, limit=limit, derived=resource.derived
            )
        return [change_body(r, readable, resource.fields) for r in rows], next_cursor
