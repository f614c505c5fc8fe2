"""Field values between their JSON form and the Python values psycopg reads and writes.

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
numeric as a JSON number read exactly by :func:`exact_json_loads`).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import decimal
import ipaddress
import math
import re
import uuid
from collections.abc import Callable
from typing import Any

import msgspec

from collabadmin.db.json import exact_json_loads

__all__ = [
    "ValueInvalid",
    "coerce_value",
    "exact_json_loads",
    "format_duration",
    "json_value",
    "parse_duration",
]


class ValueInvalid(ValueError):
    """A value does not fit its field; the message is shown to the user."""


# -- durations -----------------------------------------------------------------

_NUM = r"([-+]?[0-9]{1,12}(?:[.,][0-9]{1,9})?)"
_ISO_DURATION = re.compile(
    rf"([-+])?P(?:{_NUM}Y)?(?:{_NUM}M)?(?:{_NUM}W)?(?:{_NUM}D)?"
    rf"(?:T(?:{_NUM}H)?(?:{_NUM}M)?(?:{_NUM}S)?)?",
    re.ASCII,
)
# PostgreSQL's default IntervalStyle: "1 year 2 mons -3 days +04:05:06.5".
_PG_UNIT = re.compile(
    r"([-+]?[0-9]+) (years?|mons?|days?)|([-+])?([0-9]+):([0-9]{2}):([0-9]{2}(?:\.[0-9]+)?)",
    re.ASCII,
)
_UNIT_DAYS = {"year": 365, "mon": 30, "day": 1}
_MAX_DAYS = 999_999_999


def _number(text: str | None) -> decimal.Decimal:
    return decimal.Decimal(text.replace(",", ".")) if text else decimal.Decimal(0)


def parse_duration(text: str) -> dt.timedelta:
    """An ISO 8601 duration (``P1Y2M3W4DT5H6M7.5S``, ``-PT30M``) as a timedelta."""
    match = _ISO_DURATION.fullmatch(text.strip())
    if match is None or text.strip() in ("P", "PT", "-P", "+P") or text.strip().endswith("T"):
        raise ValueInvalid("Must be an ISO 8601 duration, such as P1DT2H30M.")
    sign, years, months, weeks, days, hours, minutes, seconds = match.groups()
    total_days = _number(years) * 365 + _number(months) * 30 + _number(weeks) * 7 + _number(days)
    total_seconds = _number(hours) * 3600 + _number(minutes) * 60 + _number(seconds)
    total = total_days * 86400 + total_seconds
    if sign == "-":
        total = -total
    if abs(total) > _MAX_DAYS * 86400:
        raise ValueInvalid("Duration out of range.")
    whole = int(total)
    micro = int(((total - whole) * 1_000_000).to_integral_value())
    return dt.timedelta(seconds=whole, microseconds=micro)


def format_duration(value: dt.timedelta) -> str:
    """A timedelta as an ISO 8601 duration: ``P3DT4H5M6.5S``, ``-PT30M``, ``PT0S``."""
    sign = "-" if value < dt.timedelta(0) else ""
    value = abs(value)
    out = f"{sign}P"
    if value.days:
        out += f"{value.days}D"
    hours, rest = divmod(value.seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    clock = ""
    if hours:
        clock += f"{hours}H"
    if minutes:
        clock += f"{minutes}M"
    if seconds or value.microseconds:
        fraction = f".{value.microseconds:06d}".rstrip("0") if value.microseconds else ""
        clock += f"{seconds}{fraction}S"
    if clock:
        out += "T" + clock
    return out if out not in ("P", "-P") else "PT0S"


def _pg_interval(text: str) -> dt.timedelta:
    """An interval as ``to_jsonb`` writes it in the postgres or iso_8601 IntervalStyle."""
    if text.startswith(("P", "-P", "+P")):
        return parse_duration(text)
    total = dt.timedelta(0)
    position = 0
    for match in _PG_UNIT.finditer(text):
        if text[position : match.start()].strip():
            raise ValueInvalid("unreadable interval")
        position = match.end()
        count, unit, clock_sign, hours, minutes, seconds = match.groups()
        if unit is not None:
            total += dt.timedelta(days=int(count) * _UNIT_DAYS[unit.rstrip("s")])
        else:
            clock = dt.timedelta(
                hours=int(hours), minutes=int(minutes), seconds=float(decimal.Decimal(seconds))
            )
            total += -clock if clock_sign == "-" else clock
    if text[position:].strip() or position == 0:
        raise ValueInvalid("unreadable interval")
    return total


# -- coercion: JSON in -> Python for psycopg ------------------------------------

_INT_LIMIT = 2**63


def _integer(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueInvalid("Must be an integer.")
    if not -_INT_LIMIT <= value < _INT_LIMIT:
        raise ValueInvalid("Integer out of range.")
    return value


def _decimal(value: Any) -> decimal.Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | str | decimal.Decimal):
        raise ValueInvalid('Must be a decimal number (a string such as "12.50", or a number).')
    text = str(value).strip()
    if text in _SPECIAL:
        return decimal.Decimal(text)  # numeric holds them too (PostgreSQL 14+)
    if not _DECIMAL_TEXT.fullmatch(text):
        raise ValueInvalid('Must be a decimal number, such as "12.50".')
    return decimal.Decimal(text)


_DECIMAL_TEXT = re.compile(
    r"[-+]?(?:[0-9]{1,1000}(?:\.[0-9]{0,1000})?|\.[0-9]{1,1000})(?:[eE][-+]?[0-9]{1,3})?", re.ASCII
)


# JSON has no NaN or infinities: they travel as these strings, both ways.
_SPECIAL = ("NaN", "Infinity", "-Infinity")


def _float(value: Any) -> float:
    if isinstance(value, str) and value in _SPECIAL:
        return float(value.replace("Infinity", "inf"))
    if isinstance(value, bool) or not isinstance(value, int | float | decimal.Decimal):
        raise ValueInvalid("Must be a number.")
    number = float(value)
    if not math.isfinite(number):
        raise ValueInvalid("Must be a finite number.")
    return number


def _string(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueInvalid("Must be a string.")
    if "\x00" in value:
        raise ValueInvalid("Must not contain NUL characters.")
    return value


def _boolean(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueInvalid("Must be true or false.")
    return value


def _date(value: Any) -> dt.date:
    if not isinstance(value, str):
        raise ValueInvalid("Must be a date (YYYY-MM-DD).")
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise ValueInvalid("Must be a date (YYYY-MM-DD).") from exc


def _time(value: Any) -> dt.time:
    if not isinstance(value, str):
        raise ValueInvalid("Must be a time (HH:MM or HH:MM:SS).")
    try:
        return dt.time.fromisoformat(value)
    except ValueError as exc:
        raise ValueInvalid("Must be a time (HH:MM or HH:MM:SS).") from exc


def _parse_datetime(value: Any) -> dt.datetime:
    if not isinstance(value, str) or len(value) > 64:
        raise ValueInvalid("Must be a date-time (ISO 8601).")
    try:
        return dt.datetime.fromisoformat(value)
    except ValueError as exc:
        raise ValueInvalid("Must be a date-time (ISO 8601).") from exc


def _datetime(value: Any) -> dt.datetime:
    parsed = _parse_datetime(value)
    if parsed.tzinfo is None:
        raise ValueInvalid("Must include a time zone offset.")
    return parsed


def _local_datetime(value: Any) -> dt.datetime:
    parsed = _parse_datetime(value)
    if parsed.tzinfo is not None:
        raise ValueInvalid("Must not include a time zone offset (this column holds local time).")
    return parsed


def _duration(value: Any) -> dt.timedelta:
    if not isinstance(value, str) or len(value) > 100:
        raise ValueInvalid("Must be an ISO 8601 duration, such as P1DT2H30M.")
    return parse_duration(value)


def _uuid(value: Any) -> uuid.UUID:
    if not isinstance(value, str) or len(value) > 64:
        raise ValueInvalid("Must be a UUID.")
    try:
        return uuid.UUID(value)
    except ValueError as exc:
        raise ValueInvalid("Must be a UUID.") from exc


def _binary(value: Any) -> bytes:
    if not isinstance(value, str):
        raise ValueInvalid("Must be base64 text.")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueInvalid("Must be base64 text.") from exc


def _json(value: Any) -> Any:
    return value


_COERCERS: dict[str, Callable[[Any], Any]] = {
    "string": _string,
    "text": _string,
    "integer": _integer,
    "decimal": _decimal,
    "float": _float,
    "boolean": _boolean,
    "date": _date,
    "time": _time,
    "datetime": _datetime,
    "local_datetime": _local_datetime,
    "duration": _duration,
    "uuid": _uuid,
    "json": _json,
    "binary": _binary,
}


def coerce_value(field_type: str, value: Any) -> Any:
    """Convert a decoded JSON value for a (scalar) field of ``field_type``."""
    return _COERCERS[field_type](value)


def coerce_format(fmt: str | None, value: str) -> Any:
    """Check a string of a special column type; returns what psycopg should send."""
    try:
        if fmt == "inet":
            if "/" in value:
                return ipaddress.ip_interface(value)
            return ipaddress.ip_address(value)
        if fmt == "cidr":
            return ipaddress.ip_network(value, strict=True)
    except ValueError as exc:
        kind = "an IP address" if fmt == "inet" else "a network (such as 10.0.0.0/8)"
        raise ValueInvalid(f"Must be {kind}.") from exc
    return value


# -- JSON form out ---------------------------------------------------------------


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
            value = _pg_interval(value)
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
