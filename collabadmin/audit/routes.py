"""``/api/audit``: browse and export the change log (needs the ``audit`` action)."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from typing import Any

import msgspec
from litestar import Request, Response, Router, get
from litestar.response import Stream
from msgspec.structs import replace

from collabadmin.audit.chain import FullCheck, head, verify
from collabadmin.audit.changes import change_body
from collabadmin.audit.search import (
    DRAFTS_LOG,
    AuditQuery,
    audit_select,
    auditable,
    parse_audit_query,
)
from collabadmin.context import Services, services_of
from collabadmin.db.engine import Actor
from collabadmin.drafts.feed import draft_change_body, draft_targets
from collabadmin.errors import BadRequest, Forbidden
from collabadmin.inputs import refuse_unknown_params, single_param
from collabadmin.web import JsonObject, actor_of, json_response, query_params

__all__ = ["audit_router"]

CSV_COLUMNS = [
    "change_id", "at", "resource", "pk", "op", "actor_id", "actor_name", "source",
    "db_role", "request_id", "version", "field", "old", "new",
]  # fmt: skip
CSV_PAGE = 1000
_json = msgspec.json.Encoder()


async def _page(
    services: Services, actor: Actor, query: AuditQuery
) -> tuple[list[dict[str, Any]], str | None]:
    statement, readable = audit_select(services.policy, services.registry, actor, query)
    async with services.db.read() as tx:
        rows = await tx.rows(statement)
        targets = await draft_targets(tx, [r["pk"] for r in rows if r["resource"] == DRAFTS_LOG])
    next_cursor = str(rows[query.limit - 1]["id"]) if len(rows) > query.limit else None
    items = []
    for row in rows[: query.limit]:
        if row["resource"] == DRAFTS_LOG:
            items.append(draft_change_body(row, readable[targets[row["pk"]]]))
        else:
            resource = row["resource"]
            fields = (
                services.registry.get(resource).fields if resource in services.registry else None
            )
            items.append(change_body(row, readable[resource], fields))
    return items, next_cursor


@get("/api/audit", operation_id="listAudit", summary="Search the change log, newest first")
async def list_audit(request: Request[Any, Any, Any]) -> Response[JsonObject]:
    services = services_of(request)
    query = parse_audit_query(query_params(request))
    items, next_cursor = await _page(services, actor_of(request), query)
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
)
async def export_audit(request: Request[Any, Any, Any]) -> Stream:
    services = services_of(request)
    actor = actor_of(request)
    first = parse_audit_query(query_params(request), max_limit=CSV_PAGE)
    # Check permissions and parameters before the response starts.
    audit_select(services.policy, services.registry, actor, first)

    async def rows() -> AsyncIterator[str]:
        # One page of entries at a time: memory stays flat whatever the size.
        yield _csv_lines([CSV_COLUMNS])
        query = replace(first, limit=CSV_PAGE)
        while True:
            items, next_cursor = await _page(services, actor, query)
            lines: list[list[Any]] = []
            for change in items:
                actor_part = change["actor"] or {}
                fields = sorted(change["diff"].items())
                if not fields and change["hidden_fields"]:
                    # Only fields this reader may not see changed: one row without a
                    # field, so the entry and its version still appear in the export.
                    fields = [("", {"old": None, "new": None})]
                for field, values in fields:
                    lines.append([
                        change["id"], change["at"].isoformat(), change["resource"], change["pk"],
                        change["op"], actor_part.get("id", ""), actor_part.get("name", ""),
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


def _require_audit(request: Request[Any, Any, Any]) -> Services:
    services = services_of(request)
    if not auditable(services.policy, services.registry, actor_of(request)):
        raise Forbidden("You may not read the audit log.")
    return services


@get(
    "/api/audit/verify",
    operation_id="verifyAudit",
    summary="Recompute the hash chain since the last verified point (full=true: all of it)",
)
async def verify_audit(request: Request[Any, Any, Any]) -> Response[JsonObject]:
    services = _require_audit(request)
    params = query_params(request)
    refuse_unknown_params(params, frozenset({"full"}))
    full = single_param(params, "full") or "false"
    if full not in ("true", "false"):
        raise BadRequest("full must be true or false.", parameter="full")
    if full == "true":
        result = await FullCheck.of(services.db).run()
    else:
        result = await verify(services.db)
    return json_response(result.body(), headers={"Cache-Control": "no-store"})


@get(
    "/api/audit/head",
    operation_id="auditHead",
    summary="The sealed chain's head, to keep outside the database",
)
async def audit_head(request: Request[Any, Any, Any]) -> Response[JsonObject]:
    services = _require_audit(request)
    if request.query_params:
        raise BadRequest("This endpoint takes no query parameters.")
    result = await head(services.db)
    return json_response(result.body(), headers={"Cache-Control": "no-store"})


audit_router = Router(
    path="/", route_handlers=[list_audit, export_audit, verify_audit, audit_head], tags=["audit"]
)
