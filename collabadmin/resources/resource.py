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
    MetaData,
    Numeric,
    Select,
    SmallInteger,
    String,
    Table,
    Text,
    Uuid,
    and_,
    bindparam,
    cast,
    create_engine,
    false,
    func,
    inspect,
    literal,
    select,
    tuple_,
    type_coerce,
)
from sqlalchemy import text as sa_text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.pool import NullPool

from collabadmin.db.engine import normalise_url
from collabadmin.errors import NotFound
from collabadmin.inputs import ascii_int
from collabadmin.resources.fields import Field, FieldType, Relation, ValueInvalid
from collabadmin.resources.keys import decode_key, encode_key, value_text

__all__ = ["META_COLUMNS", "Registry", "Resource", "reflect_resources", "resource_from_table"]

META_COLUMNS = frozenset({"version", "deleted_at"})


@dataclass(slots=True)
class Resource:
    """A table (or view) served under ``/api/r/{name}``.

    ``pk`` names the key columns in key order: one for a single-column key,
    several for a composite key, none for a view with no usable key (it can
    be listed, not addressed). ``read_only_reason`` says why a resource that
    cannot be written is read-only (shown in ``ResourceMeta``).
    """

    name: str
    table: Table
    fields: dict[str, Field]
    pk: tuple[str, ...] = ("id",)
    label: str = ""
    label_plural: str = ""
    default_sort: tuple[str, ...] = ()
    search_fields: tuple[str, ...] = ()
    read_only: bool = False
    preview_url: str | None = None
    read_only_reason: str | None = None

    def __post_init__(self) -> None:
        if not self.label_plural:
            self.label_plural = self.name.replace("_", " ").capitalize()
        if not self.label:
            plural = self.label_plural
            self.label = plural[:-1] if plural.endswith("s") else plural
        if not self.default_sort:
            self.default_sort = self.pk
        if not self.pk and not self.read_only:
            raise ValueError(f"resource {self.name}: a resource without a key must be read-only")

    @property
    def soft_delete(self) -> bool:
        return "deleted_at" in self.table.c

    @property
    def versioned(self) -> bool:
        return "version" in self.table.c

    @property
    def addressable(self) -> bool:
        """Whether single records can be addressed (``/api/r/{name}/{pk}``)."""
        return bool(self.pk)

    @property
    def pk_field(self) -> Field:
        """The key field of a single-column key (workflow subjects need one)."""
        if len(self.pk) != 1:
            raise ValueError(f"resource {self.name} has no single-column key")
        return self.fields[self.pk[0]]

    def column(self, name: str) -> Column[Any]:
        return self.table.c[name]

    def key_columns(self) -> list[Column[Any]]:
        return [self.column(n) for n in self.pk]

    def pk_values(self, raw: str) -> tuple[Any, ...] | None:
        """A key written as text (URLs, the change log, drafts) as the columns' types; or None.

        Compare the typed values with the key columns, never the columns cast
        to text: ``CAST(id AS text) = '42'`` cannot use the primary key index.
        Anything that cannot be a key (wrong number of parts, non-ASCII
        digits, an integer beyond the column's range, text that is not a
        UUID for a ``uuid`` column) is None, which callers answer with 404:
        no such record can exist, and the database must never be asked (it
        would answer with a type error, a 422 that says more than "not found").
        """
        parts = decode_key(raw, len(self.pk))
        if parts is None:
            return None
        values = []
        for name, text in zip(self.pk, parts, strict=True):
            value = _key_part(self.fields[name], text)
            if value is None:
                return None
            values.append(value)
        return tuple(values)

    def key_clause(self, values: Sequence[Any]) -> ColumnElement[bool]:
        """The rows whose key is ``values`` (typed, as :meth:`pk_values` gives them)."""
        return and_(*(c == v for c, v in zip(self.key_columns(), values, strict=True)))

    def key_text_clause(self, raw: str) -> ColumnElement[bool]:
        """The row whose key's text is ``raw`` (no row when it cannot be a key)."""
        values = self.pk_values(raw) if self.pk else None
        return false() if values is None else self.key_clause(values)

    def key_bound(self) -> ColumnElement[bool]:
        """:meth:`key_clause` with bind parameters (``pk_0``...), for cached statements."""
        return and_(*(c == bindparam(f"pk_{i}") for i, c in enumerate(self.key_columns())))

    def key_params(self, values: Sequence[Any]) -> dict[str, Any]:
        """The parameters of :meth:`key_bound` for a key."""
        return {f"pk_{i}": v for i, v in enumerate(values)}

    def key_values(self, row: Mapping[str, Any]) -> tuple[Any, ...]:
        return tuple(row[n] for n in self.pk)

    def key_of(self, row: Mapping[str, Any]) -> str:
        """A row's key as text (its URL segment, topic and change-log key)."""
        return encode_key([value_text(row[n]) for n in self.pk])

    def key_sql(self) -> ColumnElement[str]:
        """SQL for a row's key as text, exactly as the capture trigger writes it."""
        parts: list[ColumnElement[Any]] = []
        for column in self.key_columns():
            if isinstance(column.type, Integer):
                parts.append(cast(column, Text))  # digits need no escaping
                continue
            value = type_coerce(func.to_jsonb(column).op("#>>")(literal("{}", Text)), Text)
            parts.append(func.replace(func.replace(value, "%", "%25"), ",", "%2C"))
        if len(parts) == 1:
            return type_coerce(parts[0], Text)
        return type_coerce(func.concat_ws(",", *parts), Text)

    def keys_where(self, scope: ColumnElement[bool]) -> Select[Any]:
        """The keys (as text, as the change log and drafts hold them) of rows in ``scope``."""
        return select(self.key_sql()).where(scope)

    def keys_among(self, texts: Iterable[str]) -> ColumnElement[bool] | None:
        """The rows whose key is one of ``texts`` (None when none of them can be a key)."""
        keys = {v for v in (self.pk_values(t) for t in texts) if v is not None}
        if not keys:
            return None
        if len(self.pk) == 1:
            return self.column(self.pk[0]).in_([k[0] for k in keys])
        return tuple_(*self.key_columns()).in_(sorted(keys, key=repr))


