"""Revert: put fields of a record back to their values before one change, as a new change."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from collabadmin.changelog.changes import CHANGE_LOG
from collabadmin.changelog.conflicts import Precondition
from collabadmin.db.engine import Source, Tx
from collabadmin.errors import Conflict, FieldError, NotFound, ValidationFailed
from collabadmin.resources.actions import PatchRecord, RecordAction, Written
from collabadmin.resources.resource import Resource
from collabadmin.resources.service import KeyValues, shown_key

__all__ = ["Revert"]


@dataclass(kw_only=True)
class Revert(RecordAction):
    """Restore ``fields`` (default: every field the change set) to before change ``change_id``.

    The write is a :class:`PatchRecord` with ``X-Base-Version`` semantics
    and the change's version as base: if a field was changed again since,
    that is a 409 with the conflicting values, and nothing is written. It is
    logged with ``source: "revert"``.

    A record outside the actor's row scope is a 404 before the change is
    even looked up: answering "only updates can be reverted" or "that change
    did not touch this field" would confirm the record and its history exist.
    """

    change_id: int
    fields: Sequence[str] | None = None
    source: Source = "revert"

    async def check(self) -> None:
        resource, pk = self._target("change")
        async with self.records.db.read() as tx:
            await self._reverted(tx, resource, pk)

    async def execute(self, tx: Tx | None = None) -> Written:
        resource, pk = self._target("change")
        if tx is None:
            async with self.records.db.transaction(
                self.actor, source=self.source, request_id=self.request_id
            ) as own:
                return await self.execute(own)
        values, base = await self._reverted(tx, resource, pk)
        return await PatchRecord(
            records=self.records,
            actor=self.actor,
            resource=self.resource,
            pk=pk,
            changes=values,
            precondition=Precondition(base, strict=False),
        ).execute(tx)

    async def _reverted(
        self, tx: Tx, resource: Resource, pk: KeyValues
    ) -> tuple[dict[str, Any], int]:
        """The fields to write back (each in its JSON form, as a client would send it)
        and the version the reverted change made, their base; else 4xx."""
        records = self.records
        row = await records.fetch(tx, self.actor, resource, pk)
        if row is None:
            shown = self.pk if isinstance(self.pk, str) else shown_key(pk)
            raise NotFound(f"No {resource.label.lower()} {shown!r}.")
        change = await tx.row(
            select(CHANGE_LOG).where(
                CHANGE_LOG.c.id == self.change_id,
                CHANGE_LOG.c.resource == resource.name,
                CHANGE_LOG.c.pk == resource.key_of(row),  # the key's text as the log holds it
            )
        )
        if change is None:
            raise NotFound(f"No change {self.change_id} of this {resource.label.lower()}.")
        if change["op"] != "update":
            raise Conflict(
                f"Only updates can be reverted; this change is a {change['op']}"
                " (use restore to undo a delete)."
            )
        readable = records.policy.readable_fields(self.actor, resource)
        diff = {k: v for k, v in change["diff"].items() if k in readable and k in resource.fields}
        # Without a list: the fields a person could set (a generated column or one
        # a trigger maintains follows the others by itself).
        chosen = (
            [k for k in diff if not resource.fields[k].read_only]
            if self.fields is None
            else list(self.fields)
        )
        unknown = [f for f in chosen if f not in diff]
        if unknown:
            raise ValidationFailed(
                [FieldError(f, "This change did not touch that field.") for f in unknown]
            )
        if not chosen:
            raise ValidationFailed([FieldError("fields", "Name at least one field.")])
        # The log holds to_jsonb forms (bytea as hex, intervals as PostgreSQL
        # text); the patch takes each field's JSON form, as a client would send.
        values = {f: resource.fields[f].json(diff[f]["old"]) for f in chosen}
        return values, change["version"]
