"""Record actions declared in the config file: patch actions with a condition of equalities.

``[resources.ticket.actions.finish]`` becomes a
:class:`~collabadmin.resources.record_actions.RecordActionDecl` whose
condition is "each ``when`` field equals its value and no ``unless`` field
does" and which writes ``patch``. Values are checked against their fields
when the file is read (a status that is not one of the enum's labels, a
date that is not one, a field that is excluded or read-only), so a mistake
stops start-up with the key that holds it, never a run.

Function actions (several rows, computed values) need Python: declare them
with ``resource_from_table(record_actions=...)``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from sqlalchemy import ColumnElement, Table, and_

from collabadmin.config.schema import ConfigError, RecordActionConfig
from collabadmin.resources.fields import ValueInvalid
from collabadmin.resources.record_actions import Condition, RecordActionDecl, field_equals
from collabadmin.resources.resource import Resource

__all__ = ["configured_actions"]

# A condition compares one value; these have no single value to compare.
_UNCOMPARABLE = frozenset({"json", "array", "binary"})


def configured_actions(
    resource: Resource, actions: Mapping[str, RecordActionConfig], where: str
) -> tuple[RecordActionDecl, ...]:
    """The declarations of ``[resources.NAME.actions.*]`` for ``resource``; else ConfigError."""
    if actions and resource.read_only:
        raise ConfigError(f"{where}.actions: {resource.name} is read-only; no action can write it")
    declared = []
    for name, ac in actions.items():
        at = f"{where}.actions.{name}"
        when = _condition_values(resource, ac.when, f"{at}.when")
        unless = _condition_values(resource, ac.unless, f"{at}.unless")
        patch = _patch_values(resource, ac.patch, f"{at}.patch")
        conditions: list[Condition] = [field_equals(when)] if when else []
        if unless:
            conditions.append(field_equals(unless, negate=True))
        try:
            declared.append(
                RecordActionDecl(
                    name=name,
                    label=ac.label,
                    confirm=ac.confirm,
                    permission=ac.permission,
                    applies=_all_of(conditions),
                    patch=patch,
                    not_applicable=ac.not_applicable or "",
                )
            )
        except ValueError as exc:
            raise ConfigError(f"{at}: {str(exc).split(': ', 1)[-1]}") from None
    return tuple(declared)


def _all_of(conditions: list[Condition]) -> Condition | None:
    if len(conditions) < 2:
        return conditions[0] if conditions else None

    def every(table: Table) -> ColumnElement[bool]:
        return and_(*(condition(table) for condition in conditions))

    return every


def _field(resource: Resource, name: str, at: str) -> Any:
    f = resource.fields.get(name)
    if f is None:
        raise ConfigError(f"{at}: {resource.name} serves no field {name!r}")
    return f


def _as_json(value: Any) -> Any:
    """A TOML value as a client would send it (TOML dates and times are typed)."""
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return value


def _condition_values(resource: Resource, values: Mapping[str, Any], at: str) -> dict[str, Any]:
    checked: dict[str, Any] = {}
    for name, value in values.items():
        f = _field(resource, name, at)
        if f.type in _UNCOMPARABLE:
            raise ConfigError(f"{at}.{name}: a {f.type} field cannot be compared in a condition")
        try:
            checked[name] = f.check(_as_json(value))
        except ValueInvalid as exc:
            raise ConfigError(f"{at}.{name}: {exc}") from None
    return checked


def _patch_values(resource: Resource, values: Mapping[str, Any], at: str) -> dict[str, Any]:
    if not values:
        raise ConfigError(f"{at}: the patch sets nothing; name the fields it sets")
    patch: dict[str, Any] = {}
    for name, value in values.items():
        f = _field(resource, name, at)
        if f.read_only:
            raise ConfigError(f"{at}.{name}: the field is read-only")
        try:
            patch[name] = f.json(f.check(_as_json(value)))
        except ValueInvalid as exc:
            raise ConfigError(f"{at}.{name}: {exc}") from None
    return patch
