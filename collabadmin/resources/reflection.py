"""Adopt a live database as it is: every table, partitioned table and view it can serve.

:func:`adopt_database` reads the catalogue once (kinds, keys, tracking, the
server role's rights: one query for all relations), reflects the columns of
what it keeps with SQLAlchemy's batched PostgreSQL reflection, and builds
one resource per relation. Anything it cannot serve is *skipped with its
reason*, never a crash: start-up prints the list.

* collabadmin's own tables (the schema ``collabadmin``, and tables named
  like them elsewhere) and Alembic's are never resources (not even listed as
  skipped);
* a partitioned table is served once, as its parent; partitions are skipped;
* a table that is not tracked (``collabadmin db track``) is served
  read-only: writes answer 409 saying how to track it;
* views are read-only, keyed by the key of the one table they read when
  they show its columns (:func:`view_keys`) or by the configured key; a
  view without a key is list-only;
* a table without a primary key uses its narrowest unique index on NOT NULL
  columns, as ``db track`` does; without one it is read-only, with the reason.

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

from collabadmin.db import track_plan, tracking
from collabadmin.db.engine import libpq_url, normalise_url
from collabadmin.own import OWN_SCHEMA
from collabadmin.resources.columns import apply_domain_lengths, catalog_hints
from collabadmin.resources.declare import resource_from_table
from collabadmin.resources.resource import Resource, untracked_reason

__all__ = ["Adoption", "adopt_database", "view_keys"]

log = logging.getLogger("collabadmin.adopt")

PRIVILEGES = r"""
SELECT n.nspname AS schema, c.relname AS name,
       has_schema_privilege(r.rolname, n.oid, 'USAGE')
         AND has_table_privilege(r.rolname, c.oid, 'SELECT') AS readable
  FROM pg_class c
  JOIN pg_namespace n ON n.oid = c.relnamespace
  JOIN pg_roles r ON r.rolname = collabadmin.collabadmin_app_role()
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
            how = (
                "read-only, list-only: no key"
                if not r.pk
                else "read-only, not tracked"
                if r.untracked
                else "read-only"
                if r.read_only
                else ""
            )
            lines.append(f"serving {r.name}" + (f" ({how})" if how else ""))
        lines.extend(f"skipped {name}: {reason}" for name, reason in self.skipped)
        return lines


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
       AND v.relnamespace = to_regnamespace(%(schema)s)
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


def view_keys(url: str, schemas: Sequence[str]) -> dict[tuple[str, str], tuple[str, ...]]:
    """Each view's inferred key, by (schema, view): see ``_VIEW_KEYS``."""
    found: dict[tuple[str, str], tuple[str, ...]] = {}
    with psycopg.connect(libpq_url(url), autocommit=True) as conn:
        for schema in schemas:
            for view, key, _ in conn.execute(_VIEW_KEYS, {"schema": schema}):
                # The primary key first, then the shortest unique key.
                found.setdefault((schema, str(view)), tuple(key))
    return found


def _catalogue(url: str, schemas: Sequence[str]) -> tuple[list[dict[str, Any]], dict[Any, bool]]:
    with psycopg.connect(libpq_url(url), autocommit=True) as conn:
        rows = track_plan.catalogue(conn, schemas)
        readable: dict[Any, bool] = {}
        has_role = conn.execute(
            "SELECT to_regprocedure('collabadmin.collabadmin_app_role()') IS NOT NULL"
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
            " on it to the role named by collabadmin.collabadmin_app_role()"
            " (db track grants tracked tables)"
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
                filled_here, lengths = catalog_hints(conn, schema)
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
            apply_domain_lengths(table, lengths)
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


def _build(
    row: dict[str, Any],
    table: Table,
    *,
    filled: bool = False,
    inferred_key: tuple[str, ...] | None = None,
) -> Resource:
    schema, name = row["schema"], row["name"]
    resource = tracking.resource_name(schema, name)
    if row["kind"] in ("v", "m"):
        # A view without a key (declared, configured or inferred) is list-only.
        if not table.primary_key.columns and inferred_key:
            table.append_constraint(PrimaryKeyConstraint(*inferred_key))
        view = resource_from_table(table, name=resource, read_only=True, filled_by_trigger=filled)
        view.view = True
        if view.pk:
            view.read_only_reason = "A view: served read-only."
        else:
            view.read_only_reason = (
                "A view without a key (no unique column of the one table it reads, and none"
                " configured): it can be listed, not addressed."
            )
        return view
    if not table.primary_key.columns and row["unique_key"]:
        table.append_constraint(PrimaryKeyConstraint(*row["unique_key"]))
    if not table.primary_key.columns:
        # Served read-only with the reason (resource_from_table): no row can be named.
        return resource_from_table(table, name=resource, read_only=True, filled_by_trigger=filled)
    key = tuple(str(c.name) for c in table.primary_key.columns)
    if not _is_tracked(row):
        built = resource_from_table(table, name=resource, read_only=True, filled_by_trigger=filled)
        built.untracked = untracked_reason(tracking.resource_name(schema, name))
    else:
        built = resource_from_table(table, name=resource, filled_by_trigger=filled)
    assert built.pk == key
    return built


def _configured_key(table: Table, label: str, key: str | Sequence[str] | None) -> None:
    if not key:
        return
    key = [key] if isinstance(key, str) else list(key)  # one column may be named alone
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
    served = [s for s in schemas if s != OWN_SCHEMA]  # collabadmin's own, never served
    rows, readable = _catalogue(url, served)
    adoption = Adoption()
    keep: list[dict[str, Any]] = []
    for row in rows:
        if tracking.is_own(row["schema"], row["name"]):
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
    inferred = view_keys(url, list(wanted))
    for row in keep:
        label = tracking.resource_name(row["schema"], row["name"])
        table = tables.get((row["schema"], row["name"]))
        if table is None:
            adoption.skipped.append((label, "could not be reflected"))
            continue
        _configured_key(table, label, (keys or {}).get(label))
        try:
            where = (row["schema"], row["name"])
            adoption.resources.append(
                _build(row, table, filled=where in filled, inferred_key=inferred.get(where))
            )
        except _Skip as skip:
            adoption.skipped.append((label, str(skip)))
        except ValueError as exc:  # a declaration the table cannot satisfy
            log.debug("cannot serve %s", label, exc_info=True)
            adoption.skipped.append((label, f"cannot be served: {exc}"))
        except Exception as exc:
            log.warning("cannot serve %s", label, exc_info=True)
            adoption.skipped.append((label, f"cannot be served: {exc}"))
    return adoption
