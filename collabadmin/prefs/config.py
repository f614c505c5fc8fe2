"""A table view's configuration: columns, sort and filters, checked against the policy.

A view config is ``{"columns": [{"field", "width"?, "format"?}], "sort", "filters"}``.
It is validated strictly on the way in (every problem listed in one 422) and
*shaped* on the way out: a config saved by someone who may read more fields
than the current reader (a shared view, or a user whose role changed) loses
every column, sort key and filter that names a field the reader may not
read. A hidden field therefore never appears in a prefs body, not even as a
name, and a filter value on it cannot leak what the field holds.

Sort and filters use the records API's own grammar and parser
(:func:`~collabadmin.resources.query.parse_list_query`), so a saved view is
exactly a list query the records API accepts; the frontend turns
``filters`` into ``filter[field][op]=value`` parameters unchanged.

Formats are display hints the frontend knows how to apply; the server keeps
the list closed so that a typo is a 422 rather than a silently plain column.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from collabadmin.errors import BadRequest, FieldError, ValidationFailed
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

MAX_COLUMNS = 60
MAX_FILTERS = 40
MAX_VALUE_LENGTH = 2000
WIDTH_RANGE = (40, 1200)
DATE_FORMATS = ("date:short", "date:medium", "date:long", "date:iso", "date:relative")
NUMBER_FORMATS = ("number:plain", "number:grouped", "number:fixed2", "number:percent")
_TRUNCATE = re.compile(r"^truncate:([1-9][0-9]{0,3})$")
_CONFIG_KEYS = frozenset({"columns", "sort", "filters"})
_COLUMN_KEYS = frozenset({"field", "width", "format"})
_FILTER_KEYS = frozenset({"field", "op", "value"})


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


def default_config(resource: Resource, readable: frozenset[str]) -> dict[str, Any]:
    """Every readable field in declaration order, the resource's default sort, no filters."""
    columns = [{"field": name} for name in resource.fields if name in readable]
    sort = [s for s in resource.default_sort if s.lstrip("-") in readable]
    return {"columns": columns, "sort": ",".join(sort), "filters": []}


