"""HTTP routes of the records API (``/api/r/{resource}``) and ``/api/meta``.

Thin: parse the request into typed inputs, call the service (reads) or a
record action (writes, :mod:`collabadmin.resources.actions`), shape the response.
"""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, Router, delete, get, patch, post, route
from litestar.enums import HttpMethod
from litestar.params import FromPath, FromQuery

from collabadmin.audit.changes import parse_id_cursor
from collabadmin.audit.revert import Revert
from collabadmin.context import services_of
from collabadmin.errors import FieldError, ValidationFailed
from collabadmin.inputs import parse_limit
from collabadmin.resources.actions import CreateRecord, PatchRecord, Purge, Restore, SoftDelete
from collabadmin.resources.keys import key_url
from collabadmin.resources.list_params import parse_list_params
from collabadmin.resources.meta import allow_header, resource_meta
from collabadmin.web import (
    JsonObject,
    actor_of,
    etag,
    json_response,
    parse_precondition,
    query_params,
    read_json_object,
    request_id_of,
)

__all__ = ["MetaController", "records_router"]

HISTORY_MAX = 200


@get("/{resource:str}", operation_id="listRecords", summary="List records")
async def list_records(
    request: Request[Any, Any, Any], resource: FromPath[str]
) -> Response[JsonObject]:
    svc = services_of(request)
    query = parse_list_params(
        query_params(request),
        default_limit=svc.settings.default_page_size,
        max_limit=svc.settings.max_page_size,
    )
    page = await svc.records.list_page(actor_of(request), resource, query)
    return json_response(
        {"items": page.items, "next_cursor": page.next_cursor, "total": page.total}
    )


@post("/{resource:str}", operation_id="createRecord", summary="Create a record")
async def create_record(
    request: Request[Any, Any, Any], resource: FromPath[str]
) -> Response[JsonObject]:
    payload = await read_json_object(request)
    created = await CreateRecord(
        records=services_of(request).records,
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
    request: Request[Any, Any, Any], resource: FromPath[str]
) -> Response[JsonObject]:
    svc = services_of(request)
    actor = actor_of(request)
    res = svc.records.resource(actor, resource, "view")
    meta = resource_meta(svc.policy, actor, res, svc.registry)
    return json_response(meta, headers={"Allow": allow_header(meta["actions"], record=False)})


@get("/{resource:str}/{pk:str}", operation_id="getRecord", summary="Get one record")
async def get_record(
    request: Request[Any, Any, Any], resource: FromPath[str], pk: FromPath[str]
) -> Response[JsonObject]:
    body = await services_of(request).records.get(actor_of(request), resource, pk)
    return json_response(body, headers={"ETag": etag(body["_version"])})


@patch(
    "/{resource:str}/{pk:str}",
    operation_id="patchRecord",
    summary="Change fields of a record (JSON merge patch)",
)
async def patch_record(
    request: Request[Any, Any, Any], resource: FromPath[str], pk: FromPath[str]
) -> Response[JsonObject]:
    payload = await read_json_object(request)
    written = await PatchRecord(
        records=services_of(request).records,
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
    purge: FromQuery[bool] = False,
) -> Response[JsonObject]:
    records, actor = services_of(request).records, actor_of(request)
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
    request: Request[Any, Any, Any], resource: FromPath[str], pk: FromPath[str]
) -> Response[JsonObject]:
    svc = services_of(request)
    actor = actor_of(request)
    res, row = await svc.records.get_row(actor, resource, pk)
    meta = resource_meta(svc.policy, actor, res, svc.registry, row)
    return json_response(meta, headers={"Allow": allow_header(meta["actions"], record=True)})


@post(
    "/{resource:str}/{pk:str}/restore",
    operation_id="restoreRecord",
    summary="Restore a soft-deleted record",
    status_code=200,
)
async def restore_record(
    request: Request[Any, Any, Any], resource: FromPath[str], pk: FromPath[str]
) -> Response[JsonObject]:
    written = await Restore(
        records=services_of(request).records,
        actor=actor_of(request),
        resource=resource,
        pk=pk,
        version=parse_precondition(request, allow_merge=False).version,
        request_id=request_id_of(request),
    ).execute()
    return json_response(written.body, headers={"ETag": etag(written.body["_version"])})


@post(
    "/{resource:str}/{pk:str}/revert",
    operation_id="revertRecord",
    summary="Restore fields to their values before a change, as a new change",
    status_code=200,
)
async def revert_record(
    request: Request[Any, Any, Any], resource: FromPath[str], pk: FromPath[str]
) -> Response[JsonObject]:
    body = await read_json_object(request)
    change_id = body.get("change_id")
    fields = body.get("fields")
    errors = []
    if isinstance(change_id, bool) or not isinstance(change_id, int) or change_id < 1:
        errors.append(FieldError("change_id", "The id of a change of this record."))
    if fields is not None and (
        not isinstance(fields, list) or not all(isinstance(f, str) for f in fields)
    ):
        errors.append(FieldError("fields", "A list of field names."))
    errors.extend(
        FieldError(k, "Unknown field.") for k in sorted(set(body) - {"change_id", "fields"})
    )
    if errors:
        raise ValidationFailed(errors)
    assert isinstance(change_id, int)
    written = await Revert(
        records=services_of(request).records,
        actor=actor_of(request),
        resource=resource,
        pk=pk,
        change_id=change_id,
        fields=fields,
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
    cursor: FromQuery[str | None] = None,
    limit: FromQuery[str | None] = None,
) -> Response[JsonObject]:
    items, next_cursor = await services_of(request).records.history(
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
    async def get_meta(self, request: Request[Any, Any, Any]) -> Response[JsonObject]:
        svc = services_of(request)
        actor = actor_of(request)
        resources = [
            resource_meta(svc.policy, actor, r, svc.registry)
            for r in svc.registry
            if svc.policy.allows(actor, r, "view")
        ]
        return json_response({"resources": resources, "workflows": svc.workflow_summaries(actor)})


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
        revert_record,
        record_history,
    ],
)
