"""Records meet :mod:`collabadmin.changelog.conflicts`: their values in JSON form.

A record's current values are Python values (a ``Decimal``, ``bytes``); the
log holds ``to_jsonb`` forms (bytea as hex, intervals as PostgreSQL text); a
patch holds what a client sent (``12.5`` for a ``numeric(5,2)``). Each is
mapped to its field's JSON form (``"12.50"``) before any comparison, so the
same edit made twice, or a value echoed back, is never a conflict.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from collabadmin.changelog.conflicts import (
    FieldConflict,
    Precondition,
    Target,
    check_precondition,
    conflicts_since,
)
from collabadmin.db.engine import Actor, Row, Tx
from collabadmin.resources.resource import Resource
from collabadmin.resources.service import RecordService

__all__ = ["check_record_precondition", "patched_forms", "record_conflicts"]


def patched_forms(resource: Resource, patch: Mapping[str, Any]) -> dict[str, Any]:
    """The fields of a patch in their JSON forms (a value that does not fit stays as sent)."""
    forms: dict[str, Any] = {}
    for name, value in patch.items():
        f = resource.fields.get(name)
        if f is None or name.startswith("_"):
            continue  # metadata (_version) or not a field: never a conflict
        try:
            forms[name] = f.json(f.check(value))
        except ValueError:
            forms[name] = value
    return forms


def _logged(resource: Resource) -> Callable[[str, Any], Any]:
    def form(name: str, value: Any) -> Any:
        f = resource.fields.get(name)
        return value if f is None else f.json(value)

    return form


def _target(resource: Resource, row: Row) -> Target:
    return Target(resource.name, resource.key_of(row), row["version"])


async def record_conflicts(
    tx: Tx, resource: Resource, row: Row, base: int, patch: Mapping[str, Any]
) -> list[FieldConflict]:
    """Fields of ``patch`` that a change since version ``base`` of the locked ``row`` touched."""
    return await conflicts_since(
        tx,
        _target(resource, row),
        base,
        patched_forms(resource, patch),
        theirs=lambda name: resource.fields[name].json(row[name]),
        logged=_logged(resource),
    )


async def check_record_precondition(
    records: RecordService,
    tx: Tx,
    row: Row,
    precondition: Precondition,
    patch: Mapping[str, Any],
    *,
    actor: Actor,
    resource: Resource,
    watched: Iterable[str] = (),
) -> None:
    """412/409 unless ``precondition`` allows writing ``patch`` over the locked ``row``.

    ``watched``: fields the write depends on without writing them (a record
    action's condition), which must not have changed since the base either.
    """
    if precondition.version == row["version"]:
        return  # the common case: no log to read, nothing to compute
    await check_precondition(
        tx,
        precondition,
        _target(resource, row),
        patched_forms(resource, patch),
        theirs=lambda name: resource.fields[name].json(row[name]),
        logged=_logged(resource),
        shown=records.policy.readable_fields(actor, resource),
        current=lambda: records.body(actor, resource, row),
        watched=watched,
    )
