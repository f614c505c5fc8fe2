"""Fields of a resource: their metadata and the coercion of JSON values.

A field's ``type`` is one of the JSON-facing types below; the database column
decides it when a resource is built from a table, and a declaration may
refine everything else (label, choices, pattern, read-only rules, validators).
"""

from __future__ import annotations

import datetime as dt
import decimal
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from sqlalchemy import Column

__all__ = [
    "FIELD_TYPES",
    "Field",
    "FieldType",
    "Relation",
    "Validator",
    "ValueInvalid",
    "coerce_value",
]

FieldType = Literal["string", "text", "integer", "number", "boolean", "date", "datetime", "json"]
FIELD_TYPES: tuple[FieldType, ...] = (
    "string",
    "text",
    "integer",
    "number",
    "boolean",
    "date",
    "datetime",
    "json",
)


class ValueInvalid(ValueError):
    """A value does not fit its field; the message is shown to the user."""


@dataclass(frozen=True, slots=True)
class ValidationContext:
    """What a custom validator may look at besides the value itself."""

    roles: frozenset[str]
    creating: bool
    current: Mapping[Any, Any] | None


Validator = Callable[[Any, ValidationContext], str | None]
"""A custom check: returns an error message, or None when the value is fine."""


@dataclass(frozen=True, slots=True)
class Relation:
    """A foreign key shown as a link to another resource."""

    resource: str
    display: str = "name"


@dataclass(slots=True)
class Field:
    """One exposed column of a resource."""

    name: str
    type: FieldType = "string"
    label: str = ""
    required: bool = False
    nullable: bool = True
    read_only: bool = False
    read_only_after_create: bool = False
    protected: bool = False  # may not be emptied once it has a value
    max_length: int | None = None
    pattern: str | None = None
    choices: tuple[str, ...] | None = None
    relation: Relation | None = None
    validators: tuple[Validator, ...] = ()
    has_default: bool = False
    # Human messages replacing the defaults, by check: required, max_length,
    # pattern, choices (e.g. "Lower-case letters and digits" for a regex).
    messages: Mapping[str, str] = field(default_factory=dict)
    column: Column[Any] | None = field(default=None, repr=False)
    _compiled: re.Pattern[str] | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if not self.label:
            self.label = self.name.replace("_", " ").capitalize()
        if self.pattern is not None:
            self._compiled = re.compile(self.pattern)

    def check(self, value: Any) -> Any:
        """Coerce a JSON value to the column's Python type, or raise ValueInvalid."""
        if value is None:
            if self.required or not self.nullable:
                raise ValueInvalid(self.messages.get("required", "This field is required."))
            return None
        converted = coerce_value(self.type, value)
        if isinstance(converted, str):
            if self.required and converted.strip() == "" and self.type in ("string", "text"):
                raise ValueInvalid(self.messages.get("required", "This field is required."))
            if self.max_length is not None and len(converted) > self.max_length:
                raise ValueInvalid(
                    self.messages.get("max_length", f"At most {self.max_length} characters.")
                )
            if self._compiled is not None and not self._compiled.fullmatch(converted):
                raise ValueInvalid(self.messages.get("pattern", f"Must match {self.pattern}."))
        if self.choices is not None and converted not in self.choices:
            raise ValueInvalid(
                self.messages.get("choices", "Must be one of: " + ", ".join(self.choices) + ".")
            )
        return converted


_INT_LIMIT = 2**63


def _integer(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueInvalid("Must be an integer.")
    if not -_INT_LIMIT <= value < _INT_LIMIT:
        raise ValueInvalid("Integer out of range.")
    return value


def _number(value: Any) -> decimal.Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueInvalid("Must be a number.")
    try:
        number = decimal.Decimal(str(value))
    except decimal.InvalidOperation as exc:
        raise ValueInvalid("Must be a number.") from exc
    if not number.is_finite():
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


def _datetime(value: Any) -> dt.datetime:
    if not isinstance(value, str):
        raise ValueInvalid("Must be a date-time (ISO 8601).")
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError as exc:
        raise ValueInvalid("Must be a date-time (ISO 8601).") from exc
    if parsed.tzinfo is None:
        raise ValueInvalid("Must include a time zone offset.")
    return parsed


def _json(value: Any) -> Any:
    return value


_COERCERS: dict[str, Callable[[Any], Any]] = {
    "string": _string,
    "text": _string,
    "integer": _integer,
    "number": _number,
    "boolean": _boolean,
    "date": _date,
    "datetime": _datetime,
    "json": _json,
}


def coerce_value(field_type: str, value: Any) -> Any:
    """Convert a decoded JSON value for a field of ``field_type``."""
    return _COERCERS[field_type](value)
