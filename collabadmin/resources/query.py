"""List queries: filters, sort, search and keyset cursors, parsed.

``GET /api/r/{resource}?sort=-title,id&filter[status]=open&filter[start_date][gte]=...``
is parsed at the edge into a typed
:class:`~collabadmin.resources.list_params.RecordListQuery`, then resolved
here against the resource into a :class:`ListQuery`; anything unknown or
malformed is a :class:`~collabadmin.errors.BadRequest` (400), never a 500.
Its SQL is built by :mod:`~collabadmin.resources.listing`.

Pagination is keyset, not offset: the cursor holds the last row's sort key
values, so page N costs the same as page 1 and concurrent inserts never
shift rows between pages.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import msgspec

from collabadmin.errors import BadRequest
from collabadmin.inputs import ascii_int
from collabadmin.resources.fields import Field, ValueInvalid
from collabadmin.resources.list_params import (
    Operator,
    RecordListQuery,
    SortParam,
    parse_list_params,
)
from collabadmin.resources.resource import Resource

__all__ = [
    "OPERATORS",
    "Filter",
    "ListQuery",
    "Operator",
    "SortKey",
    "parse_list_query",
    "resolve_list_query",
]

OPERATORS: tuple[Operator, ...] = (
    "eq",
    "ne",
    "lt",
    "lte",
    "gt",
    "gte",
    "in",
    "contains",
    "icontains",
    "isnull",
    "has",
    "overlaps",
)
_TEXT_ONLY = {"contains", "icontains"}
_ORDERED: tuple[Operator, ...] = ("eq", "ne", "lt", "lte", "gt", "gte", "in", "isnull")
# Types with no ordering a keyset cursor could use (json has no "<" at all).
_UNSORTABLE = frozenset({"json", "binary", "array"})


def field_operators(f: Field) -> tuple[Operator, ...]:
    """The filter operators ``f`` supports (``FieldMeta.operators``); others are a 400."""
    if f.type in ("string", "text"):
        if f.format == "unsupported":
            return ("contains", "icontains", "isnull")
        return (*_ORDERED[:-1], "contains", "icontains", "isnull")
    if f.type in ("integer", "decimal", "float", "date", "time", "datetime", "duration"):
        return _ORDERED
    if f.type == "uuid":
        return ("eq", "ne", "in", "isnull")
    if f.type == "boolean":
        return ("eq", "ne", "isnull")
    if f.type == "array":
        return ("has", "overlaps", "isnull")
    return ("isnull",)


def sortable(f: Field) -> bool:
    return f.type not in _UNSORTABLE and f.format != "unsupported"


def text_search_fields(resource: Resource, readable: frozenset[str]) -> tuple[str, ...]:
    """What ``q=`` searches when no search fields are declared: readable text columns.

    Enums, addresses and unsupported types are left out (their text is not
    what a person types into a search box).
    """
    return tuple(
        name
        for name, f in resource.fields.items()
        if name in readable and f.type in ("string", "text") and f.format is None and not f.db_enum
    )


# Numbers in the query string: ASCII only (Decimal() would take "٣" or fullwidth digits).
_ASCII_NUMBER = re.compile(r"-?[0-9]{1,40}(?:\.[0-9]{1,40})?(?:[eE][-+]?[0-9]{1,3})?", re.ASCII)
MAX_IN_VALUES = 200


@dataclass(frozen=True, slots=True)
class SortKey:
    field: str
    descending: bool = False


@dataclass(frozen=True, slots=True)
class Filter:
    field: str
    op: Operator
    value: Any


@dataclass(slots=True)
class ListQuery:
    sort: list[SortKey]
    filters: list[Filter] = field(default_factory=list)
    q: str | None = None
    limit: int = 50
    after: list[Any] | None = None
    # Rows at exactly ``after`` already listed: only for a resource without a
    # key, whose pages start at (not after) the cursor's values and skip these.
    skip: int = 0
    after_values: list[Any] | None = None  # ``after`` as the cursor wrote it
    # A cursor too long to carry its sort values names the row they are read
    # from instead (its typed key); the service reads them before the page.
    after_row: tuple[Any, ...] | None = None
    deleted: Literal["exclude", "include", "only"] = "exclude"
    search_in: tuple[str, ...] = ()

    def sort_signature(self) -> str:
        return ",".join(("-" if k.descending else "") + k.field for k in self.sort)


def _parse_sort(
    resource: Resource, requested: Sequence[SortParam] | None, readable: frozenset[str]
) -> list[SortKey]:
    keys: list[SortKey] = []
    spec = requested or [SortParam(name) for name in resource.default_sort]
    for param in spec:
        name, descending = param.field, param.descending
        if name not in resource.fields or name not in readable:
            raise BadRequest(f"Cannot sort by unknown field {name!r}.", parameter="sort")
        if not sortable(resource.fields[name]):
            raise BadRequest(
                f"Cannot sort by {name!r}: {resource.fields[name].type} values have no order.",
                parameter="sort",
            )
        if any(k.field == name for k in keys):
            raise BadRequest(f"Field {name!r} appears twice in sort.", parameter="sort")
        keys.append(SortKey(name, descending))
    # A unique tie-breaker makes keyset paging exact: every key column (all of
    # a composite key). It runs in the first key's direction, so that an
    # index on (key, pk) serves a descending sort too (scanned backwards)
    # instead of a sort of the whole table. A resource with no key (a view)
    # breaks ties on every sortable field it shows this user: exact unless
    # two rows are identical in all of them, and those look the same anyway.
    tie_breakers = resource.pk or tuple(
        n for n, f in resource.fields.items() if n in readable and f.type != "json"
    )
    descending = keys[0].descending if keys else False
    for name in tie_breakers:
        if not any(k.field == name for k in keys):
            keys.append(SortKey(name, descending))
    return keys


def key_sort(resource: Resource, readable: frozenset[str]) -> str:
    """A ``sort`` that any reader of the resource may use: its key, else a field it reads."""
    names = (
        resource.pk
        or tuple(n for n, f in resource.fields.items() if n in readable and f.type != "json")[:1]
    )
    return ",".join(names)


def _filter_value(f: Field, op: Operator, raw: str) -> Any:
    if op == "isnull":
        if raw not in ("true", "false"):
            raise ValueInvalid("isnull takes true or false.")
        return raw == "true"
    if op in _TEXT_ONLY:
        if "\x00" in raw:
            raise ValueInvalid("Must not contain NUL characters.")
        return raw
    if op == "overlaps":
        parts = raw.split(",") if raw else []
        if len(parts) > MAX_IN_VALUES:
            raise ValueInvalid(f"overlaps takes at most {MAX_IN_VALUES} values.")
        return [_scalar(f, p) for p in parts]
    if op == "in":
        parts = raw.split(",") if raw else []
        if len(parts) > MAX_IN_VALUES:
            raise ValueInvalid(f"in takes at most {MAX_IN_VALUES} values.")
        return [_scalar(f, p) for p in parts]
    return _scalar(f, raw)


def _scalar(f: Field, raw: str) -> Any:
    """One operand (an array's element for has/overlaps) from query-string text."""
    kind = f.element
    if kind in ("json", "binary"):
        raise ValueInvalid(f"{f.type} fields cannot be compared.")
    if kind == "integer":
        number = ascii_int(raw, max_digits=19, signed=True)
        if number is None:
            raise ValueInvalid("Must be an integer.")
        return f.scalar(number)
    if kind in ("decimal", "float"):
        if not _ASCII_NUMBER.fullmatch(raw):
            raise ValueInvalid("Must be a number.")
        return f.scalar(raw if kind == "decimal" else float(raw))
    if kind == "boolean":
        if raw not in ("true", "false"):
            raise ValueInvalid("Must be true or false.")
        return raw == "true"
    value = f.scalar(raw)
    if f.db_enum and f.choices is not None and value not in f.choices:
        # The database would reject a label its enum does not have.
        raise ValueInvalid("Must be one of: " + ", ".join(f.choices) + ".")
    return value


def parse_list_query(
    resource: Resource,
    params: Mapping[str, Sequence[str]],
    readable: frozenset[str],
    *,
    default_limit: int,
    max_limit: int,
) -> ListQuery:
    """A query string (each name mapped to all its values) resolved for ``resource``."""
    parsed = parse_list_params(params, default_limit=default_limit, max_limit=max_limit)
    return resolve_list_query(resource, parsed, readable)


def resolve_list_query(
    resource: Resource, params: RecordListQuery, readable: frozenset[str]
) -> ListQuery:
    """The list query of ``params`` over ``resource`` for a reader of ``readable``, or 400.

    A field the reader may not read is refused exactly like one that does
    not exist, so a 400 never reveals it.
    """
    query = ListQuery(sort=_parse_sort(resource, params.sort, readable))
    for param in params.filters:
        key, name, op = param.key, param.field, param.op
        if name not in resource.fields or name not in readable:
            raise BadRequest(f"Cannot filter by unknown field {name!r}.", parameter=key)
        if op not in OPERATORS:
            raise BadRequest(
                f"Unknown filter operator {op!r}; use one of {', '.join(OPERATORS)}.",
                parameter=key,
            )
        supported = field_operators(resource.fields[name])
        if op not in supported:
            raise BadRequest(
                f"{name!r} cannot be filtered with {op!r}; use one of {', '.join(supported)}.",
                parameter=key,
            )
        for raw in param.values:
            try:
                value = _filter_value(resource.fields[name], op, raw)
            except ValueInvalid as exc:
                raise BadRequest(f"Bad value for {key}: {exc}", parameter=key) from None
            query.filters.append(Filter(name, op, value))
    if params.q is not None:
        query.q = params.q
        query.search_in = resource.search_fields or text_search_fields(resource, readable)
    query.limit = params.limit
    if not resource.soft_delete and params.deleted != "exclude":
        raise BadRequest(f"{resource.name} has no soft delete.", parameter="deleted")
    query.deleted = params.deleted
    if params.cursor:
        after, query.skip = decode_cursor(resource, query, params.cursor)
        if query.after_row is None:
            query.after = after
            query.after_values = _cursor_of(params.cursor).values
    return query


# -- cursors -----------------------------------------------------------------


class _Cursor(msgspec.Struct, array_like=True):
    sort: str
    values: list[Any]
    skip: int = 0
    key: str | None = None  # the last row's key text, instead of long ``values``


# Sort values longer than this (a long text sorted on) would make a cursor
# that no URL can carry: such a cursor names the page's last row by its key
# instead, and the next page reads the sort values from that row.
MAX_CURSOR_VALUES = 1024
MAX_CURSOR = 4096


def encode_cursor(query: ListQuery, rows: Sequence[Mapping[str, Any]], resource: Resource) -> str:
    """The cursor after the last of ``rows`` (a non-empty page).

    With a key the sort values are unique and the next page starts strictly
    after them. Without one (a view), several rows may share every value,
    so the cursor also counts how many of those this and earlier pages
    already listed, and the next page starts at the values and skips them.
    """

    def values_of(row: Mapping[str, Any]) -> list[Any]:
        # Each value in its field's JSON form, which _scalar reads back exactly.
        return [resource.fields[k.field].json(row[k.field]) for k in query.sort]

    values = values_of(rows[-1])
    skip = 0
    if not resource.pk:
        same = 0
        for row in reversed(rows):
            if values_of(row) != values:
                break
            same += 1
        earlier = query.skip if query.after_values == values and same == len(rows) else 0
        skip = earlier + same
    raw = msgspec.json.encode(_Cursor(query.sort_signature(), values, skip))
    if len(raw) > MAX_CURSOR_VALUES and resource.pk:
        key = resource.key_of(rows[-1])
        raw = msgspec.json.encode(_Cursor(query.sort_signature(), [], 0, key))
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _cursor_of(token: str) -> _Cursor:
    bad = BadRequest("The cursor is not valid for this list.", parameter="cursor")
    if len(token) > MAX_CURSOR:
        raise bad
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        return msgspec.json.decode(raw, type=_Cursor)
    except (binascii.Error, ValueError, msgspec.DecodeError):
        raise bad from None


def decode_cursor(resource: Resource, query: ListQuery, token: str) -> tuple[list[Any], int]:
    bad = BadRequest("The cursor is not valid for this list.", parameter="cursor")
    cursor = _cursor_of(token)
    if cursor.sort != query.sort_signature():
        raise bad
    if cursor.key is not None:
        # A cursor by row: the values are read from that row (ListQuery.after_row).
        row = resource.pk_values(cursor.key) if resource.pk else None
        if row is None or cursor.values or cursor.skip:
            raise bad
        query.after_row = row
        return [], 0
    if len(cursor.values) != len(query.sort):
        raise bad
    if cursor.skip < 0 or (cursor.skip and resource.pk):
        raise bad
    values: list[Any] = []
    for key, value in zip(query.sort, cursor.values, strict=True):
        f = resource.fields[key.field]
        if value is None:
            values.append(None)
            continue
        try:
            values.append(_scalar(f, value if isinstance(value, str) else str(value).lower()))
        except ValueInvalid:
            raise bad from None
    return values, cursor.skip
