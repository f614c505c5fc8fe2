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
    ARRAY,
    JSON,
    BigInteger,
    Boolean,
    Column,
    ColumnElement,
    Date,
    DateTime,
    Enum,
    Float,
    Integer,
    Interval,
    LargeBinary,
    Numeric,
    Select,
    SmallInteger,
    String,
    Table,
    Text,
    Time,
    Uuid,
    and_,
    bindparam,
    cast,
    false,
    func,
    literal,
    select,
    tuple_,
    type_coerce,
)
from sqlalchemy.dialects.postgresql import CIDR, DOMAIN, INET, INTERVAL, JSONB

from collabadmin.errors import NotFound
from collabadmin.inputs import ascii_int
from collabadmin.resources.fields import Field, Relation, ValueInvalid
from collabadmin.resources.inflect import labels_for
from collabadmin.resources.keys import decode_key, decode_url_key, encode_key, value_text
from collabadmin.resources.related import Link, links_by_target

__all__ = [
    "META_COLUMNS",
    "Registry",
    "Resource",
    "display_field",
    "reflect_resources",
    "resource_from_table",
    "untracked_reason",
]

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
    # Why the table cannot be written (no change capture): writes answer a
    # 409 with this text. A table without a version column is untracked.
    untracked: str = ""
    # The field that names a record (declared, or the config file's
    # ``display``); empty: chosen by :func:`display_field`.
    display: str = ""
    # A view: read-only, and no change events are published under its name.
    view: bool = False

    def __post_init__(self) -> None:
        if not self.read_only and not self.untracked and not self.versioned:
            self.untracked = untracked_reason(self.table.fullname)
        if self.untracked:
            self.read_only = True
        if not self.label or not self.label_plural:
            singular, plural = labels_for(self.name)
            self.label = self.label or singular
            self.label_plural = self.label_plural or plural
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
    def live(self) -> bool:
        """Whether subscribers get change events for it: a tracked, versioned table."""
        return not self.view and not self.untracked and self.versioned

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

    def pk_values(self, raw: str, *, url: bool = False) -> tuple[Any, ...] | None:
        """A key written as text (URLs, the change log, drafts) as the columns' types; or None.

        Compare the typed values with the key columns, never the columns cast
        to text: ``CAST(id AS text) = '42'`` cannot use the primary key index.
        Anything that cannot be a key (wrong number of parts, non-ASCII
        digits, an integer beyond the column's range, text that is not a
        UUID for a ``uuid`` column) is None, which callers answer with 404:
        no such record can exist, and the database must never be asked (it
        would answer with a type error, a 422 that says more than "not found").
        """
        n = len(self.pk)
        parts = decode_url_key(raw, n) if url else decode_key(raw, n)
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
                parts.append(cast(column, Text))  # the same digits either way
                continue
            parts.append(type_coerce(func.to_jsonb(column).op("#>>")(literal("{}", Text)), Text))
        if len(parts) == 1:
            return type_coerce(parts[0], Text)
        # collabadmin.collabadmin_key_part: the trigger's own encoding of one value.
        encoded = [func.collabadmin.collabadmin_key_part(p) for p in parts]
        return type_coerce(func.concat_ws(",", *encoded), Text)

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


def display_field(resource: Resource) -> str:
    """The field that names a record of ``resource`` in the UI and in links to it.

    The declared (or configured) ``display`` when it is served; else ``name``,
    ``title``, the first short text field, or the key.
    """
    if resource.display in resource.fields:
        return resource.display
    for candidate in ("name", "title"):
        if candidate in resource.fields:
            return candidate
    fallback = resource.pk[0] if resource.pk else next(iter(resource.fields))
    return next((n for n, f in resource.fields.items() if f.type == "string"), fallback)


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
        if f.type == "uuid" or isinstance(sa_type, Uuid):
            return uuid.UUID(raw) if _UUID.fullmatch(raw) else None
        if f.type == "boolean":
            return {"true": True, "false": False}.get(raw)
        return f.check(raw)
    except ValueInvalid:
        return None


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


def _scalar_type(sa_type: Any) -> dict[str, Any]:
    """Field settings for a column (or array element) of SQLAlchemy type ``sa_type``."""
    if isinstance(sa_type, DOMAIN):
        # A domain is its base type; its CHECK stays the database's to enforce
        # (a violation is a 422 naming the field), NOT NULL shows as required.
        return _scalar_type(sa_type.data_type)
    if isinstance(sa_type, Boolean):
        return {"type": "boolean"}
    if isinstance(sa_type, Integer):
        return {"type": "integer", "bounds": _integer_range(sa_type)}
    if isinstance(sa_type, Float):
        return {"type": "float"}
    if isinstance(sa_type, Numeric):
        return {"type": "decimal", "digits": (sa_type.precision, sa_type.scale)}
    if isinstance(sa_type, DateTime):
        return {"type": "datetime", "timezone": bool(sa_type.timezone)}
    if isinstance(sa_type, Date):
        return {"type": "date"}
    if isinstance(sa_type, Time):
        return {"type": "time"}
    if isinstance(sa_type, Interval | INTERVAL):
        return {"type": "duration"}
    if isinstance(sa_type, Uuid):
        return {"type": "uuid"}
    if isinstance(sa_type, JSON | JSONB):
        return {"type": "json"}
    if isinstance(sa_type, LargeBinary):
        return {"type": "binary"}
    if isinstance(sa_type, Enum) and sa_type.enums:
        return {"type": "string", "choices": tuple(sa_type.enums), "db_enum": True}
    if isinstance(sa_type, INET | CIDR):
        kind = "inet" if isinstance(sa_type, INET) else "cidr"
        return {"type": "string", "format": kind}
    if isinstance(sa_type, Text):
        return {"type": "text"}
    if isinstance(sa_type, String):
        length = sa_type.length
        return {"type": "string", "max_length": length} if length else {"type": "text"}
    # tsvector, ranges, geometric and other types: shown as their text, never written.
    return {"type": "string", "format": "unsupported", "read_only": True}


