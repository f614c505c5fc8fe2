"""``GET /api/stats/{resource}?by=status``: how many records per value of a choice field.

The list page's chart. It takes the list's own ``filter[...]``, ``q`` and
``deleted`` parameters, parsed by the records API's parser and turned into
the same WHERE clauses, plus the actor's row scope, so the counts always
add up to what the list shows. Only a readable field with a closed set of
values (choices, or yes/no) can be grouped by: grouping by free text would
be an unbounded, unindexed scan, and a hidden field gets the same 400 as a
field that does not exist.

Every choice is listed, with zero when no record has it, so a chart keeps
its bars in place as counts change live; a NULL count comes last when any.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, Router, get
from litestar.params import FromPath
from sqlalchemy import and_, func, select, true

from collabadmin.context import Injected
from collabadmin.db.engine import Database
from collabadmin.errors import BadRequest
from collabadmin.inputs import single_param
from collabadmin.resources.listing import build_where
from collabadmin.resources.policy import Policy
from collabadmin.resources.query import key_sort, parse_list_query
from collabadmin.resources.service import RecordService
from collabadmin.resources.types import Counts
from collabadmin.web import actor_of, json_response, query_params

__all__ = ["stats_router"]

_LIST_ONLY = ("sort", "limit", "cursor")


@get(
    "/api/stats/{resource:str}",
    operation_id="countRecords",
    summary="Count matching records per value of a choice field",
)
async def count_records(
    request: Request[Any, Any, Any],
    resource: FromPath[str],
    *,
    db: Injected[Database],
    policy: Injected[Policy],
    records: Injected[RecordService],
) -> Response[Counts]:
    actor = actor_of(request)
    res = records.resource(actor, resource, "view")
    readable = policy.readable_fields(actor, res)
    params = query_params(request)
    by = single_param(params, "by")
    if by is None:
        raise BadRequest("Name the field to count by: ?by=<field>.", parameter="by")
    field = res.fields.get(by) if by in readable else None
    if field is None:
        raise BadRequest(f"Cannot count by unknown field {by!r}.", parameter="by")
    if field.choices is None and field.type != "boolean":
        raise BadRequest(
            f"Count by a field with choices or a yes/no field; {by!r} is neither.", parameter="by"
        )
    for name in _LIST_ONLY:
        if name in params:
            raise BadRequest(f"{name} does not apply to counts.", parameter=name)
    rest = {k: v for k, v in params.items() if k != "by"}
    # Sort by the primary key: the parser always reads a sort, and the resource's
    # default one might name a field this reader may not see.
    query = parse_list_query(
        res, {**rest, "sort": [key_sort(res, readable)]}, readable, default_limit=1, max_limit=1
    )
    column = res.column(by)
    statement = (
        select(column.label("value"), func.count().label("count"))
        .where(and_(true(), *build_where(res, query, policy.row_filter(actor, res))))
        .group_by(column)
    )
    async with db.read() as tx:
        rows = await tx.rows(statement)
    found = {r["value"]: int(r["count"]) for r in rows}
    values: list[Any] = list(field.choices) if field.choices is not None else [True, False]
    counts = [{"value": v, "count": found.pop(v, 0)} for v in values]
    # Values outside the declared choices (written by SQL outside the server) still count.
    counts += [
        {"value": v, "count": c}
        for v, c in sorted(found.items(), key=lambda item: (item[0] is None, str(item[0])))
    ]
    return json_response({"by": by, "counts": counts}, headers={"Cache-Control": "no-store"})


stats_router = Router(path="/", route_handlers=[count_records], tags=["records"])
