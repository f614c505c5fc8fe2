"""From columns to fields: each SQLAlchemy column type as a field of the API.

:func:`column_field` reads a column's type, nullability, default, length and
foreign key; domains are their base type (their CHECK stays the database's to
enforce), and types the API cannot carry are shown as read-only text. The
catalog knows two things reflection loses, read by :func:`catalog_hints`:
the length of a varchar domain, and which tables fill columns with a BEFORE
INSERT trigger of their own.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from sqlalchemy import (
    ARRAY,
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Enum,
    Float,
    Integer,
    Interval,
    LargeBinary,
    Numeric,
    SmallInteger,
    String,
    Table,
    Text,
    Time,
    Uuid,
)
from sqlalchemy.dialects.postgresql import CIDR, DOMAIN, INET, INTERVAL, JSONB

from collabadmin.resources.fields import Field, Relation

__all__ = [
    "UUID_TEXT",
    "apply_domain_lengths",
    "catalog_hints",
    "column_field",
    "domains_as_base_types",
    "integer_range",
]

UUID_TEXT = re.compile(r"[0-9a-fA-F]{8}-?(?:[0-9a-fA-F]{4}-?){3}[0-9a-fA-F]{12}", re.ASCII)


def integer_range(sa_type: Any) -> tuple[int, int]:
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
        return {"type": "integer", "bounds": integer_range(sa_type)}
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


def column_field(
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


def domains_as_base_types(table: Table) -> None:
    """Give domain columns their base type: what SQL compares and casts them as.

    (SQLAlchemy's DOMAIN type has no comparison operators of its own.) The
    domain's CHECK and NOT NULL stay in the database, which enforces them.
    """
    for column in table.columns:
        if isinstance(column.type, DOMAIN):
            column.type = column.type.data_type
        elif isinstance(column.type, ARRAY) and isinstance(column.type.item_type, DOMAIN):
            column.type = ARRAY(column.type.item_type.data_type)


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


def catalog_hints(conn: Any, schema: str | None) -> tuple[set[str], dict[str, int]]:
    """Tables with a user BEFORE INSERT trigger, and the lengths of varchar domains."""
    raw = conn.connection.dbapi_connection
    with raw.cursor() as cursor:
        cursor.execute(_FILLING_TRIGGERS, {"schema": schema})
        filled = {str(row[0]) for row in cursor.fetchall()}
        cursor.execute(_DOMAIN_LENGTHS)
        lengths = {str(row[0]): int(row[1]) for row in cursor.fetchall()}
    return filled, lengths


def apply_domain_lengths(table: Table, lengths: Mapping[str, int]) -> None:
    for column in table.columns:
        sa_type = column.type
        if not isinstance(sa_type, DOMAIN) or sa_type.name is None:
            continue
        length = lengths.get(sa_type.name)
        if length and isinstance(sa_type.data_type, String) and not sa_type.data_type.length:
            sa_type.data_type = String(length)
