"""Resource declarations over SQLAlchemy tables, and adoption by reflection.

A :class:`Resource` names a table, its primary key and the fields it
exposes. :func:`resource_from_table` derives fields from the columns (type,
nullability, length, foreign keys) and applies the declaration's
refinements; :func:`reflect_resources` adopts existing tables and views of a
live database (views become read-only resources).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    ColumnElement,
    Date,
    DateTime,
    Float,
    Integer,
    Numeric,
    Select,
    SmallInteger,
    String,
    Table,
    Text,
    Uuid,
    cast,
    select,
)
from sqlalchemy.dialects.postgresql import JSONB

from collabadmin.errors import NotFound
from collabadmin.inputs import ascii_int
from collabadmin.resources.fields import Field, FieldType, Relation, ValueInvalid

__all__ = [
    "META_COLUMNS",
    "Registry",
    "Resource",
    "reflect_resources",
    "resource_from_table",
    "untracked_reason",
]

META_COLUMNS = frozenset({"version", "deleted_at"})


@dataclass(slots=True)
class Resource:
    """A table (or view) served under ``/api/r/{name}``."""

    name: str
    table: Table
    fields: dict[str, Field]
    pk: str = "id"
    label: str = ""
    label_plural: str = ""
    default_sort: tuple[str, ...] = ()
    search_fields: tuple[str, ...] = ()
    read_only: bool = False
    preview_url: str | None = None
    # Why the table cannot be written (no change capture): writes answer a
    # 409 with this text. A table without a version column is untracked.
    untracked: str = ""

    def __post_init__(self) -> None:
        if not self.read_only and not self.untracked and not self.versioned:
            self.untracked = untracked_reason(self.table.fullname)
        if self.untracked:
            self.read_only = True
        if not self.label_plural:
            self.label_plural = self.name.replace("_", " ").capitalize()
        if not self.label:
            plural = self.label_plural
            self.label = plural[:-1] if plural.endswith("s") else plural
        if not self.default_sort:
            self.default_sort = (self.pk,)

    @property
    def soft_delete(self) -> bool:
        return "deleted_at" in self.table.c

    @property
    def versioned(self) -> bool:
        return "version" in self.table.c

    @property
    def pk_field(self) -> Field:
        return self.fields[self.pk]

    def column(self, name: str) -> Column[Any]:
        return self.table.c[name]

    def pk_value(self, raw: str) -> Any | None:
        """A key written as text (URLs, the change log, drafts) as the column's type; or None.

        Compare the typed value with the key column, never the column cast
        to text: ``CAST(id AS text) = '42'`` cannot use the primary key index.
        Anything that cannot be a value of the key column (non-ASCII digits,
        an integer beyond the column's range, text that is not a UUID for a
        ``uuid`` key) is None, which callers answer with 404: no such record
        can exist, and the database must never be asked (it would answer
        with a type error, a 422 that says more than "not found").
        """
        f = self.pk_field
        sa_type = f.column.type if f.column is not None else None
        try:
            if f.type == "integer":
                number = ascii_int(raw, max_digits=19, signed=True)
                low, high = _integer_range(sa_type)
                if number is None or not low <= number <= high:
                    return None
                return f.check(number)
            value = f.check(raw)
            if isinstance(sa_type, Uuid) and value is not None:
                return uuid.UUID(value) if _UUID.fullmatch(value) else None
            return value
        except ValueInvalid:
            return None

    def keys_where(self, scope: ColumnElement[bool]) -> Select[Any]:
        """The keys (as text, as the change log and drafts hold them) of rows in ``scope``."""
        return select(cast(self.column(self.pk), Text)).where(scope)


def untracked_reason(table: str) -> str:
    """The 409 detail for a write to a table collabadmin does not track."""
    return (
        f"{table} is read-only here: it is not tracked, so changes to it could not be"
        f" versioned or recorded. Run `collabadmin db track {table}` as the database's"
        " owner, then restart the server."
    )


_UUID = re.compile(r"[0-9a-fA-F]{8}-?(?:[0-9a-fA-F]{4}-?){3}[0-9a-fA-F]{12}", re.ASCII)


def _integer_range(sa_type: Any) -> tuple[int, int]:
    """The values a key column of this integer type can hold."""
    if isinstance(sa_type, SmallInteger):
        return -(2**15), 2**15 - 1
    if isinstance(sa_type, BigInteger) or not isinstance(sa_type, Integer):
        return -(2**63), 2**63 - 1
    return -(2**31), 2**31 - 1


def _field_type(column: Column[Any]) -> tuple[FieldType, int | None]:
    sa_type = column.type
    if isinstance(sa_type, Boolean):
        return "boolean", None
    if isinstance(sa_type, Integer | BigInteger | SmallInteger):
        return "integer", None
    if isinstance(sa_type, Float | Numeric):
        return "number", None
    if isinstance(sa_type, DateTime):
        return "datetime", None
    if isinstance(sa_type, Date):
        return "date", None
    if isinstance(sa_type, JSON | JSONB):
        return "json", None
    if isinstance(sa_type, Text):
        return "text", None
    if isinstance(sa_type, String):
        length = sa_type.length
        return ("string", length) if length else ("text", None)
    return "string", None


def _column_field(column: Column[Any], is_pk: bool) -> Field:
    field_type, max_length = _field_type(column)
    has_default = (
        column.server_default is not None
        or column.default is not None
        or column.identity is not None
        or (is_pk and column.autoincrement in (True, "auto") and field_type == "integer")
    )
    relation = None
    for fk in column.foreign_keys:
        relation = Relation(resource=str(fk.column.table.name))
    return Field(
        name=str(column.name),
        type=field_type,
        required=not column.nullable and not has_default,
        nullable=bool(column.nullable),
        read_only=is_pk and has_default,
        max_length=max_length,
        relation=relation,
        has_default=has_default,
        column=column,
    )


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
) -> Resource:
    """Build a resource from ``table``'s columns, refined by ``fields`` overrides.

    ``fields`` maps a column name to keyword overrides of :class:`Field`
    (``label``, ``choices``, ``pattern``, ``read_only_after_create``,
    ``protected``, ``validators``, ``relation``...).
    """
    pk_columns = list(table.primary_key.columns)
    if len(pk_columns) != 1:
        pk_name = "id" if "id" in table.c else None
        if pk_name is None:
            raise ValueError(f"table {table.name} needs a single-column primary key or an id")
    else:
        pk_name = str(pk_columns[0].name)
    skipped = set(exclude) | META_COLUMNS
    overrides = dict(fields or {})
    unknown = set(overrides) - set(table.c.keys())
    if unknown:
        raise ValueError(f"{table.name}: no such columns {sorted(unknown)}")
    built: dict[str, Field] = {}
    for column in table.columns:
        if column.name in skipped and column.name != pk_name:
            continue
        base = _column_field(column, column.name == pk_name)
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
        pk=pk_name,
        label=label,
        label_plural=label_plural,
        default_sort=tuple(default_sort),
        search_fields=tuple(search_fields),
        read_only=read_only,
        preview_url=preview_url,
    )


class Registry:
    """The resources an application serves, by name."""

    def __init__(self, resources: Iterable[Resource] = ()) -> None:
        self._by_name: dict[str, Resource] = {}
        for resource in resources:
            self._add(resource)
        # Once for all (per add, an adopted schema of 500 tables took seconds).
        self._resolve_relations()

    def _add(self, resource: Resource) -> None:
        if resource.name in self._by_name:
            raise ValueError(f"resource {resource.name!r} declared twice")
        self._by_name[resource.name] = resource

    def add(self, resource: Resource) -> None:
        self._add(resource)
        self._resolve_relations()

    def _resolve_relations(self) -> None:
        by_table = {r.table.name: r for r in self._by_name.values()}
        for resource in self._by_name.values():
            for f in resource.fields.values():
                if f.relation is None:
                    continue
                target = self._by_name.get(f.relation.resource) or by_table.get(f.relation.resource)
                if target is None:
                    continue
                display = f.relation.display
                if display not in target.fields:
                    display = next(
                        (n for n in ("name", "title") if n in target.fields),
                        next(
                            (n for n, tf in target.fields.items() if tf.type == "string"),
                            target.pk,
                        ),
                    )
                f.relation = Relation(resource=target.name, display=display)

    def get(self, name: str) -> Resource:
        try:
            return self._by_name[name]
        except KeyError:
            raise NotFound(f"No resource named {name!r}.") from None

    def __iter__(self) -> Any:
        return iter(self._by_name.values())

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    def names(self) -> list[str]:
        return list(self._by_name)


def reflect_resources(
    url: str, *, only: Sequence[str] | None = None, schema: str | None = None
) -> list[Resource]:
    """Adopt existing tables and views of the database at ``url``; views are read-only.

    What cannot be served is left out (see
    :func:`collabadmin.resources.reflection.adopt_database` for the reasons).
    Synchronous: call it while building the app, or from a worker thread.
    """
    from collabadmin.resources.reflection import adopt_database  # noqa: PLC0415 - cycle

    return adopt_database(url, (schema or "public",), only=only).resources
