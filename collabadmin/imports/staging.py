"""Staging an import as drafts (``as=drafts``): each line a draft submitted for review, one batch.

The file is checked as any import's; then each line that would insert or
update a record is drafted with the importer's permissions
(:class:`~collabadmin.drafts.actions.CreateDraft`), submitted, and given
the import's ``batch`` id, all in the import's transaction. A line's draft
holds the fields it changes (all of a new record's). With a preview, a
line whose record changed since in a field it drafts is a conflict, as on
apply. Reviewers publish the batch as one
(:func:`~collabadmin.drafts.batches.publish_batch`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import msgspec

from collabadmin.db.engine import Tx
from collabadmin.drafts.actions import CreateDraft
from collabadmin.drafts.service import DraftService
from collabadmin.errors import ProblemError
from collabadmin.imports.plan import Importer, Planned, Refused, created_since, problem_errors
from collabadmin.imports.types import ImportConflict
from collabadmin.resources.actions import record_conflicts
from collabadmin.resources.validation import validate_patch

__all__ = ["stage_lines"]

_BATCH_SEQUENCE = "SELECT nextval('collabadmin.collabadmin_draft_batch_seq') AS batch"


async def stage_lines(
    importer: Importer,
    drafts: DraftService,
    tx: Tx,
    planned: Sequence[Planned],
    seen: Mapping[str, int] | None,
) -> int:
    """Each line that inserts or updates, drafted and submitted in one batch; its id."""
    resource = importer.resource
    lines: list[tuple[Planned, tuple[Any, ...] | None, dict[str, Any]]] = []
    for p in planned:
        if p.op == "unchanged":
            continue
        data = p.values
        if p.op == "update":
            assert p.row is not None
            assert p.pk is not None
            changes = validate_patch(
                resource, p.values, p.row, readable=importer.readable,
                writable=importer.records.policy.writable_fields(importer.actor, resource, p.row),
                roles=importer.actor.roles,
            )  # fmt: skip
            data = {n: v for n, v in p.values.items() if n in changes}
            if seen is not None:
                if p.pk not in seen:
                    p.conflicts.append(created_since(importer, p))
                    continue
                if seen[p.pk] != p.row["version"]:
                    found = await record_conflicts(tx, resource, p.row, seen[p.pk], data)
                    p.conflicts.extend(msgspec.convert(found, list[ImportConflict]))
                    if found:
                        continue
        key = None if p.row is None else resource.key_values(p.row)
        lines.append((p, key, data))
    if any(p.conflicts for p in planned):
        raise Refused(planned, 409)
    batch = int(await tx.value(_BATCH_SEQUENCE))
    for p, key, data in lines:
        try:
            body = await CreateDraft(
                drafts=drafts, actor=importer.actor, resource=resource.name, pk=key, data=data
            ).execute(tx)
        except ProblemError as exc:
            p.errors.extend(problem_errors(exc))
            raise Refused(planned, 422) from None
        row = await drafts.set_fields(tx, body["id"], batch=batch)
        await drafts.record_event(tx, importer.actor, row, "submitted", to_status="submitted")
        await drafts.set_fields(tx, body["id"], status="submitted")
    return batch
