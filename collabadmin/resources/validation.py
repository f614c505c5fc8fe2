"""Validation of create and patch bodies against a resource and a policy.

Every problem in a body is collected and reported at once as a 422 with one
entry per field. Keys starting with ``_`` are record metadata
(``_version``, ``_deleted_at``): clients may echo them back and they are
ignored, since versions travel in ``If-Match``/``X-Base-Version``. A field the
user may not read is reported as unknown, so its existence is not revealed.
"""

from __future__ import annotations

import decimal
import math
from collections.abc import Mapping
from typing import Any

from collabadmin.errors import FieldError, ValidationFailed
from collabadmin.resources.fields import ValidationContext, ValueInvalid
from collabadmin.resources.resource import Resource

__all__ = ["validate_create", "validate_patch"]


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and value.strip() == "")


def _same(value: Any, current: Any) -> bool:
    """Equal as stored: NaN (float or numeric) equals NaN, as PostgreSQL has it."""
    return value == current or (_is_nan(value) and _is_nan(current))


def _is_nan(value: Any) -> bool:
    if isinstance(value, float):
        return math.isnan(value)
    return isinstance(value, decimal.Decimal) and value.is_nan()


def _coerce(
    resource: Resource, name: str, value: Any, errors: list[FieldError]
) -> tuple[bool, Any]:
    try:
        return True, resource.fields[name].check(value)
    except ValueInvalid as exc:
        errors.append(FieldError(name, str(exc)))
        return False, None


def _rules_accept(
    resource: Resource, name: str, value: Any, ctx: ValidationContext, errors: list[FieldError]
) -> bool:
    """Protected-field and custom rules, applied to a value that is being set."""
    f = resource.fields[name]
    current = ctx.current
    if f.protected and current is not None and not _empty(current.get(name)) and _empty(value):
        errors.append(FieldError(name, "This field may not be emptied once set."))
        return False
    for validator in f.validators:
        message = validator(value, ctx)
        if message:
            errors.append(FieldError(name, message))
            return False
    return True


def _known(
    resource: Resource, body: Mapping[str, Any], readable: frozenset[str], errors: list[FieldError]
) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for name, value in body.items():
        if name.startswith("_"):
            continue
        if name not in resource.fields or name not in readable:
            errors.append(FieldError(name, "Unknown field."))
            continue
        fields[name] = value
    return fields


def validate_create(
    resource: Resource,
    body: Mapping[str, Any],
    *,
    readable: frozenset[str],
    writable: frozenset[str],
    roles: frozenset[str],
) -> dict[str, Any]:
    """The column values of a new record, or ValidationFailed."""
    errors: list[FieldError] = []
    ctx = ValidationContext(roles=roles, creating=True, current=None)
    values: dict[str, Any] = {}
    for name, value in _known(resource, body, readable, errors).items():
        if name not in writable:
            errors.append(FieldError(name, "This field is read-only."))
            continue
        ok, converted = _coerce(resource, name, value, errors)
        if ok and _rules_accept(resource, name, converted, ctx, errors):
            values[name] = converted
    for name, f in resource.fields.items():
        if name in body or not (f.required or (not f.nullable and not f.has_default)):
            continue
        if name in readable:
            errors.append(FieldError(name, "This field is required."))
    if errors:
        raise ValidationFailed(errors)
    return values


def validate_patch(
    resource: Resource,
    body: Mapping[str, Any],
    current: Mapping[Any, Any],
    *,
    readable: frozenset[str],
    writable: frozenset[str],
    roles: frozenset[str],
) -> dict[str, Any]:
    """The columns a merge patch really changes (maybe none), or ValidationFailed.

    A read-only field may appear with its current value (a client echoing the
    record back); changing it is an error naming the field.
    """
    errors: list[FieldError] = []
    ctx = ValidationContext(roles=roles, creating=False, current=current)
    changes: dict[str, Any] = {}
    for name, value in _known(resource, body, readable, errors).items():
        ok, converted = _coerce(resource, name, value, errors)
        if not ok or _same(converted, current.get(name)):
            continue  # echoing a value back is not a change, so no rule applies
        if name not in writable:
            errors.append(FieldError(name, "This field is read-only."))
            continue
        if _rules_accept(resource, name, converted, ctx, errors):
            changes[name] = converted
    if errors:
        raise ValidationFailed(errors)
    return changes
