"""Field values in their JSON form, from the Python values psycopg reads or a change-log diff.

Each field type has one JSON form, the same in every body (records, lists,
409/412 ``current`` and ``conflicts``, history and websocket diffs):

* ``decimal``: a string holding the exact value (``"12.50"``), never a
  float; accepted as a string or a number.
* ``float``: a JSON number; NaN and the infinities (which JSON lacks) as
  the strings ``"NaN"``, ``"Infinity"``, ``"-Infinity"``, as PostgreSQL
  writes them (``numeric`` holds them too).
* ``binary``: base64 (RFC 4648, padded) in both directions.
* ``duration``: an ISO 8601 duration (``"P1DT2H30M"``); read as days and
  seconds, since PostgreSQL's months and years have no fixed length
  (psycopg counts a month as 30 days and a year as 365).
* ``datetime``: ISO 8601; with the offset normalised to UTC for
  ``timestamptz``, without an offset for ``timestamp`` (local time, as
  stored).
* ``time``, ``date``, ``uuid``: ISO text.
* ``array``: a JSON array of the element type's forms.

:func:`json_value` turns either source into that form: a value psycopg read
from a row, or a value from the change log's diff (``to_jsonb`` of the row,
so bytea as ``\\x`` hex, intervals in the writer's ``IntervalStyle``,
numeric as a JSON number read exactly by
:func:`~collabadmin.db.json.exact_json_loads`).
"""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import math
from typing import Any

import msgspec

from collabadmin.resources.values import ValueInvalid, format_duration, pg_interval

__all__ = ["json_value", "scalar_json_value"]


def _decimal_text(value: Any) -> str:
    if isinstance(value, float):
        value = decimal.Decimal(repr(value))
    elif not isinstance(value, decimal.Decimal):
        value = decimal.Decimal(str(value))
    return format(value, "f")


def _json_tree(value: Any) -> Any:
    """json/jsonb content with exact-read decimals back as plain JSON numbers."""
    if isinstance(value, decimal.Decimal):
        integral = value == value.to_integral_value() and "." not in str(value)
        return int(value) if integral else float(value)
    if isinstance(value, dict):
        return {k: _json_tree(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_tree(v) for v in value]
    return value


def _datetime_form(value: Any, *, aware: bool) -> Any:
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value)
        except ValueError:
            return value
    if isinstance(value, dt.datetime):
        if aware and value.tzinfo is not None:
            value = value.astimezone(dt.UTC)
        return msgspec.to_builtins(value)
    return value


def _binary_form(value: Any) -> Any:
    if isinstance(value, str) and value.startswith("\\x"):
        try:
            value = bytes.fromhex(value[2:])
        except ValueError:
            return value
    if isinstance(value, bytes | bytearray | memoryview):
        return base64.b64encode(bytes(value)).decode("ascii")
    return value


def _duration_form(value: Any) -> Any:
    if isinstance(value, str):
        try:
            value = pg_interval(value)
        except ValueInvalid:
            return value
    if isinstance(value, dt.timedelta):
        return format_duration(value)
    return value


def _time_form(value: Any) -> Any:
    if isinstance(value, str):
        try:
            value = dt.time.fromisoformat(value)
        except ValueError:
            return value
    if isinstance(value, dt.time):
        return value.isoformat()
    return value


def scalar_json_value(field_type: str, value: Any, *, aware: bool = True) -> Any:
    """The JSON form of one non-null scalar value of ``field_type``."""
    match field_type:
        case "decimal":
            if isinstance(value, decimal.Decimal | int | float) and not isinstance(value, bool):
                return _decimal_text(value)
            return value
        case "float":
            if isinstance(value, decimal.Decimal | int) and not isinstance(value, bool):
                value = float(value)
            if isinstance(value, float) and not math.isfinite(value):
                return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
            return value
        case "binary":
            return _binary_form(value)
        case "duration":
            return _duration_form(value)
        case "time":
            return _time_form(value)
        case "datetime":
            return _datetime_form(value, aware=aware)
        case "json":
            return _json_tree(value)
        case "string" | "text" | "uuid":
            return value if isinstance(value, str) else str(value)
    return msgspec.to_builtins(value)


def json_value(field_type: str, value: Any, *, items: str | None = None, aware: bool = True) -> Any:
    """The JSON form of a field's value, read from a row or from a change-log diff."""
    if value is None:
        return None
    if field_type == "array":
        if not isinstance(value, list):
            return value
        element = items or "string"
        return [None if v is None else scalar_json_value(element, v, aware=aware) for v in value]
    return scalar_json_value(field_type, value, aware=aware)
