"""Relation cells holding the related record's display value (its name, its title), as keys.

A relation's cell may hold the related record's key or its display value:
keys are looked up first, then display values (when the importer may
read the display field), both within the importer's row scope on the
related resource, :data:`~collabadmin.imports.plan.LOOKUP_CHUNK`
at a time. A value naming no related record, or several, is an error on
that cell.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select, true

from collabadmin.db.engine import Tx
from collabadmin.errors import FieldError
from collabadmin.imports.plan import LOOKUP_CHUNK, Importer, Planned
from collabadmin.resources.fields import ValueInvalid
from collabadmin.resources.resource import Resource, display_field

__all__ = ["resolve_relations"]


async def resolve_relations(importer: Importer, tx: Tx, planned: Sequence[Planned]) -> None:
    """Relation cells holding the related record's display value, replaced by its key."""
    registry = importer.records.registry
    for name in importer.columns:
        relation = importer.resource.fields[name].relation
        if relation is None or relation.resource not in registry:
            continue
        target = registry.get(relation.resource)
        if len(target.pk) != 1:
            continue
        await _relation(importer, tx, planned, name, target)


async def _relation(
    importer: Importer, tx: Tx, planned: Sequence[Planned], name: str, target: Resource
) -> None:
    f, key_field = importer.resource.fields[name], target.fields[target.pk[0]]
    texts = {
        str(p.values[name]) for p in planned if not p.errors and p.values.get(name) is not None
    }
    if not texts:
        return
    typed: dict[str, Any] = {}
    for text in texts:
        try:
            typed[text] = key_field.scalar(
                int(text) if key_field.type == "integer" and text.lstrip("-").isdigit() else text
            )
        except (ValueInvalid, ValueError):
            continue
    scope = importer.records.policy.row_filter(importer.actor, target, "view")
    key_column = target.column(target.pk[0])
    found: set[Any] = set()
    values = list(typed.values())
    for start in range(0, len(values), LOOKUP_CHUNK):
        chunk = values[start : start + LOOKUP_CHUNK]
        rows = await tx.rows(
            select(key_column.label("k")).where(
                key_column.in_(chunk), true() if scope is None else scope
            )
        )
        found |= {r["k"] for r in rows}
    by_display: dict[str, list[Any]] = {}
    rest = [t for t in texts if t not in typed or typed[t] not in found]
    shown = display_field(target)
    # A display value the importer may not read is no way to name a record.
    readable = importer.records.policy.readable_fields(importer.actor, target)
    if rest and shown in target.fields and shown in readable and shown != target.pk[0]:
        display = target.column(shown)
        for start in range(0, len(rest), LOOKUP_CHUNK):
            chunk = rest[start : start + LOOKUP_CHUNK]
            rows = await tx.rows(
                select(key_column.label("k"), display.label("d")).where(
                    display.in_(chunk), true() if scope is None else scope
                )
            )
            for r in rows:
                by_display.setdefault(str(r["d"]), []).append(r["k"])
    noun = target.label.lower()
    for p in planned:
        value = p.values.get(name)
        if p.errors or value is None:
            continue
        text = str(value)
        if text in typed and typed[text] in found:
            p.values[name] = key_field.json(typed[text])
            continue
        matches = by_display.get(text, [])
        if len(matches) == 1:
            p.values[name] = f.json(matches[0]) if f.type != "string" else str(matches[0])
        elif matches:
            p.errors.append(
                FieldError(
                    name, f"Several {target.label_plural.lower()} are named {text!r}; use the key."
                )
            )
        else:
            p.errors.append(FieldError(name, f"No {noun} has this key or name."))
