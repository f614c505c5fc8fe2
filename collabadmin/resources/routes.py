"""HTTP routes of the records API (``/api/r/{resource}``) and ``/api/meta``.

Thin: typed inputs in (a record's fields as ``data``, its precondition from
typed headers, the list's query from :func:`record_list_query`), a call to
the service (reads) or a record action (writes,
:mod:`collabadmin.resources.actions`), the response out. Records are open
objects, encoded once by :func:`~collabadmin.web.json_response` (their
per-resource schemas are :mod:`collabadmin.resources.schemas`'s); the
bodies of a fixed shape are returned as their Structs.
"""

from __future__ import annotations

from typing import Annotated, Any, cast

import msgspec
from litestar import Controller, Response, Router, delete, get, patch, post, route
from litestar.di import Provide
from litestar.enums import HttpMethod
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from litestar.response import Stream

from collabadmin.changelog.changes import parse_id_cursor
from collabadmin.context import Injected
from collabadmin.db.engine import Actor
from collabadmin.errors import BadRequest
from collabadmin.resources.action_access import applying_now
from collabadmin.resources.actions import CreateRecord, PatchRecord, Purge, Restore, SoftDelete
from collabadmin.resources.export import EXPORT_SUFFIXES, start_export
from collabadmin.resources.keys import key_url
from collabadmin.resources.list_params import (
    ListFilter,
    RecordListQuery,
    page_size,
    record_list_query,
)
from collabadmin.resources.meta import MetaSections, allow_header, resource_meta
from collabadmin.resources.policy import Policy
from collabadmin.resources.preconditions import BaseVersion, IfMatch, precondition_of
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
from collabadmin.web import QUERY_OBJECTS, etag, json_response, strict_query

__all__ = ["MetaController", "records_router"]

HISTORY_MAX = 200

ExportColumns = Annotated[
    str | None,
    QueryParameter(
        name="columns",
        description="An export's fields, comma-separated, in order (default: all it may read).",
        include_in_schema=False,
    ),
]


@get(
    "/{resource:str}",
    operation_id="listRecords",
    summary="List records",
    dependencies={"list_query": Provide(record_list_query, sync_to_thread=False)},
    opt={QUERY_OBJECTS: {"filter": ListFilter}},
)
async def list_records(
    resource: FromPath[str],
    *,
    actor: Injected[Actor],
    list_query: Injected[RecordListQuery],
    records: Injected[RecordService],
    columns: ExportColumns = None,
) -> Response[RecordPage]:
    # /api/r/{resource}.csv and .xlsx: a path parameter is a whole segment,
    # so the export's paths arrive here (documented by document_exports).
    for suffix, fmt in EXPORT_SUFFIXES.items():
        if resource.endswith(suffix) and len(resource) > len(suffix):
            name = resource[: -len(suffix)]
            export = await start_export(
                records, actor, name, fmt=fmt, params=list_query, columns=columns
            )
            stream = Stream(
                export.chunks,
                media_type=export.media_type,
                headers={"Content-Disposition": export.disposition},
            )
            return cast(Response[RecordPage], stream)
    if columns is not None:
        raise BadRequest("columns applies to an export (.csv or .xlsx).", parameter="columns")
    page = await records.list_page(actor, resource, list_query)
    return json_response(
        {"items": page.items, "next_cursor": page.next_cursor, "total": page.total}
    )


@post("/{resource:str}", operation_id="createRecord", summary="Create a record")
async def create_record(
    resource: FromPath[str],
    data: JSONBody[RecordBody],
    *,
    actor: Injected[Actor],
    request_id: Injected[str | None],
    records: Injected[RecordService],
) -> Response[RecordBody]:
    created = await CreateRecord(
        records=records, actor=actor, resource=resource, values=data, request_id=request_id
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
    resource: FromPath[str],
    *,
    actor: Injected[Actor],
    records: Injected[RecordService],
    policy: Injected[Policy],
    registry: Injected[Registry],
) -> Response[ResourceMeta]:
    res = records.resource(actor, resource, "view")
    meta = msgspec.convert(resource_meta(policy, actor, res, registry), ResourceMeta)
    return Response(meta, headers={"Allow": allow_header(meta.actions, record=False)})


@get("/{resource:str}/{pk:str}", operation_id="getRecord", summary="Get one record")
async def get_record(
    resource: FromPath[str],
    pk: FromPath[str],
    *,
    actor: Injected[Actor],
    records: Injected[RecordService],
) -> Response[RecordBody]:
    body = await records.get(actor, resource, pk)
    return json_response(body, headers={"ETag": etag(body["_version"])})


