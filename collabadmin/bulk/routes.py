"""HTTP routes of bulk edits (``POST /api/r/{resource}/bulk``) and jobs (``/api/jobs/{id}``).

Thin: the body is a :class:`~collabadmin.bulk.types.BulkRequest`, checked
by :class:`~collabadmin.bulk.edit.BulkEdit` before anything is written. A
run of up to :data:`SYNC_MAX` keys is done within the request (``200`` with
the result); a longer one, or one over a ``filter`` (whose rows are only
known as it goes), is a job (``202 {"job": id}``).
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Router, get, post
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, JSONBody, Parameter

from collabadmin.bulk.edit import BulkEdit
from collabadmin.bulk.jobs import JobService
from collabadmin.bulk.types import BulkRequest, BulkResult, Job, JobAccepted
from collabadmin.context import Injected
from collabadmin.db.engine import Actor
from collabadmin.resources.service import RecordService
from collabadmin.settings import Settings
from collabadmin.web import JsonResponse, strict_query

__all__ = ["SYNC_MAX", "bulk_router", "jobs_router"]

SYNC_MAX = 2_000
"""Keys a bulk edit does within its request; more (or a filter) run as a job."""


@post(
    "/{resource:str}/bulk",
    operation_id="bulkRecords",
    summary="Update, delete, restore or purge many records, each row its own change",
    status_code=200,
    responses={
        202: ResponseSpec(
            data_container=JobAccepted,
            generate_examples=False,
            description="A long run goes on as a job: follow jobs/{job} or GET /api/jobs/{job}",
        )
    },
)
async def bulk_records(
    resource: FromPath[str],
    data: JSONBody[BulkRequest],
    *,
    actor: Injected[Actor],
    request_id: Injected[str | None],
    records: Injected[RecordService],
    jobs: Injected[JobService],
    settings: Injected[Settings],
) -> JsonResponse[BulkResult]:
    edit = BulkEdit(
        records=records,
        actor=actor,
        resource=resource,
        request=data,
        request_id=request_id,
        batch_size=settings.bulk_batch_size,
    )
    _, targets, _ = edit.check()
    if targets.keys is not None and len(targets.keys) <= settings.bulk_sync_max:
        return JsonResponse(await edit.execute(total=len(targets.keys)))
    total = await edit.count()
    job = await jobs.start_bulk(edit, total)
    accepted: Any = JobAccepted(job=job)  # the 202 of ``responses``
    return JsonResponse(accepted, status_code=202, headers={"Location": f"/api/jobs/{job}"})


@get("/{job_id:int}", operation_id="getJob", summary="A background job you started")
async def get_job(
    job_id: Annotated[int, Parameter(ge=1, le=2**63 - 1)],
    *,
    actor: Injected[Actor],
    jobs: Injected[JobService],
) -> Job:
    return await jobs.get(actor, job_id)


bulk_router = Router(
    path="/api/r",
    tags=["records"],
    before_request=strict_query,
    route_handlers=[bulk_records],
    response_class=JsonResponse,
)
jobs_router = Router(
    path="/api/jobs",
    tags=["jobs"],
    before_request=strict_query,
    route_handlers=[get_job],
    response_class=JsonResponse,
)
