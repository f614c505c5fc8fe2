"""Resources: what an application serves, and the registry of them.

A :class:`Resource` names a table, its primary key and the fields it
exposes; the :class:`Registry` holds an application's resources by name and
resolves the relations between them. Resources are built from tables by
:mod:`~collabadmin.resources.declare` (by declaration or reflection).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Column,
    ColumnElement,
    Integer,
    Select,
    Table,
    Text,
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

from collabadmin.errors import NotFound
from collabadmin.inputs import ascii_int
from collabadmin.resources.columns import UUID_TEXT, integer_range
from collabadmin.resources.fields import Field, Relation, ValueInvalid
from collabadmin.resources.inflect import labels_for
from collabadmin.resources.keys import decode_key, decode_url_key, encode_key, value_text
from collabadmin.resources.record_actions import RecordActionDecl, check_record_actions
from collabadmin.resources.related import Link, links_by_target

__all__ = [
    "META_COLUMNS",
    "Registry",
    "Resource",
    "display_field",
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
    # A view: read-only, and no change events are published under its name...
    view: bool = False
    # ...unless it is a live view (collabadmin.views): its rows are read from
    # the copy collabadmin keeps (``table``), and the rows that move are
    # published as derived changes, which are not audit entries.
    derived: bool = False
    # The resource whose records a live view's rows describe, key for key
    # (a course's overview): the web app shows the row on the record's page.
    describes: str | None = None
    # Buttons on its records (resources/record_actions.py), in the order shown.
    record_actions: tuple[RecordActionDecl, ...] = ()

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
        if self.record_actions:
            check_record_actions(self, self.record_actions)

    @property
    def soft_delete(self) -> bool:
        return "deleted_at" in self.table.c

    @property
    def versioned(self) -> bool:
        return "version" in self.table.c

    @property
    def live(self) -> bool:
        """Whether subscribers get change events: a tracked, versioned table, or a live view."""
        return self.derived or (not self.view and not self.untracked and self.versioned)

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

    def record_action(self, name: str) -> RecordActionDecl:
        """The record action called ``name``; 404 when the resource has none by that name."""
        for action in self.record_actions:
            if action.name == name:
                return action
        raise NotFound(f"{self.label_plural} have no action named {name!r}.")

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
            low, high = integer_range(sa_type)
            if number is None or not low <= number <= high:
                return None
            return f.check(number)
        if f.type == "uuid" or isinstance(sa_type, Uuid):
            return uuid.UUID(raw) if UUID_TEXT.fullmatch(raw) else None
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
