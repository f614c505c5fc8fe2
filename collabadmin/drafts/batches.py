"""Batches of drafts: publishing an import staged for review as one.

``POST /api/r/{resource}/import?as=drafts&dry_run=false`` checks the file
as any import does, then drafts each line that would insert or update a
record, with the importer's permissions, submits it for review, and gives
the drafts of that import one ``batch`` id
(:mod:`collabadmin.imports.staging`). Reviewers list them with
``GET /api/drafts?batch=ID`` and read or reject each as any draft;
``POST /api/drafts/batches/{batch}/publish`` (:func:`publish_batch`)
approves and publishes every submitted or approved draft of the batch in
**one transaction**: each is one change with ``source: "draft"``, merged
from its base version as a single publish is; if any of them conflicts or
is refused, none is published (``409`` or ``422`` listing the drafts and
why).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from collabadmin.db.engine import Actor
from collabadmin.drafts.access import require, visible_clause
from collabadmin.drafts.publish import PublishDraft
from collabadmin.drafts.service import DraftService
from collabadmin.drafts.tables import DRAFTS
from collabadmin.errors import Conflict, Forbidden, NotFound, ValidationFailed

__all__ = ["publish_batch"]


async def publish_batch(
    drafts: DraftService, actor: Actor, batch: int, *, request_id: str | None = None
) -> list[int]:
    """Approve and publish every pending draft of ``batch`` in one transaction; their ids."""
    failures: list[dict[str, Any]] = []
    published: list[int] = []
    async with drafts.db.transaction(actor, source="draft", request_id=request_id) as tx:
        rows = await tx.rows(
            select(DRAFTS)
            .where(DRAFTS.c.batch == batch, DRAFTS.c.status.in_(("submitted", "approved")))
            .order_by(DRAFTS.c.id)
            .with_for_update()
        )
        seen = visible_clause(drafts.policy, drafts.registry, actor)
        ids = [r["id"] for r in rows]
        visible = (
            {r["id"] for r in await tx.rows(select(DRAFTS.c.id).where(DRAFTS.c.id.in_(ids), seen))}
            if ids
            else set()
        )
        if not visible:
            # A batch whose drafts the user may not see is one that does not exist.
            raise NotFound(f"No drafts of batch {batch} wait to be published.")
        if len(visible) < len(rows):
            raise Forbidden("Some drafts of this batch are not yours to publish; none was.")
        for row in rows:
            resource = drafts.target(row["resource"])
            await require(tx, drafts.policy, actor, resource, row, capability="review")
            draft = row
            if draft["status"] == "submitted":
                await drafts.record_event(tx, actor, draft, "approved", to_status="approved")
                draft = await drafts.set_fields(tx, draft["id"], status="approved")
            try:
                await PublishDraft(drafts=drafts, actor=actor, draft=draft["id"]).apply(tx, draft)
            except (Conflict, ValidationFailed) as exc:
                failures.append({"draft": draft["id"], **exc.to_body()})
                break  # the transaction may be aborted; none is published anyway
            published.append(draft["id"])
        if failures:
            raise _BatchRefused(failures)
    return published


class _BatchRefused(Conflict):
    def __init__(self, failures: list[dict[str, Any]]) -> None:
        super().__init__("A draft of this batch cannot be published; none was.", failures=failures)
