"""A table view's configuration: columns, sort and filters, checked against the policy.

A view config is ``{"columns": [{"field", "width"?, "format"?}], "sort", "filters"}``.
Its shape is checked at the edge (a :class:`~collabadmin.prefs.types.ViewConfigRequest`:
types, unknown members, list lengths, widths); what it means for the
resource is checked here, every problem listed in one 422 named like the
edge names them (``columns.1.format``). It is *shaped* on the way out: a
config saved by someone who may read more fields than the current reader
(a shared view, or a user whose role changed) loses every column, sort key
and filter that names a field the reader may not read. A hidden field
therefore never appears in a prefs body, not even as a name, and a filter
value on it cannot leak what the field holds.

Sort and filters use the records API's own grammar and parser
(:func:`~collabadmin.resources.query.parse_list_query`), so a saved view is
exactly a list query the records API accepts; the frontend turns
``filters`` into ``filter[field][op]=value`` parameters unchanged.

Formats are display hints the frontend knows how to apply; the server keeps
the list closed so that a typo is a 422 rather than a silently plain column.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import msgspec

from collabadmin.errors import BadRequest, FieldError, ValidationFailed
from collabadmin.prefs.types import (
    MAX_COLUMNS,
    MAX_FILTERS,
    WIDTH_RANGE,
    ColumnChoice,
    ColumnPref,
    FilterChoice,
    FilterPref,
    FilterValue,
    ViewConfig,
    ViewConfigRequest,
)
from collabadmin.resources.fields import Field
from collabadmin.resources.query import OPERATORS, key_sort, parse_list_query
from collabadmin.resources.resource import Resource

__all__ = [
    "DATE_FORMATS",
    "MAX_COLUMNS",
    "MAX_FILTERS",
    "NUMBER_FORMATS",
    "default_config",
    "format_allowed",
    "parse_view_config",
    "shape_config",
]

MAX_VALUE_LENGTH = 2000
DATE_FORMATS = ("date:short", "date:medium", "date:long", "date:iso", "date:relative")
NUMBER_FORMATS = ("number:plain", "number:grouped", "number:fixed2", "number:percent")
_TRUNCATE = re.compile(r"^truncate:([1-9][0-9]{0,3})$")
_Item = TypeVar("_Item", ColumnPref, FilterPref)


def format_allowed(f: Field, fmt: str) -> str | None:
    """None if ``fmt`` suits field ``f``, else why not."""
    if fmt in DATE_FORMATS:
        return None if f.type in ("date", "datetime") else "Date formats suit date fields only."
    if fmt in NUMBER_FORMATS:
        numeric = ("integer", "decimal", "float")
        return None if f.type in numeric else "Number formats suit numbers only."
    match = _TRUNCATE.match(fmt)
    if match is not None:
        if f.type not in ("string", "text"):
            return "Truncation suits text fields only."
        return None if int(match.group(1)) <= 1000 else "Truncate to at most 1000 characters."
    if fmt == "badge":
        ok = f.choices is not None or f.type == "boolean"
        return None if ok else "Badges suit fields with choices (or yes/no) only."
    known = ", ".join((*DATE_FORMATS, *NUMBER_FORMATS, "truncate:N", "badge"))
    return f"Unknown format; use one of {known}."


def default_config(resource: Resource, readable: frozenset[str]) -> ViewConfig:
    """Every readable field in declaration order, the resource's default sort, no filters."""
    columns = [ColumnPref(field=name) for name in resource.fields if name in readable]
    sort = [s for s in resource.default_sort if s.lstrip("-") in readable]
    return ViewConfig(columns=columns, sort=",".join(sort), filters=[])


