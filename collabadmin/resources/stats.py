"""``GET /api/stats/{resource}?by=status``: how many records per value of a choice field.

The list page's chart. It takes the list's own ``filter[...]``, ``q`` and
``deleted`` parameters, read as the list reads them
(:mod:`collabadmin.resources.list_params`) and turned into the same WHERE
clauses, plus the actor's row scope, so the counts always
add up to what the list shows. Only a readable field with a closed set of
values (choices, or yes/no) can be grouped by: grouping by free text would
be an unbounded, unindexed scan, and a hidden field gets the same 400 as a
field that does not exist.

Every choice is listed, with zero when no record has it, so a chart keeps
its bars in place as counts change live; a NULL count comes last when any.
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Response, Router, get
from litestar.di import Provide
from litestar.params import FromPath, FromQuery, QueryParameter
from sqlalchemy import and_, func, select, true

from collabadmin.context import Injected
from collabadmin.db.engine import Actor, Database
from collabadmin.errors import BadRequest
from collabadmin.resources.list_params import (
    Deleted,
    FilterParam,
    ListFilter,
    RecordListQuery,
    SearchText,
    list_filters,
    search_text,
    sort_params,
)
from collabadmin.resources.listing import build_where
from collabadmin.resources.policy import Policy
from collabadmin.resources.query import key_sort, resolve_list_query
from collabadmin.resources.service import RecordService
from collabadmin.resources.types import Counts, ValueCount
from collabadmin.web import QUERY_OBJECTS, strict_query

__all__ = ["stats_router"]


@get(
    "/api/stats/{resource:str}",
    operation_id="countRecords",
    summary="Count matching records per value of a choice field",
    dependencies={"filters": Provide(list_filters, sync_to_thread=False)},
    opt={QUERY_OBJECTS: {"filter": ListFilter}},
)
async def count_records(
    resource: FromPath[str],
    by: Annotated[str, QueryParameter(name="by", description="A field with choices, or yes/no.")],
    *,
    actor: Injected[Actor],
    filters: Injected[tuple[FilterParam, ...]],
    db: Injected[Database],
    policy: Injected[Policy],
    records: Injected[RecordService],
    q: SearchText = None,
    deleted: FromQuery[Deleted] = "exclude",
) -> Response[Counts]:
    res = records.resource(actor, resource, "view")
    readable = policy.readable_fields(actor, res)
    field = res.fields.get(by) if by in readable else None
    if field is None:
        raise BadRequest(f"Cannot count by unknown field {by!r}.", parameter="by")
    if field.choices is None and field.type != "boolean":
        raise BadRequest(
            f"Count by a field with choices or a yes/no field; {by!r} is neither.", parameter="by"
        )
    # Sorted by the primary key: resolving a list query needs a sort, and the
    # resource's default one might name a field this reader may not see.
    listed = RecordListQuery(
        limit=1,
        sort=sort_params(key_sort(res, readable)),
        filters=filters,
        q=search_text(q),
        deleted=deleted,
    )
    query = resolve_list_query(res, listed, readable)
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
    counts = [ValueCount(value=v, count=found.pop(v, 0)) for v in values]
    # Values outside the declared choices (written by SQL outside the server) still count.
    counts += [
        ValueCount(value=v, count=c)
        for v, c in sorted(found.items(), key=lambda item: (item[0] is None, str(item[0])))
    ]
    return Response(Counts(by=by, counts=counts), headers={"Cache-Control": "no-store"})


stats_router = Router(
    path="/", route_handlers=[count_records], tags=["records"], before_request=strict_query
)
