"""Field values in: a body's JSON value as the Python value psycopg writes, and durations.

:func:`coerce_value` reads one value of a field type from its JSON form (the
forms :mod:`collabadmin.resources.json_forms` writes: a decimal as a string,
binary as base64, a duration in ISO 8601, ...), refusing what does not fit
with :class:`ValueInvalid`, whose message is shown to the user.
:func:`parse_duration` and :func:`format_duration` read and write ISO 8601
durations (days and seconds: PostgreSQL's months and years have no fixed
length, so psycopg counts a month as 30 days and a year as 365).
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

from collabadmin.db.json import exact_json_loads

__all__ = [
    "ValueInvalid",
    "coerce_format",
    "coerce_value",
    "exact_json_loads",
    "format_duration",
    "parse_duration",
    "pg_interval",
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


def pg_interval(text: str) -> dt.timedelta:
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
