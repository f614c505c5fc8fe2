"""Reverting a change: put fields back to their values before it, as a new change."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select

from collabadmin.changelog.changes import CHANGE_LOG
from collabadmin.db.engine import Actor
from collabadmin.errors import Conflict, FieldError, NotFound, ValidationFailed
from collabadmin.resources.service import Precondition, RecordService

__all__ = ["revert_change"]


async def revert_change(
    records: RecordService,
    actor: Actor,
    name: str,
    raw_pk: str,
    *,
    change_id: int,
    fields: Sequence[str] | None,
    request_id: str | None = None,
) -> dict[str, Any]:
    """Restore fields to their values before change ``change_id``, as a new change.

    It goes through :meth:`RecordService.patch` with ``X-Base-Version`` semantics and the
    change's version as base: if a field was changed again since, that is
    a 409 with the conflicting values, and nothing is written.

    A record outside the actor's row scope is a 404 before the change is
    even looked up: answering "only updates can be reverted" or "that change
    did not touch this field" would confirm the record and its history exist.
    """
    resource = records.resource(actor, name, "change", record=True)
    records.parse_pk(resource, raw_pk)
    _, row = await records.get_row(actor, name, raw_pk)  # 404 unless the actor may view it
    pk = resource.key_of(row)  # the key's text as the change log holds it
    readable = records.policy.readable_fields(actor, resource)
    async with records.db.read() as tx:
        change = await tx.row(
            select(CHANGE_LOG).where(
                CHANGE_LOG.c.id == change_id,
                CHANGE_LOG.c.resource == resource.name,
                CHANGE_LOG.c.pk == pk,
            )
        )
    if change is None:
        raise NotFound(f"No change {change_id} of this {resource.label.lower()}.")
    if change["op"] != "update":
        raise Conflict(
            f"Only updates can be reverted; this change is a {change['op']}"
            " (use restore to undo a delete)."
        )
    diff = {k: v for k, v in change["diff"].items() if k in readable and k in resource.fields}
    # Without a list: the fields a person could set (a generated column or one
    # a trigger maintains follows the others by itself).
    chosen = (
        [k for k in diff if not resource.fields[k].read_only] if fields is None else list(fields)
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
    return await records.patch(
        actor,
        name,
        raw_pk,
        values,
        Precondition(change["version"], strict=False),
        request_id=request_id,
        source="revert",
    )