def _field_type(column: Column[Any]) -> dict[str, Any]:
    sa_type = column.type
    if isinstance(sa_type, ARRAY):
        element = _scalar_type(sa_type.item_type)
        if element.get("read_only") or element["type"] == "json" or element.get("db_enum"):
            # Arrays of enums, of json or of unsupported types travel as read-only text.
            return {"type": "string", "format": "unsupported", "read_only": True}
        settings = {k: v for k, v in element.items() if k not in ("type", "max_length")}
        return {**settings, "type": "array", "items": element["type"]}
    return _scalar_type(sa_type)


def _column_field(
    column: Column[Any], in_key: bool, single_key: bool, *, filled_by_trigger: bool = False
) -> Field:
    """A column's field; a key column never changes once the row exists (its
    key is its identity in URLs, topics, drafts and the change log)."""
    is_pk = in_key and single_key
    settings = _field_type(column)
    generated = column.computed is not None
    has_default = (
        column.server_default is not None
        or column.default is not None
        or column.identity is not None
        or generated
        or (is_pk and column.autoincrement in (True, "auto") and settings["type"] == "integer")
    )
    # A NOT NULL column with no default may still be filled by a BEFORE
    # INSERT trigger; that cannot be told from the catalog, so on a table
    # with such a trigger no column is required (the database still says
    # NOT NULL, as a 422 naming the field, when the trigger did not fill it).
    required = not column.nullable and not has_default and not filled_by_trigger
    relation = None
    for fk in column.foreign_keys:
        relation = Relation(resource=str(fk.column.table.name))
    read_only = bool(settings.pop("read_only", False)) or generated or (is_pk and has_default)
    return Field(
        name=str(column.name),
        required=required and not read_only,
        nullable=bool(column.nullable),
        read_only=read_only,
        read_only_after_create=in_key and not read_only,
        relation=relation,
        has_default=has_default or filled_by_trigger or read_only,
        column=column,
        **settings,
    )


def _domains_as_base_types(table: Table) -> None:
    """Give domain columns their base type: what SQL compares and casts them as.

    (SQLAlchemy's DOMAIN type has no comparison operators of its own.) The
    domain's CHECK and NOT NULL stay in the database, which enforces them.
    """
    for column in table.columns:
        if isinstance(column.type, DOMAIN):
            column.type = column.type.data_type
        elif isinstance(column.type, ARRAY) and isinstance(column.type.item_type, DOMAIN):
            column.type = ARRAY(column.type.item_type.data_type)


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
    _domains_as_base_types(table)
    for column in table.columns:
        if column.name in skipped and column.name not in key:
            continue
        base = _column_field(
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
        self._links: dict[str, tuple[Link, ...]] = {}
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
                    display = display_field(target)
                f.relation = Relation(resource=target.name, display=display)
        self._links = links_by_target(self._by_name.values())

    def links(self, name: str) -> tuple[Link, ...]:
        """The reverse and many-to-many links to resource ``name`` (every user's; filter them)."""
        return self._links.get(name, ())

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


# BEFORE INSERT row triggers of the application (tgtype bits: 1 ROW, 2 BEFORE, 4 INSERT).
_FILLING_TRIGGERS = """
SELECT DISTINCT c.relname
  FROM pg_trigger t
  JOIN pg_class c ON c.oid = t.tgrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE NOT t.tgisinternal AND t.tgtype & 7 = 7 AND t.tgname NOT LIKE 'collabadmin%%'
    AND t.tgname <> 'zz_collabadmin_version'
   AND n.nspname = coalesce(%(schema)s, current_schema())
"""
# Domains over varchar(n)/char(n): the reflected base type loses n.
_DOMAIN_LENGTHS = """
SELECT t.typname, t.typtypmod - 4 AS length
  FROM pg_type t
 WHERE t.typtype = 'd' AND t.typtypmod > 4
   AND t.typbasetype IN ('varchar'::regtype, 'bpchar'::regtype)
"""


def _catalog_hints(conn: Any, schema: str | None) -> tuple[set[str], dict[str, int]]:
    """Tables with a user BEFORE INSERT trigger, and the lengths of varchar domains."""
    raw = conn.connection.dbapi_connection
    with raw.cursor() as cursor:
        cursor.execute(_FILLING_TRIGGERS, {"schema": schema})
        filled = {str(row[0]) for row in cursor.fetchall()}
        cursor.execute(_DOMAIN_LENGTHS)
        lengths = {str(row[0]): int(row[1]) for row in cursor.fetchall()}
    return filled, lengths


def _apply_domain_lengths(table: Table, lengths: Mapping[str, int]) -> None:
    for column in table.columns:
        sa_type = column.type
        if not isinstance(sa_type, DOMAIN) or sa_type.name is None:
            continue
        length = lengths.get(sa_type.name)
        if length and isinstance(sa_type.data_type, String) and not sa_type.data_type.length:
            sa_type.data_type = String(length)
