"""Fields of a resource: their metadata and the coercion of JSON values.

A field's ``type`` is one of the JSON-facing types below; the database column
decides it when a resource is built from a table, and a declaration may
refine everything else (label, choices, pattern, read-only rules, validators).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

from sqlalchemy import Column

from collabadmin.resources.json_forms import json_value
from collabadmin.resources.values import ValueInvalid, coerce_format, coerce_value

__all__ = [
    "FIELD_TYPES",
    "Field",
    "FieldType",
    "Relation",
    "Validator",
    "ValueInvalid",
    "coerce_value",
]

FieldType = Literal[
    "string",
    "text",
    "integer",
    "decimal",
    "float",
    "boolean",
    "date",
    "time",
    "datetime",
    "duration",
    "uuid",
    "json",
    "binary",
    "array",
]
FIELD_TYPES: tuple[FieldType, ...] = get_args(FieldType)
TEXT_TYPES = frozenset({"string", "text"})
# What a value that does not match a field's pattern is told when the
# declaration gives no message of its own (``messages["pattern"]``).
PATTERN_MESSAGE = "This is not in the expected format."


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
    """A foreign key shown as a link to another resource.

    ``display``: the target's field shown for the linked record; empty (or
    not a field of the target): the target's own display field, resolved
    by the registry.
    """

    resource: str
    display: str = ""


@dataclass(slots=True)
class Field:
    """One exposed column of a resource.

    ``items`` is the element type of an ``array``; ``timezone`` is False for
    a ``datetime`` without offset (``timestamp``, local time as stored);
    ``format`` names a column type whose text is checked (``inet``, ``cidr``)
    or that is only shown (``tsvector``); ``db_enum`` marks choices that the
    database enforces (its enum labels), so filters check them too.
    """

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
    items: FieldType | None = None
    timezone: bool = True
    format: str | None = None
    db_enum: bool = False
    bounds: tuple[int, int] | None = None
    digits: tuple[int | None, int | None] = (None, None)  # numeric(precision, scale)
    # Human messages replacing the defaults, by check: required, max_length,
    # pattern, choices (e.g. "Lower-case letters and digits" for a regex). A
    # pattern without one is refused in plain words: a person is never shown
    # the regular expression itself.
    messages: Mapping[str, str] = field(default_factory=dict)
    column: Column[Any] | None = field(default=None, repr=False)
    _compiled: re.Pattern[str] | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if not self.label:
            self.label = self.name.replace("_", " ").capitalize()
        if self.pattern is not None:
            self._compiled = re.compile(self.pattern)

    @property
    def element(self) -> str:
        """The coercion key of one value: the element type for arrays."""
        base = self.items if self.type == "array" and self.items else self.type
        if base == "datetime" and not self.timezone:
            return "local_datetime"
        return base

    def scalar(self, value: Any) -> Any:
        """One non-null value (an array's element) as psycopg should send it."""
        converted = coerce_value(self.element, value)
        if self.element == "integer" and self.bounds is not None:
            low, high = self.bounds
            if not low <= converted <= high:
                raise ValueInvalid(f"Must be between {low} and {high}.")
        if self.element == "decimal":
            self._check_digits(converted)
        if isinstance(converted, str) and self.format is not None:
            return coerce_format(self.format, converted)
        return converted

    def _check_digits(self, number: Any) -> None:
        precision, scale = self.digits
        if precision is None:
            return
        if not number.is_finite():
            if number.is_infinite():
                raise ValueInvalid(f"Must be finite (the column is numeric({precision}, {scale})).")
            return
        whole = precision - (scale or 0)
        integral = abs(int(number))
        if integral and len(str(integral)) > whole:
            raise ValueInvalid(f"At most {whole} digits before the decimal point.")

    def json(self, value: Any) -> Any:
        """The value's JSON form (see :mod:`collabadmin.resources.values`)."""
        return json_value(self.type, value, items=self.items, aware=self.timezone)

    def check(self, value: Any) -> Any:
        """Coerce a JSON value to the column's Python type, or raise ValueInvalid."""
        if value is None:
            if self.required or not self.nullable:
                raise ValueInvalid(self.messages.get("required", "This field is required."))
            return None
        if self.type == "array":
            if not isinstance(value, list):
                raise ValueInvalid("Must be a list.")
            try:
                return [None if v is None else self.scalar(v) for v in value]
            except ValueInvalid as exc:
                raise ValueInvalid(f"Each item: {exc}") from None
        converted = self.scalar(value)
        if isinstance(converted, str):
            if self.required and converted.strip() == "" and self.type in TEXT_TYPES:
                raise ValueInvalid(self.messages.get("required", "This field is required."))
            if self.max_length is not None and len(converted) > self.max_length:
                raise ValueInvalid(
                    self.messages.get("max_length", f"At most {self.max_length} characters.")
                )
            if self._compiled is not None and not self._compiled.fullmatch(converted):
                raise ValueInvalid(self.messages.get("pattern", PATTERN_MESSAGE))
        if self.choices is not None and converted not in self.choices:
            raise ValueInvalid(
                self.messages.get("choices", "Must be one of: " + ", ".join(self.choices) + ".")
            )
        return converted