def _filter_text(value: Any) -> str | None:
    """A filter value as the query-string text the records API parses."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(v, str | int | float) for v in value):
        return ",".join(str(v) for v in value)
    return None


def _parse_columns(
    resource: Resource, readable: frozenset[str], raw: Any, errors: list[FieldError]
) -> list[dict[str, Any]]:
    if not isinstance(raw, list) or not raw:
        errors.append(FieldError("columns", "A non-empty list of columns."))
        return []
    if len(raw) > MAX_COLUMNS:
        errors.append(FieldError("columns", f"At most {MAX_COLUMNS} columns."))
        return []
    columns: list[dict[str, Any]] = []
    seen: set[str] = set()
    for index, item in enumerate(raw):
        where = f"columns[{index}]"
        if not isinstance(item, dict):
            errors.append(FieldError(where, 'An object like {"field": "title"}.'))
            continue
        errors.extend(
            FieldError(f"{where}.{k}", "Unknown key.") for k in sorted(set(item) - _COLUMN_KEYS)
        )
        name = item.get("field")
        # A hidden field gets the same answer as a field that does not exist.
        if not isinstance(name, str) or name not in resource.fields or name not in readable:
            errors.append(FieldError(f"{where}.field", "Not a field of this resource."))
            continue
        if name in seen:
            errors.append(FieldError(f"{where}.field", "This field is already a column."))
            continue
        seen.add(name)
        column: dict[str, Any] = {"field": name}
        width = item.get("width")
        if width is not None:
            low, high = WIDTH_RANGE
            if isinstance(width, bool) or not isinstance(width, int) or not low <= width <= high:
                errors.append(FieldError(f"{where}.width", f"Pixels, {low} to {high}."))
            else:
                column["width"] = width
        fmt = item.get("format")
        if fmt is not None:
            problem = format_allowed(resource.fields[name], fmt) if isinstance(fmt, str) else None
            if not isinstance(fmt, str):
                errors.append(FieldError(f"{where}.format", "A format name."))
            elif problem is not None:
                errors.append(FieldError(f"{where}.format", problem))
            else:
                column["format"] = fmt
        columns.append(column)
    return columns


def _parse_filters(
    resource: Resource, readable: frozenset[str], raw: Any, errors: list[FieldError]
) -> list[dict[str, str]]:
    if raw is None:
        return []
    if not isinstance(raw, list) or len(raw) > MAX_FILTERS:
        errors.append(FieldError("filters", f"A list of at most {MAX_FILTERS} filters."))
        return []
    filters: list[dict[str, str]] = []
    for index, item in enumerate(raw):
        where = f"filters[{index}]"
        if not isinstance(item, dict):
            errors.append(FieldError(where, 'An object like {"field", "op", "value"}.'))
            continue
        errors.extend(
            FieldError(f"{where}.{k}", "Unknown key.") for k in sorted(set(item) - _FILTER_KEYS)
        )
        name, op = item.get("field"), item.get("op", "eq")
        if not isinstance(name, str) or name not in resource.fields or name not in readable:
            errors.append(FieldError(f"{where}.field", "Not a field of this resource."))
            continue
        if op not in OPERATORS:
            errors.append(FieldError(f"{where}.op", "Use one of " + ", ".join(OPERATORS) + "."))
            continue
        value = _filter_text(item.get("value"))
        if value is None or len(value) > MAX_VALUE_LENGTH:
            errors.append(FieldError(f"{where}.value", "A string, number, boolean or list."))
            continue
        # The records API's own parser decides whether value and operator fit the field.
        try:
            params = {"sort": [key_sort(resource, readable)], f"filter[{name}][{op}]": [value]}
            parse_list_query(resource, params, readable, default_limit=1, max_limit=1)
        except BadRequest as exc:
            errors.append(FieldError(f"{where}.value", exc.detail))
            continue
        filters.append({"field": name, "op": str(op), "value": value})
    return filters


def _parse_sort(
    resource: Resource, readable: frozenset[str], raw: Any, errors: list[FieldError]
) -> str:
    if raw is None or raw == "":
        return ""
    if not isinstance(raw, str) or len(raw) > 500:
        errors.append(FieldError("sort", 'Like the records API\'s sort, e.g. "-start_date,title".'))
        return ""
    try:
        parse_list_query(resource, {"sort": [raw]}, readable, default_limit=1, max_limit=1)
    except BadRequest as exc:
        errors.append(FieldError("sort", exc.detail))
        return ""
    return ",".join(part.strip() for part in raw.split(","))


def parse_view_config(
    resource: Resource, readable: frozenset[str], body: Mapping[str, Any], *, extra: frozenset[str]
) -> dict[str, Any]:
    """The normalised config in ``body``, or :class:`ValidationFailed` listing every problem.

    ``extra`` names further keys the caller reads itself (a shared view's ``name``).
    """
    errors: list[FieldError] = [
        FieldError(k, "Unknown key.") for k in sorted(set(body) - _CONFIG_KEYS - extra)
    ]
    config = {
        "columns": _parse_columns(resource, readable, body.get("columns"), errors),
        "sort": _parse_sort(resource, readable, body.get("sort"), errors),
        "filters": _parse_filters(resource, readable, body.get("filters"), errors),
    }
    if errors:
        raise ValidationFailed(errors)
    return config


def shape_config(
    resource: Resource, readable: frozenset[str], stored: Mapping[str, Any]
) -> dict[str, Any]:
    """A stored config as ``readable`` may see it: hidden or vanished fields dropped.

    If no column survives, the reader gets the default columns instead of an
    empty table.
    """

    def visible(name: Any) -> bool:
        return isinstance(name, str) and name in resource.fields and name in readable

    columns = [
        {k: v for k, v in c.items() if k in _COLUMN_KEYS}
        for c in stored.get("columns") or []
        if isinstance(c, dict) and visible(c.get("field"))
    ]
    if not columns:
        columns = default_config(resource, readable)["columns"]
    sort_keys = str(stored.get("sort") or "").split(",")
    sort = ",".join(k for k in sort_keys if k and visible(k.lstrip("-+")))
    filters = [
        {k: v for k, v in f.items() if k in _FILTER_KEYS}
        for f in stored.get("filters") or []
        if isinstance(f, dict) and visible(f.get("field"))
    ]
    return {"columns": columns, "sort": sort, "filters": filters}
