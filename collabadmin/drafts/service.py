"""Drafts: reading them, and what every draft action shares.

A draft stores only the fields it would change, as JSON, pinned to the
record's version when it was started. The live record is not touched until
publish (:mod:`collabadmin.drafts.publish`). Writes are action objects
(:mod:`collabadmin.drafts.actions`, :mod:`collabadmin.drafts.publish`); each
is one transaction that locks the draft row, so concurrent edits and
transitions are serialised by the database, and the draft's own ``version``
(bumped by the capture trigger, like a record's) gives editors the same
``If-Match`` / ``X-Base-Version`` rules as records.

Review follows one state machine, kept in :data:`TRANSITIONS`::

    draft ──submit──▶ submitted ──approve──▶ approved ──publish──▶ published
      ▲                   │ reject               │ reject
      └──(edit, submit)── rejected ◀─────────────┘
    (any state before published) ──discard──▶ discarded
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import msgspec
from psycopg.types.json import Jsonb
from sqlalchemy import and_, func, select, true, update

from collabadmin.db.engine import Actor, Row, Tx
from collabadmin.drafts.access import Capability, draft_body, visible_clause
from collabadmin.drafts.listing import DraftListQuery
from collabadmin.drafts.tables import DRAFT_EVENTS, DRAFTS
from collabadmin.errors import NotFound
from collabadmin.inputs import ascii_int
from collabadmin.resources.resource import Resource
from collabadmin.resources.service import RecordService
from collabadmin.resources.validation import validate_patch

__all__ = ["EDITABLE", "TRANSITIONS", "DraftService", "Transition", "TransitionName"]

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

    def validated(
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
        self, actor: Actor, query: DraftListQuery
    ) -> tuple[list[dict[str, Any]], str | None]:
        """Drafts ``actor`` may see, newest first, filtered by status, resource, author, record."""
        clauses = [visible_clause(self.policy, self.registry, actor)]
        if query.statuses is not None:
            clauses.append(DRAFTS.c.status.in_(query.statuses))
        if query.resource is not None:
            clauses.append(DRAFTS.c.resource == query.resource)
        if query.pk is not None:
            clauses.append(DRAFTS.c.pk == query.pk)
        if query.author is not None:
            author = actor.id if query.author == "me" else query.author
            clauses.append(DRAFTS.c.author_id == author)
        if query.batch is not None:
            clauses.append(DRAFTS.c.batch == query.batch)
        if query.before_id is not None:
            clauses.append(DRAFTS.c.id < query.before_id)
        limit = query.limit
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
        return [self.event_body(e) for e in events]

    @staticmethod
    def event_body(event: Row) -> dict[str, Any]:
        """One entry of the review trail, as the API shows it."""
        return {
            "id": event["id"],
            "at": event["at"],
            "actor": {"id": event["actor_id"], "name": event["actor_name"]},
            "action": event["action"],
            "from_status": event["from_status"],
            "to_status": event["to_status"],
            "comment": event["comment"],
        }