def _key_part(f: Field, raw: str) -> Any | None:
    """One key value's text as its column's type; None if no value of the column has it."""
    sa_type = f.column.type if f.column is not None else None
    try:
        if f.type == "integer":
            number = ascii_int(raw, max_digits=19, signed=True)
            low, high = _integer_range(sa_type)
            if number is None or not low <= number <= high:
                return None
            return f.check(number)
        if f.type == "number":
            return f.check(raw)
        if f.type == "boolean":
            return {"true": True, "false": False}.get(raw)
        value = f.check(raw)
        if isinstance(sa_type, Uuid) and value is not None:
            return uuid.UUID(value) if _UUID.fullmatch(value) else None
        return value
    except ValueInvalid:
        return None


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


def _column_field(column: Column[Any], in_key: bool, single_key: bool) -> Field:
    """A column's field; a key column never changes once the row exists (its
    key is its identity in URLs, topics, drafts and the change log)."""
    is_pk = in_key and single_key
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
        read_only_after_create=in_key and not (is_pk and has_default),
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
    pk: str | Sequence[str] | None = None,
) -> Resource:
    """Build a resource from ``table``'s columns, refined by ``fields`` overrides.

    The key is ``pk`` (a column name, or names in order for a composite key)
    when given, else the table's primary key (single or composite). A table
    or view with neither is served read-only and list-only (``pk`` empty).

    ``fields`` maps a column name to keyword overrides of :class:`Field`
    (``label``, ``choices``, ``pattern``, ``read_only_after_create``,
    ``protected``, ``validators``, ``relation``...).
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
    for column in table.columns:
        if column.name in skipped and column.name not in key:
            continue
        base = _column_field(column, column.name in key, len(key) == 1)
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


class Registry:
    """The resources an application serves, by name."""

    def __init__(self, resources: Iterable[Resource] = ()) -> None:
        self._by_name: dict[str, Resource] = {}
        for resource in resources:
            self.add(resource)

    def add(self, resource: Resource) -> None:
        if resource.name in self._by_name:
            raise ValueError(f"resource {resource.name!r} declared twice")
        self._by_name[resource.name] = resource
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
                            target.pk[0] if target.pk else next(iter(target.fields)),
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
    url: str,
    *,
    only: Sequence[str] | None = None,
    schema: str | None = None,
    keys: Mapping[str, str | Sequence[str]] | None = None,
) -> list[Resource]:
    """Adopt existing tables and views of the database at ``url``; views are read-only.

    A table is keyed by its primary key (single or composite). A view is
    keyed by ``keys[view]`` when given, else by the key of the one table it
    reads when it shows that key's columns under their own names; a view
    with neither is list-only. ``keys`` may name the key of a table too.

    Synchronous (SQLAlchemy's inspector): call it while building the app, or
    from a worker thread.
    """
    engine = create_engine(normalise_url(url), poolclass=NullPool)
    try:
        with engine.connect() as conn:
            metadata = MetaData(schema=schema)
            metadata.reflect(conn, only=list(only) if only else None, views=True)
            inspector = inspect(conn)
            views = set(inspector.get_view_names(schema=schema))
            views |= set(inspector.get_materialized_view_names(schema=schema))
            inferred = _view_keys(conn, schema)
    finally:
        engine.dispose()
    resources = []
    for table in metadata.sorted_tables:
        if table.name.startswith("collabadmin_") or table.name == "alembic_version":
            continue
        key = (keys or {}).get(table.name)
        if key is None and table.name in views:
            key = inferred.get(table.name)
        resource = resource_from_table(table, read_only=table.name in views, pk=key)
        if table.name in views and resource.read_only_reason is None:
            resource.read_only_reason = "A view: served read-only."
        resources.append(resource)
    return resources


# For each view (or materialized view) that reads exactly one table: that
# table, and the key columns of that table (its primary key, or a unique
# constraint over NOT NULL columns) that the view shows under their own name.
_VIEW_KEYS = """
WITH base AS (
    SELECT DISTINCT v.oid AS view_oid, v.relname AS view_name, d.refobjid AS table_oid
      FROM pg_class v
      JOIN pg_rewrite r ON r.ev_class = v.oid
      JOIN pg_depend d ON d.objid = r.oid AND d.classid = 'pg_rewrite'::regclass
                      AND d.refclassid = 'pg_class'::regclass AND d.refobjid <> v.oid
     WHERE v.relkind IN ('v', 'm')
       AND v.relnamespace = coalesce(to_regnamespace(:schema), 'public'::regnamespace)
), single AS (
    SELECT view_oid, min(view_name) AS view_name, min(table_oid::text)::oid AS table_oid
      FROM base GROUP BY view_oid HAVING count(*) = 1
)
SELECT s.view_name, array_agg(a.attname::text ORDER BY k.ord) AS key, c.contype
  FROM single s
  JOIN pg_constraint c ON c.conrelid = s.table_oid AND c.contype IN ('p', 'u')
  CROSS JOIN LATERAL unnest(c.conkey) WITH ORDINALITY AS k(attnum, ord)
  JOIN pg_attribute a ON a.attrelid = s.table_oid AND a.attnum = k.attnum
 WHERE EXISTS (SELECT 1 FROM pg_attribute va
                WHERE va.attrelid = s.view_oid AND va.attname = a.attname AND NOT va.attisdropped)
   AND (c.contype = 'p' OR a.attnotnull)
 GROUP BY s.view_name, c.oid, c.contype, cardinality(c.conkey)
HAVING count(*) = cardinality(c.conkey)
 ORDER BY s.view_name, c.contype, cardinality(c.conkey)
"""


def _view_keys(conn: Any, schema: str | None) -> dict[str, tuple[str, ...]]:
    found: dict[str, tuple[str, ...]] = {}
    for view, key, _ in conn.execute(sa_text(_VIEW_KEYS), {"schema": schema}):
        found.setdefault(str(view), tuple(key))  # the primary key first, then the shortest
    return found
