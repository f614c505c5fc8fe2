"""Draft actions: start a draft, edit it, comment on it, move it through review.

Each is an object built from an :class:`~collabadmin.db.engine.Actor` and
typed inputs (bodies are parsed at the edge, :mod:`collabadmin.drafts.bodies`):

* ``check()`` reads the draft as it is now and raises what ``execute()``
  would refuse for who the actor is and the draft's state (capability,
  status); it writes nothing.
* ``execute(tx=None)`` locks the draft row, makes the same checks under the
  lock (a check made before it could be stale by the time of the write),
  then validates, checks the version (:mod:`collabadmin.changelog.conflicts`,
  the same rules as records) and writes, logging the event in the review trail.

Publishing and rebasing are in :mod:`collabadmin.drafts.publish`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from psycopg.types.json import Jsonb
from sqlalchemy import select

from collabadmin.changelog.conflicts import Precondition, Target, check_precondition
from collabadmin.db.engine import Actor, Row, Source, Tx
from collabadmin.drafts.access import denial, require
from collabadmin.drafts.service import EDITABLE, TRANSITIONS, DraftService, TransitionName
from collabadmin.drafts.tables import DRAFT_EVENTS, DRAFTS
from collabadmin.errors import Conflict, FieldError, NotFound, ValidationFailed
from collabadmin.resources.actions import patched_forms
from collabadmin.resources.resource import Resource
from collabadmin.resources.service import KeyValues

__all__ = [
    "CommentOnDraft",
    "CreateDraft",
    "DraftAction",
    "EditDraft",
    "TransitionDraft",
]

DRAFTS_LOG = "drafts"  # the change log's name for draft rows


@dataclass(kw_only=True)
class DraftAction(ABC):
    """An action on one draft, ``draft`` being its id (or a URL's text of it)."""

    drafts: DraftService
    actor: Actor
    draft: int | str
    request_id: str | None = None
    source: Source = "api"

    @abstractmethod
    async def _allowed(self, tx: Tx, row: Row, resource: Resource) -> None:
        """Raise unless the actor may take this action on the draft in its state."""

    async def check(self) -> None:
        async with self.drafts.db.read() as tx:
            row = await self.drafts.load(tx, self.actor, self.draft)
            await self._allowed(tx, row, self.drafts.target(row["resource"]))

    @asynccontextmanager
    async def _locked(self, tx: Tx | None) -> AsyncIterator[tuple[Tx, Row, Resource]]:
        """The transaction (``tx`` or the action's own), the draft locked in it, its resource."""
        if tx is None:
            async with self.drafts.db.transaction(
                self.actor, source=self.source, request_id=self.request_id
            ) as own, self._locked(own) as locked:  # fmt: skip
                yield locked
            return
        row = await self.drafts.load(tx, self.actor, self.draft, lock=True)
        resource = self.drafts.target(row["resource"])
        await self._allowed(tx, row, resource)
        yield tx, row, resource


@dataclass(kw_only=True)
class CreateDraft:
    """A draft of changes to record ``pk`` (its base: the record's version now), or of a new one.

    ``pk`` is a URL's key segment or the typed key; None drafts a new record
    (validated in full only when it is published).
    """

    drafts: DraftService
    actor: Actor
    resource: str
    pk: str | KeyValues | None
    data: Mapping[str, Any]
    request_id: str | None = None

    async def _prepared(self, tx: Tx) -> tuple[Resource, Row | None, dict[str, Any]]:
        """The resource, the live record (None: a new one) and the validated data; else 4xx."""
        records, actor = self.drafts.records, self.actor
        live: Row | None = None
        if self.pk is None:
            resource = records.resource(actor, self.resource, "add")
        else:
            resource = records.resource(actor, self.resource, "view", record=True)
            key = self.pk if isinstance(self.pk, tuple) else records.parse_pk(resource, self.pk)
            live = await records.fetch(tx, actor, resource, key)
            if live is None:
                raise NotFound(f"No {resource.label.lower()} {self.pk!r}.")
        stub = {"pk": None if live is None else resource.key_of(live)}
        await require(tx, self.drafts.policy, actor, resource, stub, capability="edit")
        if live is not None and resource.soft_delete and live["deleted_at"] is not None:
            raise Conflict("The record is deleted; restore it before drafting changes.")
        return resource, live, self.drafts.validated(actor, resource, self.data, live)

    async def check(self) -> None:
        async with self.drafts.db.read() as tx:
            await self._prepared(tx)

    async def execute(self, tx: Tx | None = None) -> dict[str, Any]:
        if tx is None:
            async with self.drafts.db.transaction(self.actor, request_id=self.request_id) as own:
                return await self.execute(own)
        resource, live, values = await self._prepared(tx)
        row = await tx.row(
            DRAFTS.insert()
            .values(
                resource=resource.name,
                pk=None if live is None else resource.key_of(live),
                base_version=None if live is None else live["version"],
                data=Jsonb(values),
                status="draft",
                author_id=self.actor.id,
                author_name=self.actor.name,
            )
            .returning(DRAFTS)
        )
        assert row is not None
        await self.drafts.record_event(tx, self.actor, row, "created")
        return self.drafts.body(self.actor, row)


@dataclass(kw_only=True)
class EditDraft(DraftAction):
    """Merge ``data`` into the draft and drop the fields named in ``unset``.

    Versioned like a record (``If-Match`` / ``X-Base-Version``): with a base
    version, an edit conflicts only on fields someone else changed since.
    """

    data: Mapping[str, Any]
    unset: Sequence[str] = ()
    precondition: Precondition

    async def _allowed(self, tx: Tx, row: Row, resource: Resource) -> None:
        await require(tx, self.drafts.policy, self.actor, resource, row, capability="edit")
        if row["status"] not in EDITABLE:
            raise Conflict(f"A {row['status']} draft cannot be edited.", draft_status=row["status"])

    async def execute(self, tx: Tx | None = None) -> dict[str, Any]:
        drafts, actor = self.drafts, self.actor
        async with self._locked(tx) as (own, row, resource):
            readable = drafts.policy.readable_fields(actor, resource)
            hidden = [n for n in self.unset if n not in readable or n not in resource.fields]
            if hidden:
                raise ValidationFailed([FieldError(n, "Unknown field.") for n in hidden])
            live = await drafts.live_row(own, resource, row["pk"])
            values = drafts.validated(actor, resource, self.data, live)
            # Validated first: a field the editor may not read is a 422 as unknown,
            # never a conflict that would tell it exists.
            yours = {**patched_forms(resource, self.data), **dict.fromkeys(self.unset)}
            await check_precondition(
                own,
                self.precondition,
                Target(DRAFTS_LOG, str(row["id"]), row["version"], noun="draft", within="data"),
                yours,
                theirs=row["data"].get,
                shown=readable,
                current=lambda: drafts.body(actor, row),
            )
            merged = {k: v for k, v in row["data"].items() if k not in self.unset}
            for name in self.data:
                merged.pop(name, None)  # set back to the live value: no longer a change
            merged.update(values)
            if merged == row["data"]:
                return drafts.body(actor, row)
            return drafts.body(actor, await drafts.set_fields(own, row["id"], data=merged))


@dataclass(kw_only=True)
class TransitionDraft(DraftAction):
    """Move the draft along :data:`~collabadmin.drafts.service.TRANSITIONS` (submit, approve...)."""

    transition: TransitionName
    comment: str | None = None

    async def _allowed(self, tx: Tx, row: Row, resource: Resource) -> None:
        step = TRANSITIONS[self.transition]
        policy = self.drafts.policy
        if step.needs is not None:
            await require(tx, policy, self.actor, resource, row, capability=step.needs)
        elif row["author_id"] != self.actor.id:
            # Discarding: the author, a reviewer, or anyone who may edit it.
            denied = await denial(tx, policy, self.actor, resource, row, capability="review")
            if denied is not None:
                await require(tx, policy, self.actor, resource, row, capability="edit")
        if row["status"] not in step.sources:
            raise Conflict(
                f"The draft is {row['status']}; only a"
                f" {' or '.join(sorted(step.sources))} draft can be {step.target}.",
                draft_status=row["status"],
            )

    async def execute(self, tx: Tx | None = None) -> dict[str, Any]:
        step = TRANSITIONS[self.transition]
        drafts = self.drafts
        async with self._locked(tx) as (own, row, _):
            await drafts.record_event(
                own, self.actor, row, self.transition, to_status=step.target, comment=self.comment
            )
            moved = await drafts.set_fields(
                own, row["id"], status=step.target, publish_at=None, scheduled_by=None,
                scheduled_by_name=None,
            )  # fmt: skip
            return drafts.body(self.actor, moved)


@dataclass(kw_only=True)
class CommentOnDraft(DraftAction):
    """Add a comment to the draft's review trail; returns the trail, oldest first."""

    comment: str

    async def _allowed(self, tx: Tx, row: Row, resource: Resource) -> None:
        await require(tx, self.drafts.policy, self.actor, resource, row, capability="comment")

    async def execute(self, tx: Tx | None = None) -> list[dict[str, Any]]:
        async with self._locked(tx) as (own, row, _):
            await self.drafts.record_event(own, self.actor, row, "commented", comment=self.comment)
            events = await own.rows(
                select(DRAFT_EVENTS)
                .where(DRAFT_EVENTS.c.draft_id == row["id"])
                .order_by(DRAFT_EVENTS.c.id)
            )
        return [self.drafts.event_body(e) for e in events]
