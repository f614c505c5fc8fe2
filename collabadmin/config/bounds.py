"""``min`` and ``max`` of a number or date field, as a field validator.

A date bound may be ``"today"``, evaluated at each write (the demo's "a
course may not start in the past"); ``exempt_roles`` lets some roles write
outside the bounds (the demo lets editors backdate a course).
"""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Callable
from typing import Any

from collabadmin.config.schema import ConfigError, FieldConfig
from collabadmin.resources.fields import Field, ValidationContext, Validator

__all__ = ["bounds_validator"]

Bound = Callable[[], Any]


def _bound(f: Field, raw: int | float | str, where: str) -> Bound:
    if f.type == "date":
        if raw == "today":
            return dt.date.today
        if isinstance(raw, str):
            try:
                day = dt.date.fromisoformat(raw)
            except ValueError:
                pass
            else:
                return lambda: day
        raise ConfigError(f'{where}: a date bound is "YYYY-MM-DD" or "today", not {raw!r}')
    if f.type in ("integer", "decimal", "float") and not isinstance(raw, str):
        number = decimal.Decimal(str(raw))
        return lambda: number
    raise ConfigError(f"{where}: bounds apply to number and date fields ({f.name} is {f.type})")


def bounds_validator(f: Field, fc: FieldConfig, where: str) -> Validator:
    low = _bound(f, fc.min, f"{where}.min") if fc.min is not None else None
    high = _bound(f, fc.max, f"{where}.max") if fc.max is not None else None
    exempt = frozenset(fc.exempt_roles)
    messages = dict(fc.messages)

    def check(value: Any, ctx: ValidationContext) -> str | None:
        if value is None or ctx.roles & exempt:
            return None
        if low is not None:
            limit = low()
            if value < limit:
                return messages.get(
                    "min",
                    f"Must be {limit} or later." if f.type == "date" else f"At least {limit}.",
                )
        if high is not None:
            limit = high()
            if value > limit:
                return messages.get(
                    "max",
                    f"Must be {limit} or earlier." if f.type == "date" else f"At most {limit}.",
                )
        return None

    return check
