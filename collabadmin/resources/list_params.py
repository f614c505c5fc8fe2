"""A record list's query string as a typed :class:`RecordListQuery`, parsed at the edge.

``GET /api/r/{resource}?sort=-title,id&filter[status]=open&q=...&limit=&cursor=&deleted=``.
What can be checked without the resource is checked here (a 400 naming the
parameter): unknown or repeated parameters, the filter keys' syntax, the
page size, ``deleted``, the search text's length. What depends on the
resource and on what its reader may see (field names, operators, operand
types, the cursor's sort) is checked by
:func:`~collabadmin.resources.query.resolve_list_query`, which the service
calls with this struct. Services never see raw parameters.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Literal

import msgspec

from collabadmin.errors import BadRequest
from collabadmin.inputs import parse_limit, single_param

__all__ = ["FilterParam", "RecordListQuery", "SortParam", "parse_list_params"]

MAX_SEARCH = 200
_FILTER_KEY = re.compile(r"^filter\[([^\]\x00]{1,63})\](?:\[([a-z]+)\])?$")  # any column name
_KNOWN_PARAMS = frozenset({"sort", "q", "limit", "cursor", "deleted"})

Deleted = Literal["exclude", "include", "only"]
_DELETED: dict[str, Deleted] = {"exclude": "exclude", "include": "include", "only": "only"}


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


def _sort(raw: str | None) -> tuple[SortParam, ...] | None:
    if not raw:
        return None
    keys = []
    for part in raw.split(","):
        token = part.strip()
        keys.append(SortParam(token.lstrip("-+"), token.startswith("-")))
    return tuple(keys)


def parse_list_params(
    params: Mapping[str, Sequence[str]], *, default_limit: int, max_limit: int
) -> RecordListQuery:
    """A query string (each name with all its values) as a :class:`RecordListQuery`, or 400."""

    def one(name: str) -> str | None:
        return single_param(params, name)

    filters = []
    for key, values in params.items():
        if key in _KNOWN_PARAMS:
            continue
        match = _FILTER_KEY.match(key)
        if match is None:
            raise BadRequest(f"Unknown query parameter {key!r}.", parameter=key)
        filters.append(FilterParam(key, match.group(1), match.group(2) or "eq", tuple(values)))
    sort = _sort(one("sort"))
    q = one("q")
    if q is not None and q.strip() and len(q) > MAX_SEARCH:
        raise BadRequest(
            f"Search text is too long ({MAX_SEARCH} characters at most).", parameter="q"
        )
    limit = parse_limit(one("limit"), default_limit, max_limit)
    raw_deleted = one("deleted")
    deleted = _DELETED.get("exclude" if raw_deleted is None else raw_deleted)
    if deleted is None:
        raise BadRequest("deleted must be exclude, include or only.", parameter="deleted")
    return RecordListQuery(
        limit=limit,
        sort=sort,
        filters=tuple(filters),
        q=q.strip() if q is not None and q.strip() else None,
        cursor=one("cursor") or None,
        deleted=deleted,
    )
