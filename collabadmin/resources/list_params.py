"""A record list's query string as a typed :class:`RecordListQuery`, parsed at the edge.

``GET /api/r/{resource}?sort=-title,id&filter[status]=open&q=...&limit=&cursor=&deleted=``.
The fixed parameters are typed parameters of :func:`record_list_query`, the
list's dependency (so the OpenAPI document lists them, and
:func:`collabadmin.web.strict_query` refuses repeated or unknown ones); the
``filter[field][op]`` keys are dynamic, read by :func:`filter_params` and
documented as the ``deepObject`` parameter ``filter`` (:data:`ListFilter`).
What can be checked without the resource is checked here (a 400 naming the
parameter): the filter keys' syntax, the page size, ``deleted``, the search
text's length. What depends on the resource and on what its reader may see
(field names, operators, operand types, the cursor's sort) is checked by
:func:`~collabadmin.resources.query.resolve_list_query`, which the service
calls with this struct. Services never see raw parameters.

:func:`parse_list_params` reads the same query from raw parameters, for the
callers that hold a query as text (a saved view's sort and filters).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Annotated, Literal

import msgspec
from litestar.params import FromQuery, QueryParameter, QueryParams

from collabadmin.context import Injected
from collabadmin.errors import BadRequest
from collabadmin.inputs import parse_limit, single_param
from collabadmin.settings import Settings

__all__ = [
    "Deleted",
    "FilterParam",
    "ListFilter",
    "Operator",
    "RecordListQuery",
    "SortParam",
    "filter_params",
    "list_filters",
    "page_size",
    "parse_list_params",
    "record_list_query",
    "search_text",
    "sort_params",
]

MAX_SEARCH = 200
_FILTER_KEY = re.compile(r"^filter\[([^\]\x00]{1,63})\](?:\[([a-z]+)\])?$")  # any column name
_KNOWN_PARAMS = frozenset({"sort", "q", "limit", "cursor", "deleted"})

Operator = Literal[
    "eq", "ne", "lt", "lte", "gt", "gte", "in", "contains", "icontains", "isnull", "has", "overlaps"
]  # fmt: skip
Deleted = Literal["exclude", "include", "only"]
_DELETED: dict[str, Deleted] = {"exclude": "exclude", "include": "include", "only": "only"}

ListFilter = dict[str, str | dict[Operator, str]]
"""The ``filter`` query object: ``filter[field]=value`` (``eq``), ``filter[field][op]=value``.

``in`` takes comma-separated values, ``isnull`` ``true`` or ``false``.
"""


class SortParam(msgspec.Struct, frozen=True):
    """One ``sort`` entry as written: a field name, ``-`` for descending."""

    field: str
    descending: bool = False


class FilterParam(msgspec.Struct, frozen=True):
    """One ``filter[field][op]`` parameter; ``key`` is the parameter as written (for a 400)."""

    key: str
    field: str
    op: str
    values: tuple[str, ...]


class RecordListQuery(msgspec.Struct, frozen=True, kw_only=True):
    """The list query of ``/api/r/{resource}`` before it meets the resource.

    ``sort`` None is the resource's default order; ``q`` is stripped and
    None when blank.
    """

    limit: int
    sort: tuple[SortParam, ...] | None = None
    filters: tuple[FilterParam, ...] = ()
    q: str | None = None
    cursor: str | None = None
    deleted: Deleted = "exclude"


def sort_params(raw: str | None) -> tuple[SortParam, ...] | None:
    """``sort`` as written (``-start_date,title``); None for the resource's default order."""
    if not raw:
        return None
    keys = []
    for part in raw.split(","):
        token = part.strip()
        keys.append(SortParam(token.lstrip("-+"), token.startswith("-")))
    return tuple(keys)


def filter_params(
    params: Mapping[str, Sequence[str]], known: frozenset[str] = _KNOWN_PARAMS
) -> tuple[FilterParam, ...]:
    """The ``filter[...]`` parameters among ``params``; any other name not ``known`` is a 400."""
    filters = []
    for key, values in params.items():
        if key in known:
            continue
        match = _FILTER_KEY.match(key)
        if match is None:
            raise BadRequest(f"Unknown query parameter {key!r}.", parameter=key)
        filters.append(FilterParam(key, match.group(1), match.group(2) or "eq", tuple(values)))
    return tuple(filters)


def search_text(q: str | None) -> str | None:
    """``q`` stripped, None when blank; 400 when longer than :data:`MAX_SEARCH`."""
    if q is None or not q.strip():
        return None
    if len(q) > MAX_SEARCH:
        raise BadRequest(
            f"Search text is too long ({MAX_SEARCH} characters at most).", parameter="q"
        )
    return q.strip()


def parse_list_params(
    params: Mapping[str, Sequence[str]], *, default_limit: int, max_limit: int
) -> RecordListQuery:
    """A query string (each name with all its values) as a :class:`RecordListQuery`, or 400."""

    def one(name: str) -> str | None:
        return single_param(params, name)

    filters = filter_params(params)
    raw_deleted = one("deleted")
    deleted = _DELETED.get("exclude" if raw_deleted is None else raw_deleted)
    if deleted is None:
        raise BadRequest("deleted must be exclude, include or only.", parameter="deleted")
    return RecordListQuery(
        limit=parse_limit(one("limit"), default_limit, max_limit),
        sort=sort_params(one("sort")),
        filters=filters,
        q=search_text(one("q")),
        cursor=one("cursor") or None,
        deleted=deleted,
    )


def page_size(limit: int | None, default: int, maximum: int) -> int:
    """A typed ``limit``: ``default`` when absent, else 1..maximum or a 400.

    Its digits were checked by :func:`~collabadmin.web.strict_query` before
    Litestar read it (``1e2`` is no page size).
    """
    if limit is None:
        return default
    if not 1 <= limit <= maximum:
        raise BadRequest(f"limit must be between 1 and {maximum}.", parameter="limit")
    return limit


SortText = Annotated[
    str | None,
    QueryParameter(
        name="sort",
        description="Fields to sort by, comma-separated; a leading - sorts descending.",
    ),
]
Limit = Annotated[int | None, QueryParameter(name="limit", ge=1, description="Page size.")]
SearchText = Annotated[
    str | None, QueryParameter(name="q", description="Text to search the resource's search fields.")
]


def list_filters(query: QueryParams) -> tuple[FilterParam, ...]:
    """A dependency: the query's ``filter[...]`` keys, each checked; 400 for a malformed one.

    Any other key the route does not declare was refused by
    :func:`~collabadmin.web.strict_query`.
    """
    params: dict[str, list[str]] = {}
    for key, value in query.multi_items():
        if key.startswith("filter["):
            params.setdefault(key, []).append(value)
    return filter_params(params, frozenset())


def record_list_query(
    query: QueryParams,
    *,
    settings: Injected[Settings],
    sort: SortText = None,
    q: SearchText = None,
    limit: Limit = None,
    cursor: FromQuery[str | None] = None,
    deleted: FromQuery[Deleted] = "exclude",
) -> RecordListQuery:
    """The list's dependency: its typed parameters and the ``filter[...]`` keys, as one query."""
    return RecordListQuery(
        limit=page_size(limit, settings.default_page_size, settings.max_page_size),
        sort=sort_params(sort),
        filters=list_filters(query),
        q=search_text(q),
        cursor=cursor or None,
        deleted=deleted,
    )
