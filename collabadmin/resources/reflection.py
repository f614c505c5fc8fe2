"""Adopt a live database as it is: every table, partitioned table and view it can serve.

:func:`adopt_database` reads the catalogue once (kinds, keys, tracking, the
server role's rights: one query for all relations), reflects the columns of
what it keeps with SQLAlchemy's batched PostgreSQL reflection, and builds
one resource per relation. Anything it cannot serve is *skipped with its
reason*, never a crash: start-up prints the list.

* collabadmin's own tables and Alembic's are never resources (not even
  listed as skipped);
* a partitioned table is served once, as its parent; partitions are skipped;
* a table that is not tracked (``collabadmin db track``) is served
  read-only: writes answer 409 saying how to track it;
* views are read-only; a view needs a usable key (an ``id`` column today,
  see :func:`view_key`), or it is skipped with the reason;
* a table without a primary key uses its narrowest unique index on NOT NULL
  columns, as ``db track`` does.

Unsupported column types do not skip a table: they are left to the field
mapping (``resources.fields``).
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import psycopg
from sqlalchemy import (
    CheckConstraint,
    Column,
    Computed,
    DefaultClause,
    ForeignKeyConstraint,
    Identity,
    MetaData,
    PrimaryKeyConstraint,
    Table,
    UniqueConstraint,
    create_engine,
    inspect,
    text,
)
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine.reflection import ObjectKind
from sqlalchemy.pool import NullPool

from collabadmin.db import tracking
from collabadmin.db.engine import libpq_url, normalise_url
from collabadmin.resources.resource import (
    Resource,
    _apply_domain_lengths,
    _catalog_hints,
    resource_from_table,
    untracked_reason,
)

__all__ = ["Adoption", "adopt_database", "view_key"]

log = logging.getLogger("collabadmin.adopt")

PRIVILEGES = r"""
SELECT n.nspname AS schema, c.relname AS name,
       has_schema_privilege(r.rolname, n.oid, 'USAGE')
         AND has_table_privilege(r.rolname, c.oid, 'SELECT') AS readable
  FROM pg_class c
  JOIN pg_namespace n ON n.oid = c.relnamespace
  JOIN pg_roles r ON r.rolname = collabadmin_app_role()
 WHERE n.nspname = ANY(%(schemas)s) AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
