"""An import's columns: the field each header cell names, and the fields lines are matched by.

A header cell is a field's name or its label (what an export writes),
matched exactly, then by label ignoring case. A column naming no field the
importer may read (one that does not exist, or a hidden one: the answer is
the same) is a 400, as is a repeated column. Lines are matched by the
resource's key or by one unique field (``key``).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import UniqueConstraint

from collabadmin.errors import BadRequest
from collabadmin.resources.cells import restore
from collabadmin.resources.resource import Resource

__all__ = ["MAX_COLUMNS", "file_columns", "key_fields"]

MAX_COLUMNS = 500


def file_columns(resource: Resource, readable: frozenset[str], header: Sequence[str]) -> list[str]:
    """The field of each column of ``header``; 400 for unknown (or hidden) or repeated ones."""
    if len(header) > MAX_COLUMNS:
        raise BadRequest(f"At most {MAX_COLUMNS} columns.")
    labels: dict[str, list[str]] = {}
    for name in resource.fields:
        if name in readable:
            labels.setdefault(resource.fields[name].label.casefold(), []).append(name)
    names: list[str] = []
    unknown: list[str] = []
    for raw in header:
        title = restore(raw.strip().lstrip("\ufeff"))
        if title in resource.fields and title in readable:
            names.append(title)
            continue
        found = labels.get(title.casefold(), [])
        if len(found) == 1:
            names.append(found[0])
        else:
            unknown.append(title)
    if unknown:
        raise BadRequest(
            "Unknown columns: " + ", ".join(repr(u) for u in unknown) + ".",
            errors=[{"field": u, "message": "Unknown column."} for u in unknown],
        )
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise BadRequest("Columns given twice: " + ", ".join(repeated) + ".")
    return names


def _unique(resource: Resource, name: str) -> bool:
    table = resource.table
    for constraint in table.constraints:
        if isinstance(constraint, UniqueConstraint) and [c.name for c in constraint.columns] == [
            name
        ]:
            return True
    if any(ix.unique and [c.name for c in ix.columns] == [name] for ix in table.indexes):
        return True
    column = table.c.get(name)
    return bool(column is not None and column.unique)


def key_fields(resource: Resource, readable: frozenset[str], key: str | None) -> tuple[str, ...]:
    """The fields lines are matched by: the key's (``key`` None), or one unique field; else 400."""
    if key is None:
        if not resource.addressable:
            raise BadRequest(f"{resource.label_plural} have no key: name a unique field as key.")
        return resource.pk
    if key not in resource.fields or key not in readable:
        raise BadRequest(f"Cannot match by unknown field {key!r}.", parameter="key")
    if (key,) == resource.pk or _unique(resource, key):
        return (key,)
    raise BadRequest(
        f"{key!r} is not unique: match lines by the key or a unique field.", parameter="key"
    )
