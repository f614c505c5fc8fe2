"""HTTP routes of the records API (``/api/r/{resource}``) and ``/api/meta``.

Thin: parse the request into typed inputs, call the service (reads) or a
record action (writes, :mod:`collabadmin.resources.actions`), shape the response.
"""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, Router, delete, get, patch, post, route
from litestar.enums import HttpMethod
from litestar.params import FromPath, FromQuery

from collabadmin.changelog.changes import parse_id_cursor
from collabadmin.context import Injected
from collabadmin.inputs import parse_limit
from collabadmin.resources.action_access import applying_now
from collabadmin.resources.actions import CreateRecord, PatchRecord, Purge, Restore, SoftDelete
from collabadmin.resources.keys import key_url
from collabadmin.resources.list_params import parse_list_params
from collabadmin.resources.meta import MetaSections, allow_header, resource_meta
from collabadmin.resources.policy import Policy
from collabadmin.resources.preconditions import parse_precondition
from collabadmin.resources.resource import Registry
from collabadmin.resources.service import RecordService
from collabadmin.resources.types import (
    HistoryPage,
    Meta,
    RecordBody,
    RecordPage,
    ResourceMeta,
)
from collabadmin.settings import Settings
from collabadmin.web import (
    actor_of,
    etag,
    json_response,
    query_params,
    read_json_object,
    request_id_of,
)

__all__ = ["MetaController", "records_router"]

HISTORY_MAX = 200


@get("/{resource:str}", operation_id="listRecords", summary="List records")
async def list_records(
    request: Request[Any, Any, Any],
    resource: FromPath[str],
    *,
    settings: Injected[Settings],
    records: Injected[RecordService],
) -> Response[RecordPage]:
    query = parse_list_params(
        query_params(request),
        default_limit=settings.default_page_size,
        max_limit=settings.max_page_size,
    )
    page = await records.list_page(actor_of(request), resource, query)
    return json_response(
        {"items": page.items, "next_cursor": page.next_cursor, "total": page.total}
    )


@post(
    "/{resource:str}",
    operation_id="createRecord",
    opt={"request_body": RecordBody},
    summary="Create a record",
)
async def create_record(
    request: Request[Any, Any, Any],
    resource: FromPath[str],
    *,
    records: Injected[RecordService],
) -> Response[RecordBody]:
    payload = await read_json_object(request)
    created = await CreateRecord(
        records=records,
        actor=actor_of(request),
        resource=resource,
        values=payload,
        request_id=request_id_of(request),
    ).execute()
    res, body = created.resource, created.body
    return json_response(
        body,
        201,
        {
            "Location": f"/api/r/{res.name}/{key_url(res.key_of(body), len(res.pk))}",
            "ETag": etag(body["_version"]),
        },
    )


@route(
    "/{resource:str}",
    http_method=HttpMethod.OPTIONS,
    operation_id="describeResource",
    summary="Describe a resource for this user",
)
async def describe_resource(
    request: Request[Any, Any, Any],
    resource: FromPath[str],
    *,
    records: Injected[RecordService],
    policy: Injected[Policy],
    registry: Injected[Registry],
) -> Response[ResourceMeta]:
    actor = actor_of(request)
    res = records.resource(actor, resource, "view")
    meta = resource_meta(policy, actor, res, registry)
    return json_response(meta, headers={"Allow": allow_header(meta["actions"], record=False)})


@get("/{resource:str}/{pk:str}", operation_id="getRecord", summary="Get one record")
async def get_record(
    request: Request[Any, Any, Any],
    resource: FromPath[str],
    pk: FromPath[str],
    *,
    records: Injected[RecordService],
) -> Response[RecordBody]:
    body = await records.get(actor_of(request), resource, pk)
    return json_response(body, headers={"ETag": etag(body["_version"])})


@patch(
    "/{resource:str}/{pk:str}",
    operation_id="patchRecord",
    opt={"request_body": RecordBody},
    summary="Change fields of a record (JSON merge patch)",
)
async def patch_record(
    request: Request[Any, Any, Any],
    resource: FromPath[str],
    pk: FromPath[str],
    *,
    records: Injected[RecordService],
) -> Response[RecordBody]:
    payload = await read_json_object(request)
    written = await PatchRecord(
        records=records,
        actor=actor_of(request),
        resource=resource,
        pk=pk,
        changes=payload,
        precondition=parse_precondition(request, allow_merge=True),
        request_id=request_id_of(request),
    ).execute()
    return json_response(written.body, headers={"ETag": etag(written.body["_version"])})


