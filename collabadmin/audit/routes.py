"""``/api/audit``: browse and export the change log (needs the ``audit`` action).

Also ``POST /api/r/{resource}/{pk}/revert``, which writes a change of the log
back as a new change (the record service checks ``change`` on the record).

The search's parameters are typed parameters of :func:`audit_search`, the
dependency both the list and the export take, so the OpenAPI document lists
them and :func:`~collabadmin.web.strict_query` refuses repeated or unknown ones.
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from typing import Annotated, Any

import msgspec
from litestar import Response, Router, get, post
from litestar.di import Provide
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from litestar.response import Stream
from msgspec.structs import replace

from collabadmin.audit.browse import AuditLog
from collabadmin.audit.chain import FullCheck, head, verify
from collabadmin.audit.revert import Revert
from collabadmin.audit.search import AuditOp, AuditQuery, AuditSource, audit_query
from collabadmin.audit.types import AuditHead, AuditVerify, ChangePage, RevertRequest
from collabadmin.context import Injected
from collabadmin.db.engine import Actor
from collabadmin.errors import FieldError, ValidationFailed
from collabadmin.resources.service import RecordService
from collabadmin.resources.types import RecordBody
from collabadmin.web import etag, json_response, strict_query

__all__ = ["audit_router", "revert_record"]

CSV_COLUMNS = [
    "change_id", "at", "resource", "pk", "op", "actor_id", "actor_name", "source",
    "db_role", "request_id", "version", "field", "old", "new",
]  # fmt: skip
CSV_PAGE = 1000
PAGE_MAX = 500
_json = msgspec.json.Encoder()


def audit_search(
    *,
    resource: FromQuery[str | None] = None,
    pk: FromQuery[str | None] = None,
    by: Annotated[
        str | None,
        QueryParameter(name="actor", description="A user id, login name or display name."),
    ] = None,
    field: Annotated[
        str | None, QueryParameter(name="field", description="Entries whose diff touches it.")
    ] = None,
    op: FromQuery[AuditOp | None] = None,
    source: FromQuery[AuditSource | None] = None,
    since: Annotated[
        str | None, QueryParameter(name="since", description="An ISO 8601 date or date-time.")
    ] = None,
    until: Annotated[
        str | None,
        QueryParameter(name="until", description="An ISO 8601 date or date-time (exclusive)."),
    ] = None,
    q: Annotated[
        str | None, QueryParameter(name="q", description="Text in an old or new value.")
    ] = None,
    cursor: FromQuery[str | None] = None,
    limit: Annotated[int | None, QueryParameter(name="limit", ge=1, le=PAGE_MAX)] = None,
) -> AuditQuery:
    """The search of ``/api/audit`` and ``/api/audit.csv`` (a dependency)."""
    return audit_query(
        resource=resource, pk=pk, actor=by, field=field, op=op, source=source,
        since=since, until=until, q=q, cursor=cursor, limit=50 if limit is None else limit,
    )  # fmt: skip


_SEARCH = {"search": Provide(audit_search, sync_to_thread=False)}


@get(
    "/api/audit",
    operation_id="listAudit",
    summary="Search the change log, newest first",
    dependencies=_SEARCH,
)
async def list_audit(
    *, actor: Injected[Actor], search: Injected[AuditQuery], audit: Injected[AuditLog]
) -> Response[ChangePage]:
    items, next_cursor = await audit.page(actor, search)
    return json_response({"items": items, "next_cursor": next_cursor})


def _csv_lines(rows: list[list[Any]]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue()


def _value(value: Any) -> str:
    return "" if value is None else _json.encode(value).decode()


@get(
    "/api/audit.csv",
    operation_id="exportAudit",
    summary="The same search as CSV, one row per field change, streamed",
    media_type="text/csv",
    dependencies=_SEARCH,
)
async def export_audit(
    *, actor: Injected[Actor], search: Injected[AuditQuery], audit: Injected[AuditLog]
) -> Stream:
    first = search
    # Check permissions and parameters before the response starts.
    audit.select(actor, first)

    async def rows() -> AsyncIterator[str]:
        # One page of entries at a time: memory stays flat whatever the size.
        yield _csv_lines([CSV_COLUMNS])
        query = replace(first, limit=CSV_PAGE)
        while True:
            items, next_cursor = await audit.page(actor, query)
            lines: list[list[Any]] = []
            for change in items:
                who = change["actor"]
                fields = sorted(change["diff"].items())
                if not fields and change["hidden_fields"]:
                    # Only fields this reader may not see changed: one row without a
                    # field, so the entry and its version still appear in the export.
                    fields = [("", {"old": None, "new": None})]
                for field, values in fields:
                    lines.append([
                        change["id"], change["at"].isoformat(), change["resource"], change["pk"],
                        change["op"], who["id"] if who else "", who["name"] if who else "",
                        change["source"], change["db_role"], change["request_id"] or "",
                        change["version"], field, _value(values["old"]), _value(values["new"]),
                    ])  # fmt: skip
            yield _csv_lines(lines)
            if next_cursor is None:
                return
            query = replace(query, before_id=int(next_cursor))

    return Stream(
        rows(),
        media_type="text/csv",  # Litestar adds "; charset=utf-8"
        headers={"Content-Disposition": 'attachment; filename="audit.csv"'},
    )


@get(
    "/api/audit/verify",
    operation_id="verifyAudit",
    summary="Recompute the hash chain since the last verified point (full=true: all of it)",
)
async def verify_audit(
    *,
    actor: Injected[Actor],
    audit: Injected[AuditLog],
    full: Annotated[
        bool, QueryParameter(name="full", description="Check the whole chain, not only the new.")
    ] = False,
) -> Response[AuditVerify]:
    audit.require(actor)
    result = await (FullCheck.of(audit.db).run() if full else verify(audit.db))
    return Response(
        msgspec.convert(result.body(), AuditVerify), headers={"Cache-Control": "no-store"}
    )


@get(
    "/api/audit/head",
    operation_id="auditHead",
    summary="The sealed chain's head, to keep outside the database",
)
async def audit_head(*, actor: Injected[Actor], audit: Injected[AuditLog]) -> Response[AuditHead]:
    audit.require(actor)
    last = await head(audit.db)
    body = AuditHead(id=last.id, seq=last.seq, hash=last.hash, at=last.at)
    return Response(body, headers={"Cache-Control": "no-store"})


# A record's route (tagged with them, outside audit_router), but the audit's
# action: it writes a change of the log back.
@post(
    "/api/r/{resource:str}/{pk:str}/revert",
    operation_id="revertRecord",
    tags=["records"],
    summary="Restore fields to their values before a change, as a new change",
    status_code=200,
    before_request=strict_query,
)
async def revert_record(
    resource: FromPath[str],
    pk: FromPath[str],
    data: JSONBody[RevertRequest],
    *,
    actor: Injected[Actor],
    request_id: Injected[str | None],
    records: Injected[RecordService],
) -> Response[RecordBody]:
    if data.change_id < 1:
        raise ValidationFailed([FieldError("change_id", "The id of a change of this record.")])
    written = await Revert(
        records=records,
        actor=actor,
        resource=resource,
        pk=pk,
        change_id=data.change_id,
        fields=data.fields,
        request_id=request_id,
    ).execute()
    return json_response(written.body, headers={"ETag": etag(written.body["_version"])})


audit_router = Router(
    path="/",
    route_handlers=[list_audit, export_audit, verify_audit, audit_head],
    tags=["audit"],
    before_request=strict_query,
)