"""


@dataclass(slots=True)
class Adoption:
    """What adopting a database serves, and what it skipped with why."""

    resources: list[Resource] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)

    def summary(self) -> list[str]:
        """Lines for start-up output."""
        lines = []
        for r in self.resources:
            how = "read-only, not tracked" if r.untracked else "read-only" if r.read_only else ""
            lines.append(f"serving {r.name}" + (f" ({how})" if how else ""))
        lines.extend(f"skipped {name}: {reason}" for name, reason in self.skipped)
        return lines


def view_key(table: Table) -> tuple[str, ...] | None:
    """The key a view is served by, or None (skipped until views' keys are configurable).

    Stub of the keys work: a column named ``id``.
    """
    return ("id",) if "id" in table.c else None


def _catalogue(url: str, schemas: Sequence[str]) -> tuple[list[dict[str, Any]], dict[Any, bool]]:
    with psycopg.connect(libpq_url(url), autocommit=True) as conn:
        rows = tracking.catalogue(conn, schemas)
        readable: dict[Any, bool] = {}
        has_role = conn.execute(
            "SELECT to_regprocedure('collabadmin_app_role()') IS NOT NULL"
        ).fetchone()
        if has_role and has_role[0]:
            for schema, name, ok in conn.execute(PRIVILEGES, {"schemas": list(schemas)}):
                readable[(schema, name)] = bool(ok)
    return rows, readable


def _skip_reason(row: dict[str, Any], readable: dict[Any, bool]) -> str | None:
    if row["kind"] == "f":
        return "a foreign table: not served"
    if row["partition"]:
        return f"a partition of {row['parent']}: served as {row['parent']}"
    if readable.get((row["schema"], row["name"])) is False:
        return (
            "collabadmin's server role may not read it: GRANT USAGE on its schema and SELECT"
            " on it to the role named by collabadmin_app_role() (db track grants tracked tables)"
        )
    return None


def _is_tracked(row: dict[str, Any]) -> bool:
    triggers = set(row["our_triggers"] or ())
    return {tracking.CAPTURE_TRIGGER, tracking.VERSION_TRIGGER} <= triggers or {
        tracking.CAPTURE_TRIGGER,
        "collabadmin_version",
    } <= triggers


def _reflect(
    url: str, wanted: dict[str, list[str]]
) -> tuple[dict[tuple[str, str], Table], set[tuple[str, str]]]:
    """Columns, keys, foreign keys, unique and check constraints of the wanted relations.

    The inspector's batched ``get_multi_*`` queries (one per kind of object
    for the whole schema, so the column types are exactly SQLAlchemy's
    reflection's), then plain ``Table`` construction: ``MetaData.reflect``
    spent 80% of a 500-table adoption in per-column reflection events.
    """
    engine = create_engine(normalise_url(url), poolclass=NullPool)
    found: dict[tuple[str, str], Table] = {}
    metadata = MetaData()
    try:
        with engine.connect() as conn, warnings.catch_warnings():
            # Types SQLAlchemy does not know (xid8, tsvector...) become NullType
            # columns; the field mapping decides what to do with them.
            warnings.simplefilter("ignore", sa_exc.SAWarning)
            inspector = inspect(conn)
            described = {}
            filled: set[tuple[str, str]] = set()
            lengths: dict[str, int] = {}
            for schema, names in wanted.items():
                target = None if schema == tracking.DEFAULT_SCHEMA else schema
                # Tables the application's BEFORE INSERT triggers fill, varchar domains.
                filled_here, lengths = _catalog_hints(conn, schema)
                filled |= {(schema, name) for name in filled_here}
                kinds = ObjectKind.ANY
                described[schema] = (
                    target,
                    inspector.get_multi_columns(schema=target, filter_names=names, kind=kinds),
                    inspector.get_multi_pk_constraint(
                        schema=target, filter_names=names, kind=kinds
                    ),
                    inspector.get_multi_foreign_keys(schema=target, filter_names=names, kind=kinds),
                    inspector.get_multi_unique_constraints(
                        schema=target, filter_names=names, kind=kinds
                    ),
                    inspector.get_multi_check_constraints(
                        schema=target, filter_names=names, kind=kinds
                    ),
                )
    finally:
        engine.dispose()
    for schema, (target, columns, pks, _, _, _) in described.items():
        for (_, name), cols in columns.items():
            table = _table(metadata, target, name, cols, pks.get((target, name)))
            _apply_domain_lengths(table, lengths)
            found[(schema, name)] = table
    # Constraints once every table exists: a foreign key names its target table.
    for schema, (target, _, _, fks, uniques, checks) in described.items():
        for (_, name), table_fks in fks.items():
            owner = found.get((schema, name))
            if owner is not None:
                _constraints(
                    metadata,
                    owner,
                    table_fks,
                    uniques.get((target, name)),
                    checks.get((target, name)),
                )
    return found, filled


def _table(
    metadata: MetaData,
    schema: str | None,
    name: str,
    columns: Sequence[Any],
    pk: Any,
) -> Table:
    built = []
    for col in columns:
        args: list[Any] = []
        if col.get("default") is not None:
            args.append(DefaultClause(text(col["default"]), _reflected=True))
        if "computed" in col:
            args.append(Computed(**col["computed"]))
        if "identity" in col:
            args.append(Identity(**col["identity"]))
        kw = {k: col[k] for k in ("nullable", "autoincrement", "comment") if k in col}
        built.append(Column(col["name"], col["type"], *args, **kw))
    key = tuple(pk["constrained_columns"]) if pk and pk.get("constrained_columns") else ()
    extra = [PrimaryKeyConstraint(*key, name=pk.get("name"))] if key else []
    return Table(name, metadata, *built, *extra, schema=schema)


def _constraints(
    metadata: MetaData, table: Table, fks: Sequence[Any], uniques: Any, checks: Any
) -> None:
    for fk in fks:
        referred = fk["referred_table"]
        if fk.get("referred_schema"):
            referred = f"{fk['referred_schema']}.{referred}"
        if referred not in metadata.tables:
            continue  # its target is not adopted: the column stays a plain value
        table.append_constraint(
            ForeignKeyConstraint(
                fk["constrained_columns"],
                [f"{referred}.{c}" for c in fk["referred_columns"]],
                name=fk.get("name"),
                link_to_name=True,
            )
        )
    for unique in uniques or ():
        table.append_constraint(UniqueConstraint(*unique["column_names"], name=unique.get("name")))
    for check in checks or ():
        table.append_constraint(CheckConstraint(text(check["sqltext"]), name=check.get("name")))


def _build(row: dict[str, Any], table: Table, *, filled: bool = False) -> Resource:
    schema, name = row["schema"], row["name"]
    resource = tracking.resource_name(schema, name)
    if row["kind"] in ("v", "m"):
        key = tuple(str(c.name) for c in table.primary_key.columns) or view_key(table)
        if key is None:
            raise _Skip("a view without a usable key (no id column): not served")
        if not table.primary_key.columns:
            table.append_constraint(PrimaryKeyConstraint(*key))
        return resource_from_table(table, name=resource, read_only=True, filled_by_trigger=filled)
    if not table.primary_key.columns and row["unique_key"]:
        table.append_constraint(PrimaryKeyConstraint(*row["unique_key"]))
    if not table.primary_key.columns:
        raise _Skip("no primary key and no unique index on NOT NULL columns")
    key = tuple(str(c.name) for c in table.primary_key.columns)
    try:
        if not _is_tracked(row):
            built = resource_from_table(
                table, name=resource, read_only=True, filled_by_trigger=filled
            )
            built.untracked = untracked_reason(tracking.resource_name(schema, name))
        else:
            built = resource_from_table(table, name=resource, filled_by_trigger=filled)
    except ValueError:
        if len(key) > 1:
            raise _Skip(_composite(key)) from None
        raise
    return _keyed_as(built, key)


def _composite(key: tuple[str, ...]) -> str:
    return f"composite key ({', '.join(key)}): not served by this version"


def _keyed_as(built: Resource, key: tuple[str, ...]) -> Resource:
    """``built`` if it is keyed by ``key``; a resource keyed otherwise would write wrong rows."""
    pk: Any = built.pk
    served = (pk,) if isinstance(pk, str) else tuple(pk)
    if served != key:
        raise _Skip(_composite(key))
    return built


def _configured_key(table: Table, label: str, key: Sequence[str] | None) -> None:
    if not key:
        return
    missing = [name for name in key if name not in table.c]
    if missing:
        raise ValueError(f"resources.{label}.key: no columns {', '.join(missing)}")
    table.append_constraint(PrimaryKeyConstraint(*(table.c[name] for name in key)))


class _Skip(Exception):
    """A relation that cannot be served, with the reason."""


def adopt_database(
    url: str,
    schemas: Sequence[str] = (tracking.DEFAULT_SCHEMA,),
    *,
    only: Sequence[str] | None = None,
    keys: Mapping[str, Sequence[str]] | None = None,
    progress: Callable[[str], None] | None = None,
) -> Adoption:
    """Resources for every relation of ``schemas`` that can be served; the rest skipped.

    ``keys`` (the config file's ``key``, by resource name) names the key of a
    table or view the database declares none for; naming a column it lacks
    is a ValueError (a mistake in the file, not a shape to skip).

    Synchronous: call it while building the app, or from a worker thread.
    """
    rows, readable = _catalogue(url, schemas)
    adoption = Adoption()
    keep: list[dict[str, Any]] = []
    for row in rows:
        if tracking.is_own_table(row["name"]):
            continue
        if only is not None and row["name"] not in only:
            continue
        reason = _skip_reason(row, readable)
        label = tracking.resource_name(row["schema"], row["name"])
        if reason:
            adoption.skipped.append((label, reason))
        else:
            keep.append(row)
    wanted: dict[str, list[str]] = {}
    for row in keep:
        wanted.setdefault(row["schema"], []).append(row["name"])
    if progress:
        progress(f"reflecting {len(keep)} tables and views")
    tables, filled = _reflect(url, wanted)
    for row in keep:
        label = tracking.resource_name(row["schema"], row["name"])
        table = tables.get((row["schema"], row["name"]))
        if table is None:
            adoption.skipped.append((label, "could not be reflected"))
            continue
        _configured_key(table, label, (keys or {}).get(label))
        try:
            where = (row["schema"], row["name"])
            adoption.resources.append(_build(row, table, filled=where in filled))
        except _Skip as skip:
            adoption.skipped.append((label, str(skip)))
        except ValueError as exc:  # a declaration the table cannot satisfy
            log.debug("cannot serve %s", label, exc_info=True)
            adoption.skipped.append((label, f"cannot be served: {exc}"))
        except Exception as exc:
            log.warning("cannot serve %s", label, exc_info=True)
            adoption.skipped.append((label, f"cannot be served: {exc}"))
    return adoption
