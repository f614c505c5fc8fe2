"""Running an import: checked, then previewed (``dry_run``) or applied, all in one transaction.

A dry run reads and checks the file and keeps what it saw as a preview;
an apply reads it again and writes every line, or stages them as drafts,
and writes nothing at all if any line is invalid (422, :class:`ImportInvalid`)
or in conflict (409), both with the dry run's body.
"""

from __future__ import annotations

from collabadmin.db.engine import Actor, Tx
from collabadmin.drafts.service import DraftService
from collabadmin.errors import Conflict, Forbidden, ProblemError
from collabadmin.imports.apply import write_lines
from collabadmin.imports.columns import key_fields
from collabadmin.imports.matching import check_lines, match_records
from collabadmin.imports.parse import read_lines
from collabadmin.imports.plan import (
    Importer,
    ImportRequest,
    Planned,
    Refused,
    problem_body,
    result,
)
from collabadmin.imports.previews import load_preview, save_preview
from collabadmin.imports.relations import resolve_relations
from collabadmin.imports.staging import stage_lines
from collabadmin.imports.types import ImportResult
from collabadmin.resources.service import RecordService

__all__ = ["ImportInvalid", "run_import"]


class ImportInvalid(ProblemError):
    """422 whose body lists the lines (``rows``) and the ``summary``, as a dry run does."""

    status, slug, title = 422, "import-invalid", "Import refused"


async def _analyse(importer: Importer, tx: Tx) -> list[Planned]:
    planned = read_lines(importer)
    await resolve_relations(importer, tx, planned)
    await match_records(importer, tx, planned)
    check_lines(importer, planned)
    return planned


async def run_import(
    records: RecordService, drafts: DraftService, actor: Actor, request: ImportRequest
) -> ImportResult:
    """Preview or apply an import (see :mod:`collabadmin.imports`); 4xx for what cannot be read."""
    resource = records.resource(actor, request.resource, "view")
    policy = records.policy
    if not (policy.allows(actor, resource, "add") or policy.allows(actor, resource, "change")):
        raise Forbidden(f"You may not import {resource.label_plural.lower()}.")
    if resource.untracked or resource.read_only:
        records.resource(actor, request.resource, "change")  # the 409 or 403 it answers
    readable = policy.readable_fields(actor, resource)
    keys = key_fields(resource, readable, request.key)
    key_text = ",".join(keys)
    importer = Importer(records, actor, resource, request, readable, keys)
    if request.dry_run:
        async with records.db.transaction(actor, source="import") as tx:
            planned = await _analyse(importer, tx)
            preview = await save_preview(
                tx, actor=actor, resource=resource, key=key_text, body=request.body, planned=planned
            )
        return result(planned, preview=preview)
    try:
        async with records.db.transaction(
            actor, source="import", request_id=request.request_id
        ) as tx:
            seen = (
                None
                if request.preview is None
                else await load_preview(tx, actor, resource, key_text, request)
            )
            planned = await _analyse(importer, tx)
            if any(p.errors for p in planned):
                raise Refused(planned, 422)
            if request.as_drafts:
                batch = await stage_lines(importer, drafts, tx, planned, seen)
                return result(planned, batch=batch)
            await write_lines(importer, tx, planned, seen)
            if any(p.errors for p in planned):
                raise Refused(planned, 422)
            if any(p.conflicts for p in planned):
                raise Refused(planned, 409)
    except Refused as refused:
        body = problem_body(result(refused.planned))
        if refused.status == 409:
            raise Conflict(
                "Records changed since the preview; nothing was written.", **body
            ) from None
        invalid = body["summary"]["invalid"]
        raise ImportInvalid(
            f"{invalid} line(s) cannot be imported; nothing was written.", **body
        ) from None
    return result(planned, applied=True)
