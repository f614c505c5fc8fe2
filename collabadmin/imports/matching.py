"""Each line's record, matched by its key, and each line's op checked with the importer's rights.

A line whose key names no record inserts one; one whose key names a record
updates the fields whose values differ, or leaves it ``unchanged``. Each is
checked exactly as a create or a PATCH body is
(:mod:`~collabadmin.resources.validation`), with the importer's
permissions: ``add`` for inserts, ``change`` for updates, within its row
scope (a line naming a record outside it is an error on that line that
does not say whether the record exists), field by field (a read-only field
may hold its current value, not another). A record the importer may not
see is as if it were not there.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select, true, tuple_

from collabadmin.db.engine import Row, Tx
from collabadmin.errors import FieldError, ValidationFailed
from collabadmin.imports.plan import LOOKUP_CHUNK, Importer, Planned
from collabadmin.resources.validation import validate_create, validate_patch

__all__ = ["check_lines", "match_records"]

_MAY = "collabadmin_may_change"
_SEES = "collabadmin_may_view"


async def match_records(importer: Importer, tx: Tx, planned: Sequence[Planned]) -> None:
    """Each line's record (by its key), read with whether the importer may change it."""
    resource, actor = importer.resource, importer.actor
    policy = importer.records.policy
    scope = policy.row_filter(actor, resource, "change")
    may = (true() if scope is None else scope).label(_MAY)
    view = policy.row_filter(actor, resource, "view")
    sees = (true() if view is None else view).label(_SEES)
    columns = [resource.column(k) for k in importer.keys]
    keyed = [p for p in planned if p.key is not None]
    by_key: dict[tuple[Any, ...], Row] = {}
    for start in range(0, len(keyed), LOOKUP_CHUNK):
        chunk = [p.key for p in keyed[start : start + LOOKUP_CHUNK]]
        where = (
            columns[0].in_([k[0] for k in chunk if k is not None])
            if len(columns) == 1
            else tuple_(*columns).in_(chunk)
        )
        for row in await tx.rows(select(resource.table, may, sees).where(where)):
            # A record the importer may not see is as if it were not
            # there: a line naming it is an insert (which its key then
            # refuses, as a create would), so no answer reveals it.
            if row[_SEES]:
                by_key[tuple(row[k] for k in importer.keys)] = row
    for p in keyed:
        assert p.key is not None
        p.row = by_key.get(p.key)


def check_lines(importer: Importer, planned: Sequence[Planned]) -> None:
    """Each line's op, validated as a create or a PATCH body with the importer's rights."""
    records, actor, resource = importer.records, importer.actor, importer.resource
    policy = records.policy
    may_add = policy.allows(actor, resource, "add")
    may_change = policy.allows(actor, resource, "change")
    for p in planned:
        if p.errors:
            p.op = "insert" if p.row is None else "update"
        elif p.row is None:
            p.op = "insert"
            if may_add:
                _check_insert(importer, p)
            else:
                p.errors.append(FieldError("", f"You may not add {resource.label_plural.lower()}."))
        else:
            p.op = "update"
            _check_update(importer, p, p.row, may_change=may_change)


def _check_insert(importer: Importer, p: Planned) -> None:
    actor, resource = importer.actor, importer.resource
    writable = importer.records.policy.writable_fields(actor, resource, None)
    body = {n: v for n, v in p.values.items() if v is not None or n in writable}
    try:
        p.columns = validate_create(
            resource, body, readable=importer.readable, writable=writable, roles=actor.roles
        )
    except ValidationFailed as exc:
        p.errors.extend(exc.errors)
    p.values = body


def _check_update(importer: Importer, p: Planned, row: Row, *, may_change: bool) -> None:
    actor, resource = importer.actor, importer.resource
    noun = resource.label.lower()
    if not may_change or not row[_MAY]:
        p.errors.append(
            FieldError(importer.keys[0], f"You may not change the {noun} with this key.")
        )
        return
    p.pk = resource.key_of(row)
    p.version = row["version"] if resource.versioned else None
    if resource.soft_delete and row["deleted_at"] is not None:
        p.errors.append(
            FieldError("", f"The {noun} is deleted; restore it before importing over it.")
        )
        return
    try:
        changes = validate_patch(
            resource,
            p.values,
            row,
            readable=importer.readable,
            writable=importer.records.policy.writable_fields(actor, resource, row),
            roles=actor.roles,
        )
    except ValidationFailed as exc:
        p.errors.extend(exc.errors)
        return
    if not changes:
        p.op = "unchanged"
