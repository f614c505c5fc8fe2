"""The SQL of a list page: filters, search, keyset order and capped counts.

Built from a parsed :class:`~collabadmin.resources.query.ListQuery` and the
reader's row scope. Pagination is keyset: a page starts strictly after the
cursor's sort values (NULLs last in both directions), so page N costs the
same as page 1; for NOT NULL columns sorted one way, the comparison is a
row comparison that the ``(column, id)`` indexes serve.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

from sqlalchemy import (
    Column,
    ColumnElement,
    Enum,
    Select,
    String,
    Text,
    and_,
    cast,
    false,
    func,
    literal,
    or_,
    select,
    true,
    tuple_,
)

from collabadmin.resources.query import Filter, ListQuery
from collabadmin.resources.resource import Resource

__all__ = [
    "COUNT_CAP",
    "build_after_row_select",
    "build_count_select",
    "build_page_select",
    "build_where",
]


def build_after_row_select(
    resource: Resource, query: ListQuery, scope: ColumnElement[bool] | None
) -> Select[Any]:
    """The sort values of the row a by-row cursor names (ListQuery.after_row).

    Within the reader's row scope: a forged cursor naming a row the reader
    may not see learns nothing of where that row sorts.
    """
    assert query.after_row is not None
    return select(*(resource.column(k.field) for k in query.sort)).where(
        resource.key_clause(query.after_row), true() if scope is None else scope
    )


_COMPARE: dict[str, Callable[[Any, Any], ColumnElement[bool]]] = {
    "lt": operator.lt,
    "lte": operator.le,
    "gt": operator.gt,
    "gte": operator.ge,
}


def _filter_clause(resource: Resource, flt: Filter) -> ColumnElement[bool]:
    column = resource.column(flt.field)
    value = flt.value
    match flt.op:
        case "eq":
            return column.is_(None) if value is None else column == value
        case "ne":
            return column.is_distinct_from(value)
        case "lt" | "lte" | "gt" | "gte":
            return _COMPARE[flt.op](column, value)
        case "in":
            return column.in_(value) if value else false()
        case "contains":
            return _as_text(column).contains(value, autoescape=True)
        case "icontains":
            return _as_text(column).icontains(value, autoescape=True)
        case "isnull":
            return column.is_(None) if value else column.is_not(None)
        case "has":
            return column.contains(cast([value], column.type))
        case "overlaps":
            return column.overlap(cast(value, column.type)) if value else false()
    raise AssertionError(flt.op)  # pragma: no cover - parse_list_query checks


def _as_text(column: Column[Any]) -> ColumnElement[Any]:
    """LIKE needs text: enums, domains, inet and tsvector are cast (citext keeps its own)."""
    sa_type = column.type
    if isinstance(sa_type, String) and not isinstance(sa_type, Enum):
        return column
    return cast(column, Text)


def _after_clause(resource: Resource, query: ListQuery) -> ColumnElement[bool]:
    """Rows strictly after the cursor in (sort keys..., NULLS LAST) order."""
    assert query.after is not None
    # Each bound value takes its column's type: a bare string would be sent
    # as varchar, which an enum (or inet) column cannot compare with.
    keys = [
        (key, None if value is None else literal(value, resource.column(key.field).type))
        for key, value in zip(query.sort, query.after, strict=True)
    ]
    # Without a key, rows may tie on every sort value: start at the cursor's
    # values (the page skips those already listed, ListQuery.skip).
    inclusive = not resource.pk
    nullable = any(resource.column(k.field).nullable for k, _ in keys)
    same_direction = len({k.descending for k, _ in keys}) == 1
    if not nullable and same_direction and not inclusive:
        columns = tuple_(*(resource.column(k.field) for k, _ in keys))
        bound = tuple_(*(v for _, v in keys))
        return columns < bound if keys[0][0].descending else columns > bound
    alternatives: list[ColumnElement[bool]] = []
    equal_so_far: list[ColumnElement[bool]] = []
    for key, value in keys:
        column = resource.column(key.field)
        if value is None:
            beyond: ColumnElement[bool] = false()
            equal: ColumnElement[bool] = column.is_(None)
        else:
            strictly = column < value if key.descending else column > value
            beyond = or_(strictly, column.is_(None)) if column.nullable else strictly
            equal = column == value
        alternatives.append(and_(*equal_so_far, beyond))
        equal_so_far.append(equal)
    if inclusive:
        alternatives.append(and_(*equal_so_far))
    return or_(*alternatives)


def build_where(
    resource: Resource, query: ListQuery, scope: ColumnElement[bool] | None
) -> list[ColumnElement[bool]]:
    clauses: list[ColumnElement[bool]] = []
    if resource.soft_delete:
        deleted_at = resource.column("deleted_at")
        if query.deleted == "exclude":
            clauses.append(deleted_at.is_(None))
        elif query.deleted == "only":
            clauses.append(deleted_at.is_not(None))
    if scope is not None:
        clauses.append(scope)
    clauses.extend(_filter_clause(resource, flt) for flt in query.filters)
    if query.q and query.search_in:
        clauses.append(
            or_(
                *(
                    _as_text(resource.column(name)).icontains(query.q, autoescape=True)
                    for name in query.search_in
                )
            )
        )
    elif query.q:
        clauses.append(false())
    return clauses


def build_page_select(
    resource: Resource, query: ListQuery, scope: ColumnElement[bool] | None
) -> Select[Any]:
    clauses = build_where(resource, query, scope)
    if query.after is not None:
        clauses.append(_after_clause(resource, query))
    order = []
    for key in query.sort:
        column = resource.column(key.field)
        ordered = column.desc() if key.descending else column.asc()
        if column.nullable:
            ordered = ordered.nulls_last()
        order.append(ordered)
    return (
        select(resource.table)
        .where(and_(true(), *clauses))
        .order_by(*order)
        .offset(query.skip or None)
        .limit(query.limit + 1)
    )


COUNT_CAP = 10_000


def build_count_select(
    resource: Resource, query: ListQuery, scope: ColumnElement[bool] | None
) -> Select[Any]:
    """Count matching rows, but stop at COUNT_CAP + 1 so big tables stay cheap."""
    inner = (
        select(true())
        .select_from(resource.table)
        .where(and_(true(), *build_where(resource, query, scope)))
        .limit(COUNT_CAP + 1)
        .subquery()
    )
    return select(func.count()).select_from(inner)