@patch(
    "/{resource:str}/{pk:str}",
    operation_id="patchRecord",
    summary="Change fields of a record (JSON merge patch)",
)
async def patch_record(
    resource: FromPath[str],
    pk: FromPath[str],
    data: JSONBody[RecordBody],
    *,
    actor: Injected[Actor],
    request_id: Injected[str | None],
    records: Injected[RecordService],
    if_match: IfMatch = None,
    base_version: BaseVersion = None,
) -> Response[RecordBody]:
    written = await PatchRecord(
        records=records,
        actor=actor,
        resource=resource,
        pk=pk,
        changes=data,
        precondition=precondition_of(if_match, base_version, allow_merge=True),
        request_id=request_id,
    ).execute()
    return json_response(written.body, headers={"ETag": etag(written.body["_version"])})


@delete(
    "/{resource:str}/{pk:str}",
    operation_id="deleteRecord",
    summary="Soft-delete a record, or purge it with ?purge=true",
    status_code=200,
)
async def delete_record(
    resource: FromPath[str],
    pk: FromPath[str],
    *,
    actor: Injected[Actor],
    request_id: Injected[str | None],
    records: Injected[RecordService],
    if_match: IfMatch = None,
    purge: Annotated[
        bool, QueryParameter(name="purge", description="Delete for good (the purge action).")
    ] = False,
) -> Response[RecordBody]:
    version = precondition_of(if_match, allow_merge=False).version
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
    resource: FromPath[str],
    pk: FromPath[str],
    *,
    actor: Injected[Actor],
    records: Injected[RecordService],
    policy: Injected[Policy],
    registry: Injected[Registry],
) -> Response[ResourceMeta]:
    res, row = await records.get_row(actor, resource, pk)
    applies = await applying_now(records, actor, res, row)
    meta = msgspec.convert(
        resource_meta(policy, actor, res, registry, row, applies=applies), ResourceMeta
    )
    return Response(meta, headers={"Allow": allow_header(meta.actions, record=True)})


@post(
    "/{resource:str}/{pk:str}/restore",
    operation_id="restoreRecord",
    summary="Restore a soft-deleted record",
    status_code=200,
)
async def restore_record(
    resource: FromPath[str],
    pk: FromPath[str],
    *,
    actor: Injected[Actor],
    request_id: Injected[str | None],
    records: Injected[RecordService],
    if_match: IfMatch = None,
) -> Response[RecordBody]:
    written = await Restore(
        records=records,
        actor=actor,
        resource=resource,
        pk=pk,
        version=precondition_of(if_match, allow_merge=False).version,
        request_id=request_id,
    ).execute()
    return json_response(written.body, headers={"ETag": etag(written.body["_version"])})


@get(
    "/{resource:str}/{pk:str}/history",
    operation_id="recordHistory",
    summary="A record's changes, newest first",
)
async def record_history(
    resource: FromPath[str],
    pk: FromPath[str],
    *,
    actor: Injected[Actor],
    records: Injected[RecordService],
    cursor: FromQuery[str | None] = None,
    limit: Annotated[int | None, QueryParameter(name="limit", ge=1, le=HISTORY_MAX)] = None,
) -> Response[HistoryPage]:
    items, next_cursor = await records.history(
        actor,
        resource,
        pk,
        before_id=parse_id_cursor(cursor),
        limit=page_size(limit, 50, HISTORY_MAX),
    )
    return json_response({"items": items, "next_cursor": next_cursor})


class MetaController(Controller):
    path = "/api/meta"
    tags = ["meta"]

    @get(
        "/",
        operation_id="getMeta",
        summary="Resources and workflows this user may see",
        before_request=strict_query,
    )
    async def get_meta(
        self,
        *,
        actor: Injected[Actor],
        policy: Injected[Policy],
        registry: Injected[Registry],
        meta_sections: Injected[MetaSections],
        settings: Injected[Settings],
    ) -> Meta:
        resources = [
            resource_meta(policy, actor, r, registry)
            for r in registry
            if policy.allows(actor, r, "view")
        ]
        sections = meta_sections.for_actor(actor)
        body = {"resources": resources, "import_max_bytes": settings.import_max_bytes, **sections}
        return msgspec.convert(body, Meta)


# The OPTIONS handlers come first: Litestar adds its own bare OPTIONS handler to
# a path whose first registered handler lacks one, and that one would win.
records_router = Router(
    path="/api/r",
    tags=["records"],
    before_request=strict_query,
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
