"""HTTP route of imports: ``POST /api/r/{resource}/import``, a CSV or XLSX file as the body.

Thin: the body is read by the ``upload`` dependency (its media type checked,
its size capped by ``settings.import_max_bytes``), then
:func:`~collabadmin.imports.service.run_import` previews or applies it. The
file's request body is described in the OpenAPI document by
:func:`collabadmin.openapi.document_exports`.
"""

from __future__ import annotations

from typing import Annotated, Literal

from litestar import Router, post
from litestar.params import FromPath, QueryParameter

from collabadmin.context import Injected
from collabadmin.db.engine import Actor
from collabadmin.drafts.service import DraftService
from collabadmin.imports.files import CSV, XLSX
from collabadmin.imports.plan import ImportRequest
from collabadmin.imports.service import run_import
from collabadmin.imports.types import ImportResult
from collabadmin.resources.service import RecordService
from collabadmin.web import Upload, strict_query, upload_dependency

__all__ = ["imports_router"]


@post(
    "/{resource:str}/import",
    operation_id="importRecords",
    summary="Preview (dry_run) or apply an import of a CSV or XLSX file, all or nothing",
    status_code=200,
    request_max_body_size=None,  # the import's own cap (settings.import_max_bytes)
    dependencies={
        "upload": upload_dependency((CSV, XLSX), lambda settings: settings.import_max_bytes)
    },
)
async def import_records(
    resource: FromPath[str],
    upload: Injected[Upload],
    *,
    actor: Injected[Actor],
    request_id: Injected[str | None],
    records: Injected[RecordService],
    drafts: Injected[DraftService],
    key: Annotated[
        str | None,
        QueryParameter(
            name="key", description="The unique field lines are matched by (default: the key)."
        ),
    ] = None,
    dry_run: Annotated[
        bool, QueryParameter(name="dry_run", description="Only say what each line would do.")
    ] = True,
    preview: Annotated[
        int | None,
        QueryParameter(name="preview", description="The dry run's preview id this apply follows."),
    ] = None,
    stage_as: Annotated[
        Literal["records", "drafts"],
        QueryParameter(
            name="as",
            description="drafts: stage each line as a draft submitted for review, in one batch.",
        ),
    ] = "records",
) -> ImportResult:
    return await run_import(
        records,
        drafts,
        actor,
        ImportRequest(
            resource=resource, body=upload.body, media_type=upload.media_type, key=key,
            dry_run=dry_run, preview=preview, request_id=request_id,
            as_drafts=stage_as == "drafts",
        ),
    )  # fmt: skip


imports_router = Router(
    path="/api/r",
    tags=["records"],
    before_request=strict_query,
    route_handlers=[import_records],
)