def _filter_text(value: FilterValue) -> str:
    """A filter value as the query-string text the records API parses."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    return str(value)


def _parse_columns(
    resource: Resource,
    readable: frozenset[str],
    chosen: list[ColumnChoice],
    errors: list[FieldError],
) -> list[dict[str, Any]]:
    columns: list[dict[str, Any]] = []
    seen: set[str] = set()
    for index, item in enumerate(chosen):
        where = f"columns.{index}"
        name = item.field
        # A hidden field gets the same answer as a field that does not exist.
        if name not in resource.fields or name not in readable:
            errors.append(FieldError(f"{where}.field", "Not a field of this resource."))
            continue
        if name in seen:
            errors.append(FieldError(f"{where}.field", "This field is already a column."))
            continue
        seen.add(name)
        column: dict[str, Any] = {"field": name}
        if item.width is not None:
            low, high = WIDTH_RANGE
            if not low <= item.width <= high:
                errors.append(FieldError(f"{where}.width", f"Pixels, {low} to {high}."))
            else:
                column["width"] = item.width
        if item.format is not None:
            problem = format_allowed(resource.fields[name], item.format)
            if problem is not None:
                errors.append(FieldError(f"{where}.format", problem))
            else:
                column["format"] = item.format
        columns.append(column)
    return columns


def _parse_filters(
    resource: Resource,
    readable: frozenset[str],
    chosen: list[FilterChoice],
    errors: list[FieldError],
) -> list[dict[str, str]]:
    filters: list[dict[str, str]] = []
    for index, item in enumerate(chosen):
        where = f"filters.{index}"
        name, op = item.field, item.op
        if name not in resource.fields or name not in readable:
            errors.append(FieldError(f"{where}.field", "Not a field of this resource."))
            continue
        if op not in OPERATORS:
            errors.append(FieldError(f"{where}.op", "Use one of " + ", ".join(OPERATORS) + "."))
            continue
        value = _filter_text(item.value)
        if len(value) > MAX_VALUE_LENGTH:
            errors.append(FieldError(f"{where}.value", f"At most {MAX_VALUE_LENGTH} characters."))
            continue
        # The records API's own parser decides whether value and operator fit the field.
        try:
            params = {"sort": [key_sort(resource, readable)], f"filter[{name}][{op}]": [value]}
            parse_list_query(resource, params, readable, default_limit=1, max_limit=1)
        except BadRequest as exc:
            errors.append(FieldError(f"{where}.value", exc.detail))
            continue
        filters.append({"field": name, "op": op, "value": value})
    return filters


def _parse_sort(
    resource: Resource, readable: frozenset[str], raw: str | None, errors: list[FieldError]
) -> str:
    if not raw:
        return ""
    if len(raw) > 500:
        errors.append(FieldError("sort", 'Like the records API\'s sort, e.g. "-start_date,title".'))
        return ""
    try:
        parse_list_query(resource, {"sort": [raw]}, readable, default_limit=1, max_limit=1)
    except BadRequest as exc:
        errors.append(FieldError("sort", exc.detail))
        return ""
    return ",".join(part.strip() for part in raw.split(","))


def parse_view_config(
    resource: Resource,
    readable: frozenset[str],
    body: ViewConfigRequest,
    errors: list[FieldError] | None = None,
) -> dict[str, Any]:
    """The normalised config of ``body``, or :class:`ValidationFailed` listing every problem.

    ``errors`` holds problems the caller found in members it reads itself
    (a shared view's ``name``); they are listed with these.
    """
    found = list(errors or ())
    config = {
        "columns": _parse_columns(resource, readable, body.columns, found),
        "sort": _parse_sort(resource, readable, body.sort, found),
        "filters": _parse_filters(resource, readable, body.filters or [], found),
    }
    if found:
        raise ValidationFailed(sorted(found, key=lambda e: e.field))
    return config


def _stored(items: Any, kind: type[_Item], visible: Callable[[str], bool]) -> list[_Item]:
    """The items of a stored list that are well-formed and name a visible field."""
    kept = []
    for item in items if isinstance(items, list) else ():
        try:
            value = msgspec.convert(item, kind)
        except msgspec.ValidationError:
            continue  # not written by this parser (by SQL, say): nothing to show
        if visible(value.field):
            kept.append(value)
    return kept


def shape_config(
    resource: Resource, readable: frozenset[str], stored: Mapping[str, Any]
) -> ViewConfig:
    """A stored config as ``readable`` may see it: hidden or vanished fields dropped.

    If no column survives, the reader gets the default columns instead of an
    empty table.
    """

    def visible(name: str) -> bool:
        return name in resource.fields and name in readable

    columns = _stored(stored.get("columns"), ColumnPref, visible)
    if not columns:
        columns = default_config(resource, readable).columns
    sort_keys = str(stored.get("sort") or "").split(",")
    sort = ",".join(k for k in sort_keys if k and visible(k.lstrip("-+")))
    filters = _stored(stored.get("filters"), FilterPref, visible)
    return ViewConfig(columns=columns, sort=sort, filters=filters)
