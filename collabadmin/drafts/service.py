"""Drafts: create, read, edit, preview, comment, and move through review.

A draft stores only the fields it would change, as JSON, pinned to the
record's version when it was started. The live record is not touched until
publish (:mod:`collabadmin.drafts.publish`). Every write here is one
transaction that locks the draft row, so concurrent edits and transitions
are serialised by the database, and the draft's own ``version`` (bumped by
the capture trigger, like a record's) gives editors the same ``If-Match`` /
``X-Base-Version`` rules as records.

Review follows one state machine, kept in :data:`TRANSITIONS`::

    draft ──submit──▶ submitted ──approve──▶ approved ──publish──▶ published
      ▲                   │ reject               │ reject
      └──(edit, submit)── rejected ◀─────────────┘
    (any state before published) ──discard──▶ discarded
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import msgspec
from psycopg.types.json import Jsonb
from sqlalchemy import and_, func, select, true, update

from collabadmin.changelog.changes import CHANGE_LOG, parse_id_cursor
from collabadmin.db.engine import Actor, Row, Tx
from collabadmin.drafts.access import Capability, denial, draft_body, require, visible_clause
from collabadmin.drafts.tables import DRAFT_EVENTS, DRAFTS, STATUSES
from collabadmin.errors import (
    BadRequest,
    Conflict,
    FieldError,
    NotFound,
    PreconditionFailed,
    ValidationFailed,
)
from collabadmin.inputs import ascii_int, parse_limit
from collabadmin.resources.query import single_param
from collabadmin.resources.resource import Resource
from collabadmin.resources.service import Precondition, RecordService
from collabadmin.resources.validation import validate_patch

__all__ = ["TRANSITIONS", "DraftService", "Transition"]

MAX_COMMENT = 4000
TransitionName = Literal["submit", "approve", "reject", "discard"]


@dataclass(frozen=True, slots=True)
class Transition:
    sources: frozenset[str]
    target: str
    needs: Capability | None  # None: either capability will do


TRANSITIONS: dict[str, Transition] = {
    "submit": Transition(frozenset({"draft", "rejected"}), "submitted", "edit"),
    "approve": Transition(frozenset({"submitted"}), "approved", "review"),
    "reject": Transition(frozenset({"submitted", "approved"}), "rejected", "review"),
    "discard": Transition(
        frozenset({"draft", "submitted", "approved", "rejected"}), "discarded", None
    ),
}
EDITABLE = frozenset({"draft", "rejected"})


def json_values(resource: Resource, values: Mapping[str, Any]) -> dict[str, Any]:
    """Validated field values in their fields' JSON forms, as record bodies hold them."""
    return {
        name: resource.fields[name].json(value)
        if name in resource.fields
        else msgspec.to_builtins(value)
        for name, value in values.items()
    }


def parse_comment(body: Mapping[str, Any], allowed: Sequence[str] = ()) -> str | None:
    """The optional ``comment`` of a transition body (422 if it is not short text)."""
    errors = [FieldError(k, "Unknown field.") for k in sorted(set(body) - {"comment", *allowed})]
    comment = body.get("comment")
    if comment is not None and (not isinstance(comment, str) or len(comment) > MAX_COMMENT):
        errors.append(FieldError("comment", f"Text of at most {MAX_COMMENT} characters."))
    if errors:
        raise ValidationFailed(errors)
    return comment.strip() or None if isinstance(comment, str) else None


def _data_of(body: Mapping[str, Any], allowed: set[str]) -> dict[str, Any]:
    errors = [FieldError(k, "Unknown field.") for k in sorted(set(body) - allowed)]
    data: Any = body.get("data", {})
    if not isinstance(data, dict):
        errors.append(FieldError("data", "An object of field values."))
    if errors:
        raise ValidationFailed(errors)
    return {str(name): value for name, value in data.items()}


