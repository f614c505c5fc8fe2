"""Record operations: the domain service behind ``/api/r/{resource}``.

Each write is one transaction that locks the row (``SELECT ... FOR UPDATE``),
checks the precondition against the locked version, validates, and writes.
Because the check and the write happen under the same row lock, no PATCH can
overwrite a field change it has not seen (DESIGN invariant 3); the version
itself is bumped by the database trigger, never by this code.

Services take an :class:`~collabadmin.db.engine.Actor` and know nothing of
HTTP; the routes translate requests into these calls.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from psycopg.types.json import Json, Jsonb
from sqlalchemy import (
    ClauseElement,
    ColumnElement,
    and_,
    bindparam,
    delete,
    func,
    select,
    true,
    update,
)
from sqlalchemy.dialects.postgresql import JSONB

from collabadmin.changelog.changes import (
    change_body,
    changes_since,
    parse_id_cursor,
    record_history,
)
from collabadmin.changelog.types import Change
from collabadmin.db.engine import (
    Actor,
    CompiledSql,
    Database,
    Row,
    Source,
    Tx,
    context_subquery,
)
from collabadmin.errors import (
    BadRequest,
    Conflict,
    Forbidden,
    NotFound,
    PreconditionFailed,
)
from collabadmin.resources.listing import (
    COUNT_CAP,
    build_after_row_select,
    build_count_select,
    build_page_select,
)
from collabadmin.resources.policy import READ_ONLY_ACTIONS, Action, Policy
from collabadmin.resources.query import encode_cursor, parse_list_query
from collabadmin.resources.resource import Registry, Resource
from collabadmin.resources.validation import validate_create, validate_patch

__all__ = ["Page", "Precondition", "RecordService"]

_NO_KEY = (
    "{plural} have no key (no primary key or unique column): they can be listed,"
    " not addressed one by one."
)


@dataclass(frozen=True, slots=True)
class Precondition:
    """``If-Match`` (strict) or ``X-Base-Version`` (field merge)."""

    version: int
    strict: bool


@dataclass(frozen=True, slots=True)
class Page:
    items: list[dict[str, Any]]
    next_cursor: str | None
    total: int | None


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


def _patched_form(resource: Resource, name: str, value: Any) -> Any:
    """A value of a patch in its JSON form (``12.5`` for a decimal is ``"12.5"``)."""
    f = resource.fields[name]
    try:
        return f.json(f.check(value))
    except ValueError:
        return value


class RecordService:
    def __init__(self, db: Database, registry: Registry, policy: Policy) -> None:
        self.db = db
        self.registry = registry
        self.policy = policy

    # -- helpers -------------------------------------------------------------

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

    def parse_pk(self, resource: Resource, raw: str, *, stored: bool = False) -> tuple[Any, ...]:
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

    def _by_pk(
        self, actor: Actor, resource: Resource, kind: str, action: Action, build: Any
    ) -> ClauseElement | CompiledSql:
        """A statement addressing one row by ``:pk``, within the actor's row scope.

        Unscoped statements are compiled once per resource and cached; a
        scoped one carries actor-specific values and is compiled per call.
        """
        scope = self.policy.row_filter(actor, resource, action)
        match_pk = resource.key_bound()
        if scope is None:
            return self.db.sql.get((resource.name, kind, action), lambda: build(match_pk))
        statement: ClauseElement = build(and_(match_pk, scope))
        return statement

    async def _fetch(
        self, tx: Tx, actor: Actor, resource: Resource, pk: tuple[Any, ...]
    ) -> Row | None:
        table = resource.table
        statement = self._by_pk(
            actor, resource, "get", "view", lambda where: select(table).where(where)
        )
        return await tx.row(statement, resource.key_params(pk))

    async def _locked(
        self, tx: Tx, actor: Actor, resource: Resource, pk: tuple[Any, ...], action: Action
    ) -> Row:
        """Lock the row for this write; the statement also applies the actor settings.

        A row the actor may see but not act on is a 403; one it may not see, a 404.
        """
        assert tx.context is not None, "writes that lock first open a deferred-context transaction"
        table = resource.table

        def build(where: ColumnElement[bool]) -> ClauseElement:
            context = context_subquery()
            return (
                select(table)
                .select_from(context)
                .join(table, true())
                .where(where)
                .with_for_update(of=table)
            )

        statement = self._by_pk(actor, resource, "lock", action, build)
        row = await tx.row(statement, {**resource.key_params(pk), **tx.context})
        if row is None:
            if await self._fetch(tx, actor, resource, pk) is not None:
                raise Forbidden(f"You may not {action} this {resource.label.lower()}.")
            raise NotFound(f"No {resource.label.lower()} {_shown(pk)!r}.")
        return row

    async def update_row(
        self, tx: Tx, resource: Resource, pk: tuple[Any, ...], values: Mapping[str, Any]
    ) -> Row | None:
        columns = tuple(sorted(values))

        def build() -> ClauseElement:
            return (
                update(resource.table)
                .where(resource.key_bound())
                .values({name: bindparam(_bind(name)) for name in columns})
                .returning(resource.table)
            )

        sql = self.db.sql.get((resource.name, "update", columns), build)
        return await tx.row(sql, {**resource.key_params(pk), **_db_values(resource, values)})

    # -- reads ---------------------------------------------------------------

    async def list_page(
        self,
        actor: Actor,
        name: str,
        params: Mapping[str, Sequence[str]],
        *,
        default_limit: int,
        max_limit: int,
    ) -> Page:
        resource = self.resource(actor, name, "view")
        readable = self.policy.readable_fields(actor, resource)
        query = parse_list_query(
            resource, params, readable, default_limit=default_limit, max_limit=max_limit
        )
        scope = self.policy.row_filter(actor, resource)
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
        async with self.db.read() as tx:
            row = await self._fetch(tx, actor, resource, pk)
        if row is None:
            raise NotFound(f"No {resource.label.lower()} {raw_pk!r}.")
        return resource, row

    async def get(self, actor: Actor, name: str, raw_pk: str) -> dict[str, Any]:
        resource, row = await self.get_row(actor, name, raw_pk)
        return self.body(actor, resource, row)

    async def history(
        self, actor: Actor, name: str, raw_pk: str, *, cursor: str | None, limit: int
    ) -> tuple[list[Change], str | None]:
        resource, row = await self.get_row(actor, name, raw_pk)
        readable = self.policy.readable_fields(actor, resource)
        before = parse_id_cursor(cursor)
        pk = resource.key_of(row)
        async with self.db.read() as tx:
            rows, next_cursor = await record_history(
                tx, resource.name, pk, before_id=before, limit=limit
            )
        return [change_body(r, readable, resource.fields) for r in rows], next_cursor

    # -- writes --------------------------------------------------------------

    async def create(
        self,
        actor: Actor,
        name: str,
        payload: Mapping[str, Any],
        *,
        request_id: str | None = None,
        source: Source = "api",
    ) -> tuple[Resource, dict[str, Any]]:
        resource = self.resource(actor, name, "add")
        values = validate_create(
            resource,
            payload,
            readable=self.policy.readable_fields(actor, resource),
            writable=self.policy.writable_fields(actor, resource, None),
            roles=actor.roles,
        )
        async with self.db.transaction(actor, source=source, request_id=request_id) as tx:
            row = await self.insert_row(tx, resource, values)
            scope = self.policy.row_filter(actor, resource, "add")
            if scope is not None:
                visible = await tx.row(
                    select(true()).where(resource.key_clause(resource.key_values(row)), scope)
                )
                if visible is None:
                    # Rolled back by the raise: a user may not create rows it could not see.
                    raise Forbidden("You may not create a record outside your scope.")
        return resource, self.body(actor, resource, row)

    async def insert_row(self, tx: Tx, resource: Resource, values: Mapping[str, Any]) -> Row:
        columns = tuple(sorted(values))

        def build() -> ClauseElement:
            return (
                resource.table.insert()
                .values({n: bindparam(_bind(n)) for n in columns})
                .returning(resource.table)
            )

        sql = self.db.sql.get((resource.name, "insert", columns), build)
        row = await tx.row(sql, _db_values(resource, values))
        assert row is not None
        return row

    async def conflicts(
        self,
        tx: Tx,
        resource: Resource,
        row: Row,
        base: int,
        patch: Mapping[str, Any],
    ) -> list[dict[str, Any]]:
        """Fields of ``patch`` that someone else changed since version ``base``.

        A field counts only if its value now differs both from the base and
        from the patch (two people making the same edit do not conflict).
        If the log cannot cover the gap (entries pruned), every differing
        field is reported, with an unknown base.
        """
        current_version = row["version"]
        entries = await changes_since(tx, resource.name, resource.key_of(row), base)
        complete = len(entries) == current_version - base
        base_values: dict[str, Any] = {}
        for entry in entries:
            for name, change in entry["diff"].items():
                f = resource.fields.get(name)
                base_values.setdefault(name, f.json(change["old"]) if f else change["old"])
        conflicts = []
        for name, patched in patch.items():
            if name.startswith("_") or name not in resource.fields:
                continue
            theirs = resource.fields[name].json(row[name])
            yours = _patched_form(resource, name, patched)
            if theirs == yours:
                continue
            if complete and name not in base_values:
                continue
            base_value = base_values.get(name)
            if complete and theirs == base_value:
                continue
            conflicts.append({"field": name, "base": base_value, "theirs": theirs, "yours": yours})
        return conflicts

    async def patch(
        self,
        actor: Actor,
        name: str,
        raw_pk: str,
        payload: Mapping[str, Any],
        precondition: Precondition,
        *,
        request_id: str | None = None,
        source: Source = "api",
    ) -> dict[str, Any]:
        resource = self.resource(actor, name, "change", record=True)
        pk = self.parse_pk(resource, raw_pk)
        readable = self.policy.readable_fields(actor, resource)
        async with self.db.transaction(
            actor, source=source, request_id=request_id, deferred_context=True
        ) as tx:
            row = await self._locked(tx, actor, resource, pk, "change")
            if resource.soft_delete and row["deleted_at"] is not None:
                raise Conflict(
                    "The record is deleted; restore it before changing it.",
                    current=self.body(actor, resource, row),
                )
            changes = validate_patch(
                resource,
                payload,
                row,
                readable=readable,
                writable=self.policy.writable_fields(actor, resource, row),
                roles=actor.roles,
            )
            await self._check_precondition(
                tx,
                actor=actor,
                resource=resource,
                row=row,
                precondition=precondition,
                payload=payload,
            )
            if not changes:
                return self.body(actor, resource, row)
            new_row = await self.update_row(tx, resource, pk, changes)
        # A table's own BEFORE trigger may cancel the row (RETURN NULL).
        return self.body(actor, resource, new_row if new_row is not None else row)

    async def _check_precondition(
        self,
        tx: Tx,
        *,
        actor: Actor,
        resource: Resource,
        row: Row,
        precondition: Precondition,
        payload: Mapping[str, Any],
    ) -> None:
        current = row["version"]
        if precondition.version == current:
            return
        readable = self.policy.readable_fields(actor, resource)
        visible_patch = {k: v for k, v in payload.items() if k in readable}
        if precondition.version > current:
            raise PreconditionFailed(
                f"Version {precondition.version} does not exist yet; the record is at {current}.",
                current=self.body(actor, resource, row),
                conflicts=[],
            )
        conflicts = await self.conflicts(tx, resource, row, precondition.version, visible_patch)
        if precondition.strict:
            raise PreconditionFailed(
                f"The record changed since version {precondition.version}; it is at {current}.",
                current=self.body(actor, resource, row),
                conflicts=conflicts,
            )
        if conflicts:
            raise Conflict(
                "Someone else changed the same fields since your version.",
                current=self.body(actor, resource, row),
                conflicts=conflicts,
            )

    async def _set_deleted(
        self,
        actor: Actor,
        name: str,
        raw_pk: str,
        version: int,
        *,
        deleted: bool,
        request_id: str | None,
    ) -> dict[str, Any]:
        action: Action = "delete" if deleted else "restore"
        resource = self.resource(actor, name, action, record=True)
        if not resource.soft_delete:
            raise BadRequest(f"{resource.label_plural} have no soft delete; purge instead.")
        pk = self.parse_pk(resource, raw_pk)
        async with self.db.transaction(actor, request_id=request_id, deferred_context=True) as tx:
            row = await self._locked(tx, actor, resource, pk, action)
            await self._check_precondition(
                tx,
                actor=actor,
                resource=resource,
                row=row,
                precondition=Precondition(version, strict=True),
                payload={},
            )
            if (row["deleted_at"] is not None) == deleted:
                return self.body(actor, resource, row)
            new_row = await tx.row(
                update(resource.table)
                .where(resource.key_clause(pk))
                .values(deleted_at=func.now() if deleted else None)
                .returning(resource.table)
            )
            assert new_row is not None
        return self.body(actor, resource, new_row)

    async def soft_delete(
        self, actor: Actor, name: str, raw_pk: str, version: int, *, request_id: str | None = None
    ) -> dict[str, Any]:
        return await self._set_deleted(
            actor, name, raw_pk, version, deleted=True, request_id=request_id
        )

    async def restore(
        self, actor: Actor, name: str, raw_pk: str, version: int, *, request_id: str | None = None
    ) -> dict[str, Any]:
        return await self._set_deleted(
            actor, name, raw_pk, version, deleted=False, request_id=request_id
        )

    async def purge(
        self, actor: Actor, name: str, raw_pk: str, version: int, *, request_id: str | None = None
    ) -> None:
        """Hard delete. The change log keeps the row's final snapshot."""
        resource = self.resource(actor, name, "purge", record=True)
        pk = self.parse_pk(resource, raw_pk)
        async with self.db.transaction(actor, request_id=request_id, deferred_context=True) as tx:
            row = await self._locked(tx, actor, resource, pk, "purge")
            await self._check_precondition(
                tx,
                actor=actor,
                resource=resource,
                row=row,
                precondition=Precondition(version, strict=True),
                payload={},
            )
            await tx.run(delete(resource.table).where(resource.key_clause(pk)))


def _shown(pk: tuple[Any, ...]) -> Any:
    """A key in a message: its value for a single-column key, else the tuple."""
    return pk[0] if len(pk) == 1 else pk
