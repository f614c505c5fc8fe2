"""Each line's cells read as its fields' values, and its key, with what cannot be read noted.

A cell is read as its field's type (:func:`~collabadmin.resources.cells.cell_value`);
a relation's cell that is not a key is kept as text, a display value
:mod:`~collabadmin.imports.relations` looks up. A line's key is typed as
the key's fields are; a key cell left empty is a new record whose key the
database assigns, a part of a composite key left empty or a key given on
an earlier line is an error on the line.
"""

from __future__ import annotations

from typing import Any

from collabadmin.errors import BadRequest, FieldError
from collabadmin.imports.columns import file_columns
from collabadmin.imports.files import read_file
from collabadmin.imports.plan import Importer, Planned
from collabadmin.resources.cells import cell_value, restore
from collabadmin.resources.fields import ValueInvalid

__all__ = ["read_lines"]


def read_lines(importer: Importer) -> list[Planned]:
    """The file's lines, each read as values of its fields (cell errors noted).

    Sets the importer's ``columns``; a file with no key column at all (and
    no ``key`` asked for) clears its ``keys``: every line is a new record.
    """
    request, resource = importer.request, importer.resource
    header, lines = read_file(request.body, request.media_type)
    importer.columns = columns = file_columns(resource, importer.readable, header)
    missing = [k for k in importer.keys if k not in columns]
    if missing and request.key is None and len(missing) == len(importer.keys):
        # No key column at all, none asked for: every line is a new record.
        missing, importer.keys = [], ()
    if missing:
        raise BadRequest(
            "The file has no column for the key: " + ", ".join(missing) + ".", parameter="key"
        )
    planned: list[Planned] = []
    first_line: dict[tuple[Any, ...], int] = {}
    width = len(columns)
    for line in lines:
        p = Planned(line.number)
        planned.append(p)
        if len(line.cells) != width:
            p.errors.append(
                FieldError("", f"This line has {len(line.cells)} cells; the header has {width}.")
            )
            continue
        for name, raw in zip(columns, line.cells, strict=True):
            f = resource.fields[name]
            try:
                p.values[name] = cell_value(f, raw)
            except ValueInvalid as exc:
                if f.relation is not None and not raw.startswith("="):
                    p.values[name] = restore(raw)  # a display value, looked up later
                else:
                    p.errors.append(FieldError(name, str(exc)))
        _key(importer, p, first_line)
    return planned


def _key(importer: Importer, p: Planned, first_line: dict[tuple[Any, ...], int]) -> None:
    keys = importer.keys
    if not keys or any(k not in p.values for k in keys):
        return  # no key column, or a cell of the key could not be read (an error)
    raw = [p.values[k] for k in keys]
    if all(v is None for v in raw):
        return  # a new record whose key the database assigns
    typed: list[Any] = []
    for name, value in zip(keys, raw, strict=True):
        if value is None:
            p.errors.append(FieldError(name, "Every part of the key is needed."))
            return
        try:
            typed.append(importer.resource.fields[name].scalar(value))
        except ValueInvalid as exc:
            p.errors.append(FieldError(name, str(exc)))
            return
    key = tuple(typed)
    earlier = first_line.get(key)
    if earlier is not None:
        p.errors.append(FieldError(keys[0], f"The same key as line {earlier}."))
        return
    first_line[key] = p.line
    p.key = key