class DraftService:
    def __init__(self, records: RecordService) -> None:
        self.records = records
        self.db = records.db
        self.registry = records.registry
        self.policy = records.policy

    # -- helpers -------------------------------------------------------------

    def target(self, name: str) -> Resource:
        if name not in self.registry:
            raise NotFound(f"No resource named {name!r}.")
        return self.registry.get(name)

    def body(self, actor: Actor, row: Row) -> dict[str, Any]:
        return draft_body(self.policy, actor, self.target(row["resource"]), row)

    async def load(self, tx: Tx, actor: Actor, raw_id: str | int, *, lock: bool = False) -> Row:
        """A draft ``actor`` may see (404 otherwise), locked for a write if asked."""
        draft_id = raw_id if isinstance(raw_id, int) else ascii_int(raw_id)
        if draft_id is None:
            raise NotFound(f"No draft {raw_id!r}.")
        statement = select(DRAFTS).where(
            DRAFTS.c.id == draft_id, visible_clause(self.policy, self.registry, actor)
        )
        if lock:
            statement = statement.with_for_update(of=DRAFTS)
        row = await tx.row(statement)
        if row is None:
            raise NotFound(f"No draft {raw_id!r}.")
        return row

    async def record_event(
        self,
        tx: Tx,
        actor: Actor,
        draft: Row,
        action: str,
        *,
        to_status: str | None = None,
        comment: str | None = None,
    ) -> None:
        await tx.run(
            DRAFT_EVENTS.insert().values(
                draft_id=draft["id"],
                actor_id=actor.id,
                actor_name=actor.name,
                action=action,
                from_status=draft["status"],
                to_status=to_status or draft["status"],
                comment=comment,
            )
        )

    async def set_fields(self, tx: Tx, draft_id: int, **values: Any) -> Row:
        for name in ("data", "publish_error"):
            if values.get(name) is not None:
                values[name] = Jsonb(values[name])
        row = await tx.row(
            update(DRAFTS)
            .where(DRAFTS.c.id == draft_id)
            .values(updated_at=func.now(), **values)
            .returning(DRAFTS)
        )
        assert row is not None
        return row

    def _validated(
        self, actor: Actor, resource: Resource, data: Mapping[str, Any], live: Row | None
    ) -> dict[str, Any]:
        """The fields of ``data`` that differ from the live record, checked like a PATCH."""
        return json_values(
            resource,
            validate_patch(
                resource,
                data,
                live or {},
                readable=self.policy.readable_fields(actor, resource),
                writable=self.policy.writable_fields(actor, resource, live),
                roles=actor.roles,
            ),
        )

    async def live_row(self, tx: Tx, resource: Resource, pk: str | None) -> Row | None:
        if pk is None:
            return None
        return await tx.row(select(resource.table).where(resource.key_text_clause(pk)))

    # -- create and read ------------------------------------------------------

    async def create(
        self,
        actor: Actor,
        name: str,
        raw_pk: str | None,
        body: Mapping[str, Any],
        *,
        request_id: str | None = None,
    ) -> dict[str, Any]:
        """A draft of a change to record ``raw_pk`` (base = its version), or of a new record."""
        data = _data_of(body, {"data"})
        live: Row | None = None
        if raw_pk is None:
            resource = self.records.resource(actor, name, "add")
        else:
            resource, live = await self.records.get_row(actor, name, raw_pk)
        values = self._validated(actor, resource, data, live)
        async with self.db.transaction(actor, request_id=request_id) as tx:
            stub = {"pk": None if live is None else resource.key_of(live)}
            await require(tx, self.policy, actor, resource, stub, capability="edit")
            if live is not None and resource.soft_delete and live["deleted_at"] is not None:
                raise Conflict("The record is deleted; restore it before drafting changes.")
            row = await tx.row(
                DRAFTS.insert()
                .values(
                    resource=resource.name,
                    pk=stub["pk"],
                    base_version=None if live is None else live["version"],
                    data=Jsonb(values),
                    status="draft",
                    author_id=actor.id,
                    author_name=actor.name,
                )
                .returning(DRAFTS)
            )
            assert row is not None
            await self.record_event(tx, actor, row, "created")
        return self.body(actor, row)

    async def get(self, actor: Actor, raw_id: str) -> dict[str, Any]:
        """The draft with ``diff``: each of its fields, live value next to drafted value."""
        async with self.db.read() as tx:
            row = await self.load(tx, actor, raw_id)
            resource = self.target(row["resource"])
            live = await self.live_row(tx, resource, row["pk"])
        body = self.body(actor, row)
        current = {} if live is None else self.records.body(actor, resource, live)
        body["live_version"] = None if live is None else live["version"]
        body["diff"] = {
            name: {"live": current.get(name), "draft": value}
            for name, value in body["data"].items()
        }
        return body

    async def search(
        self, actor: Actor, params: Mapping[str, Sequence[str]], *, max_limit: int = 200
    ) -> tuple[list[dict[str, Any]], str | None]:
        """Drafts ``actor`` may see, newest first, filtered by status, resource, author, record."""
        known = {"status", "resource", "pk", "author", "cursor", "limit"}
        unknown = sorted(set(params) - known)
        if unknown:
            raise BadRequest(f"Unknown query parameter {unknown[0]!r}.", parameter=unknown[0])
        clauses = [visible_clause(self.policy, self.registry, actor)]
        status = single_param(params, "status")
        if status is not None:
            wanted = status.split(",")
            if not set(wanted) <= set(STATUSES):
                raise BadRequest(f"status must be among {', '.join(STATUSES)}.", parameter="status")
            clauses.append(DRAFTS.c.status.in_(wanted))
        resource = single_param(params, "resource")
        if resource is not None:
            clauses.append(DRAFTS.c.resource == resource)
        pk = single_param(params, "pk")
        if pk is not None:
            clauses.append(DRAFTS.c.pk == pk)
        author = single_param(params, "author")
        if author is not None:
            if author == "me":
                clauses.append(DRAFTS.c.author_id == actor.id)
            elif (author_id := ascii_int(author)) is not None:
                clauses.append(DRAFTS.c.author_id == author_id)
            else:
                raise BadRequest("author must be a user id or 'me'.", parameter="author")
        before = parse_id_cursor(single_param(params, "cursor"))
        if before is not None:
            clauses.append(DRAFTS.c.id < before)
        limit = parse_limit(single_param(params, "limit"), 50, max_limit)
        statement = (
            select(DRAFTS)
            .where(and_(true(), *clauses))
            .order_by(DRAFTS.c.id.desc())
            .limit(limit + 1)
        )
        async with self.db.read() as tx:
            rows = await tx.rows(statement)
        next_cursor = str(rows[limit - 1]["id"]) if len(rows) > limit else None
        return [self.body(actor, r) for r in rows[:limit]], next_cursor

    async def preview(self, actor: Actor, raw_id: str) -> dict[str, Any]:
        """The record as it would be once published, shaped like a live record for ``actor``."""
        async with self.db.read() as tx:
            row = await self.load(tx, actor, raw_id)
            resource = self.target(row["resource"])
            live = await self.live_row(tx, resource, row["pk"])
        if live is None:
            record: dict[str, Any] = dict.fromkeys(resource.fields)
            record.update({"version": 0, "deleted_at": None})
        else:
            record = dict(live)
        # The record's own serialisation (and field permissions) on the merged values.
        record.update({k: v for k, v in row["data"].items() if k in resource.fields})
        body = self.records.body(actor, resource, record)
        body["_draft"] = {"id": row["id"], "version": row["version"], "status": row["status"]}
        return body

    async def comments(self, actor: Actor, raw_id: str) -> list[dict[str, Any]]:
        """The review trail: every transition and comment, oldest first."""
        async with self.db.read() as tx:
            row = await self.load(tx, actor, raw_id)
            events = await tx.rows(
                select(DRAFT_EVENTS)
                .where(DRAFT_EVENTS.c.draft_id == row["id"])
                .order_by(DRAFT_EVENTS.c.id)
            )
        return [
            {
                "id": e["id"],
                "at": e["at"],
                "actor": {"id": e["actor_id"], "name": e["actor_name"]},
                "action": e["action"],
                "from_status": e["from_status"],
                "to_status": e["to_status"],
                "comment": e["comment"],
            }
            for e in events
        ]

    # -- writes ---------------------------------------------------------------

    async def comment(
        self, actor: Actor, raw_id: str, body: Mapping[str, Any]
    ) -> list[dict[str, Any]]:
        text = parse_comment(body)
        if text is None:
            raise ValidationFailed([FieldError("comment", "Write a comment.")])
        async with self.db.transaction(actor) as tx:
            row = await self.load(tx, actor, raw_id, lock=True)
            await require(
                tx, self.policy, actor, self.target(row["resource"]), row, capability="comment"
            )
            await self.record_event(tx, actor, row, "commented", comment=text)
        return await self.comments(actor, raw_id)

    async def _changed_since(self, tx: Tx, draft: Row, base: int) -> dict[str, Any]:
        """Data fields others changed in the draft since its version ``base``: name → base value."""
        entries = await tx.rows(
            select(CHANGE_LOG.c.diff)
            .where(
                CHANGE_LOG.c.resource == "drafts",
                CHANGE_LOG.c.pk == str(draft["id"]),
                CHANGE_LOG.c.version > base,
            )
            .order_by(CHANGE_LOG.c.id)
        )
        changed: dict[str, Any] = {}
        for entry in entries:
            data = entry["diff"].get("data")
            if data is None:
                continue
            old, new = data["old"] or {}, data["new"] or {}
            for name in set(old) | set(new):
                if old.get(name) != new.get(name):
                    changed.setdefault(name, old.get(name))
        return changed

    async def patch(
        self,
        actor: Actor,
        raw_id: str,
        body: Mapping[str, Any],
        precondition: Precondition,
        *,
        request_id: str | None = None,
    ) -> dict[str, Any]:
        """Merge ``data`` into the draft (and drop the fields named in ``unset``)."""
        data = _data_of(body, {"data", "unset"})
        unset = body.get("unset", [])
        if not isinstance(unset, list) or not all(isinstance(n, str) for n in unset):
            raise ValidationFailed([FieldError("unset", "A list of field names.")])
        async with self.db.transaction(actor, request_id=request_id) as tx:
            row = await self.load(tx, actor, raw_id, lock=True)
            resource = self.target(row["resource"])
            await require(tx, self.policy, actor, resource, row, capability="edit")
            readable = self.policy.readable_fields(actor, resource)
            hidden = [n for n in unset if n not in readable or n not in resource.fields]
            if hidden:
                raise ValidationFailed([FieldError(n, "Unknown field.") for n in hidden])
            if row["status"] not in EDITABLE:
                raise Conflict(
                    f"A {row['status']} draft cannot be edited.", draft_status=row["status"]
                )
            await self._check_version(
                tx, actor, row, precondition, names=[*data, *unset], body=body
            )
            live = await self.live_row(tx, resource, row["pk"])
            values = self._validated(actor, resource, data, live)
            merged = {k: v for k, v in row["data"].items() if k not in unset}
            for name in data:
                merged.pop(name, None)  # set back to the live value: no longer a change
            merged.update(values)
            if merged == row["data"]:
                return self.body(actor, row)
            row = await self.set_fields(tx, row["id"], data=merged)
        return self.body(actor, row)

    async def _check_version(
        self,
        tx: Tx,
        actor: Actor,
        row: Row,
        precondition: Precondition,
        *,
        names: Sequence[str],
        body: Mapping[str, Any],
    ) -> None:
        current = row["version"]
        if precondition.version == current:
            return
        shown = self.body(actor, row)
        if precondition.strict or precondition.version > current:
            raise PreconditionFailed(
                f"The draft changed since version {precondition.version}; it is at {current}.",
                current=shown,
                conflicts=[],
            )
        changed = await self._changed_since(tx, row, precondition.version)
        readable = self.policy.readable_fields(actor, self.target(row["resource"]))
        yours = body.get("data", {})
        conflicts = []
        for name in names:
            if name not in changed or name not in readable:
                continue
            theirs, mine = row["data"].get(name), yours.get(name)
            if theirs != mine:
                conflicts.append(
                    {"field": name, "base": changed[name], "theirs": theirs, "yours": mine}
                )
        if conflicts:
            raise Conflict(
                "Someone else changed the same fields of this draft since your version.",
                current=shown,
                conflicts=conflicts,
            )

    async def transition(
        self,
        actor: Actor,
        raw_id: str,
        name: TransitionName,
        body: Mapping[str, Any],
        *,
        request_id: str | None = None,
    ) -> dict[str, Any]:
        comment = parse_comment(body)
        step = TRANSITIONS[name]
        async with self.db.transaction(actor, request_id=request_id) as tx:
            row = await self.load(tx, actor, raw_id, lock=True)
            resource = self.target(row["resource"])
            if step.needs is not None:
                await require(tx, self.policy, actor, resource, row, capability=step.needs)
            elif row["author_id"] != actor.id:
                # Discarding: the author, a reviewer, or anyone who may edit it.
                denied = await denial(tx, self.policy, actor, resource, row, capability="review")
                if denied is not None:
                    await require(tx, self.policy, actor, resource, row, capability="edit")
            if row["status"] not in step.sources:
                raise Conflict(
                    f"The draft is {row['status']}; only a"
                    f" {' or '.join(sorted(step.sources))} draft can be {step.target}.",
                    draft_status=row["status"],
                )
            await self.record_event(tx, actor, row, name, to_status=step.target, comment=comment)
            row = await self.set_fields(
                tx, row["id"], status=step.target, publish_at=None, scheduled_by=None,
                scheduled_by_name=None,
            )  # fmt: skip
        return self.body(actor, row)
