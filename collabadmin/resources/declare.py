"""Declaring resources: from a SQLAlchemy table, or by reflecting a live database.

:func:`resource_from_table` derives fields from the columns (type,
nullability, length, foreign keys, see :mod:`~collabadmin.resources.columns`)
and applies the declaration's refinements; :func:`reflect_resources` adopts
existing tables and views of a live database (views become read-only
resources).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from sqlalchemy import Table

from collabadmin.resources.columns import column_field, domains_as_base_types
from collabadmin.resources.fields import Field
from collabadmin.resources.record_actions import RecordActionDecl
from collabadmin.resources.resource import META_COLUMNS, Resource

__all__ = ["reflect_resources", "resource_from_table"]


def resource_from_table(
    table: Table,
    *,
    name: str | None = None,
    label: str = "",
    label_plural: str = "",
    exclude: Iterable[str] = (),
    fields: Mapping[str, Mapping[str, Any]] | None = None,
    default_sort: Sequence[str] = (),
    search_fields: Sequence[str] = (),
    read_only: bool = False,
    preview_url: str | None = None,
    pk: str | Sequence[str] | None = None,
    filled_by_trigger: bool = False,
    display: str = "",
    record_actions: Sequence[RecordActionDecl] = (),
) -> Resource:
    """Build a resource from ``table``'s columns, refined by ``fields`` overrides.

    The key is ``pk`` (a column name, or names in order for a composite key)
    when given, else the table's primary key (single or composite). A table
    or view with neither is served read-only and list-only (``pk`` empty).

    ``fields`` maps a column name to keyword overrides of :class:`Field`
    (``label``, ``choices``, ``pattern``, ``read_only_after_create``,
    ``protected``, ``validators``, ``relation``...). ``filled_by_trigger``:
    the table has a BEFORE INSERT trigger of its own, so no NOT NULL column
    is required on create (the trigger may fill it). ``display``: the field
    that names a record (default: :func:`display_field`'s choice).
    ``record_actions``: buttons on its records
    (:class:`~collabadmin.resources.record_actions.RecordActionDecl`).
    """
    key = _key_of_table(table, pk)
    read_only_reason = None
    if not key:
        read_only = True
        read_only_reason = (
            f"{table.name} has no primary key or unique column to address its rows by; "
            "it can be listed but not changed (declare one, or pass pk=)."
        )
    skipped = set(exclude) | META_COLUMNS
    overrides = dict(fields or {})
    unknown = set(overrides) - set(table.c.keys())
    if unknown:
        raise ValueError(f"{table.name}: no such columns {sorted(unknown)}")
    built: dict[str, Field] = {}
    domains_as_base_types(table)
    for column in table.columns:
        if column.name in skipped and column.name not in key:
            continue
        base = column_field(
            column, column.name in key, len(key) == 1, filled_by_trigger=filled_by_trigger
        )
        extra = dict(overrides.get(column.name, {}))
        if "choices" in extra and extra["choices"] is not None:
            extra["choices"] = tuple(extra["choices"])
        if "validators" in extra:
            extra["validators"] = tuple(extra["validators"])
        built[str(column.name)] = replace(base, **extra) if extra else base
    if read_only:
        for f in built.values():
            f.read_only = True
    return Resource(
        name=name or str(table.name),
        table=table,
        fields=built,
        pk=key,
        label=label,
        label_plural=label_plural,
        default_sort=tuple(default_sort),
        search_fields=tuple(search_fields),
        read_only=read_only,
        preview_url=preview_url,
        read_only_reason=read_only_reason,
        display=display,
        record_actions=tuple(record_actions),
    )


def _key_of_table(table: Table, pk: str | Sequence[str] | None) -> tuple[str, ...]:
    if pk is not None:
        key = (pk,) if isinstance(pk, str) else tuple(pk)
        missing = [n for n in key if n not in table.c]
        if not key or missing:
            raise ValueError(f"{table.name}: the key names no such columns {missing or key}")
        if len(set(key)) != len(key):
            raise ValueError(f"{table.name}: the key names a column twice")
        return key
    return tuple(str(c.name) for c in table.primary_key.columns)


def reflect_resources(
    url: str,
    *,
    only: Sequence[str] | None = None,
    schema: str | None = None,
    keys: Mapping[str, str | Sequence[str]] | None = None,
) -> list[Resource]:
    """Adopt existing tables and views of the database at ``url``; views are read-only.

    A table is keyed by its primary key (single or composite); a view by the
    key of the one table it reads, when it shows that key's columns under
    their own names; ``keys`` (the config file's ``key``) names the key of
    tables or views otherwise; a key naming a missing column is a
    ValueError. A view without a key is list-only, a table without one
    read-only. Anything else that cannot be served is left out (see
    :func:`collabadmin.resources.reflection.adopt_database` for the reasons).

    Synchronous: call it while building the app, or from a worker thread.
    """
    from collabadmin.resources.reflection import adopt_database  # noqa: PLC0415 - cycle

    return adopt_database(url, (schema or "public",), only=only, keys=keys).resources