@delete(
    "/{resource:str}/{pk:str}",
    operation_id="deleteRecord",
    summary="Soft-delete a record, or purge it with ?purge=true",
    status_code=200,
)
async def delete_record(
    request: Request[Any, Any, Any],
    resource: FromPath[str],
    pk: FromPath[str],
    *,
    records: Injected[RecordService],
    purge: FromQuery[bool] = False,
) -> Response[RecordBody]:
    actor = actor_of(request)
    version = parse_precondition(request, allow_merge=False).version
    request_id = request_id_of(request)
    if purge:
        await Purge(
            records=records,
            actor=actor,
            resource=resource,
            pk=pk,
            version=version,
            request_id=request_id,
        ).execute()
        empty: Response[Any] = Response(content=b"", status_code=204)
        return empty
    written = await SoftDelete(
        records=records, actor=actor, resource=resource, pk=pk, version=version,
        request_id=request_id,
    ).execute()  # fmt: skip
    return json_response(written.body, headers={"ETag": etag(written.body["_version"])})


@route(
    "/{resource:str}/{pk:str}",
    http_method=HttpMethod.OPTIONS,
    operation_id="describeRecord",
    summary="Describe what this user may do with one record",
)
async def describe_record(
    request: Request[Any, Any, Any],
    resource: FromPath[str],
    pk: FromPath[str],
    *,
    records: Injected[RecordService],
    policy: Injected[Policy],
    registry: Injected[Registry],
) -> Response[ResourceMeta]:
    actor = actor_of(request)
    res, row = await records.get_row(actor, resource, pk)
    applies = await applying_now(records, actor, res, row)
    meta = resource_meta(policy, actor, res, registry, row, applies=applies)
    return json_response(meta, headers={"Allow": allow_header(meta["actions"], record=True)})


@post(
    "/{resource:str}/{pk:str}/restore",
    operation_id="restoreRecord",
    summary="Restore a soft-deleted record",
    status_code=200,
)
async def restore_record(
    request: Request[Any, Any, Any],
    resource: FromPath[str],
    pk: FromPath[str],
    *,
    records: Injected[RecordService],
) -> Response[RecordBody]:
    written = await Restore(
        records=records,
        actor=actor_of(request),
        resource=resource,
        pk=pk,
        version=parse_precondition(request, allow_merge=False).version,
        request_id=request_id_of(request),
    ).execute()
    return json_response(written.body, headers={"ETag": etag(written.body["_version"])})


@get(
    "/{resource:str}/{pk:str}/history",
    operation_id="recordHistory",
    summary="A record's changes, newest first",
)
async def record_history(
    request: Request[Any, Any, Any],
    resource: FromPath[str],
    pk: FromPath[str],
    *,
    records: Injected[RecordService],
    cursor: FromQuery[str | None] = None,
    limit: FromQuery[str | None] = None,
) -> Response[HistoryPage]:
    items, next_cursor = await records.history(
        actor_of(request),
        resource,
        pk,
        before_id=parse_id_cursor(cursor),
        limit=parse_limit(limit, 50, HISTORY_MAX),
    )
    return json_response({"items": items, "next_cursor": next_cursor})


class MetaController(Controller):
    path = "/api/meta"
    tags = ["meta"]

    @get("/", operation_id="getMeta", summary="Resources and workflows this user may see")
    async def get_meta(
        self,
        request: Request[Any, Any, Any],
        *,
        policy: Injected[Policy],
        registry: Injected[Registry],
        meta_sections: Injected[MetaSections],
    ) -> Response[Meta]:
        actor = actor_of(request)
        resources = [
            resource_meta(policy, actor, r, registry)
            for r in registry
            if policy.allows(actor, r, "view")
        ]
        return json_response({"resources": resources, **meta_sections.for_actor(actor)})


# The OPTIONS handlers come first: Litestar adds its own bare OPTIONS handler to
# a path whose first registered handler lacks one, and that one would win.
records_router = Router(
    path="/api/r",
    tags=["records"],
    route_handlers=[
        describe_resource,
        describe_record,
        list_records,
        create_record,
        get_record,
        patch_record,
        delete_record,
        restore_record,
        record_history,
    ],
)
