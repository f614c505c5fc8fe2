"""Attach collabadmin's change capture to a table: from the CLI or a migration.

Tracking a table adds ``version`` and ``deleted_at`` when missing and installs
two row triggers calling the functions of collabadmin's core migrations
(latest bodies in ``0012_capture_keeps_row_counts``):

* ``zz_collabadmin_version`` (BEFORE INSERT OR UPDATE) sets ``version`` to 1
  on insert and raises it by exactly one when an UPDATE changes the row. A
  row the UPDATE leaves as it was keeps its version and is *not* cancelled
  (existing clients still see their row counts). A statement that writes
  ``version`` to anything else is refused (SQLSTATE 23514, constraint
  ``collabadmin_version``). PostgreSQL fires BEFORE triggers in name order;
  the ``zz_`` prefix makes it see the row after the application's own
  BEFORE triggers have changed it.
* ``collabadmin_capture`` (AFTER INSERT OR UPDATE OR DELETE) writes exactly
  one change-log entry per row change in the same transaction and wakes the
  hub with a tiny NOTIFY. Its arguments are the resource name and the key
  column(s); the entry's ``pk`` is the key in the API's URL form (see
  :func:`key_text`).

The triggers name the functions qualified (``collabadmin.collabadmin_capture``,
see :mod:`collabadmin.own`); PostgreSQL resolves them to OIDs once, when
the trigger is created. The schema ``collabadmin`` itself is never tracked.

Doing this in triggers, not in the ORM, is what makes psql sessions, bulk
SQL and other services impossible to miss.

:func:`plan` inspects tables in the catalogue and decides, per table, what
tracking would do or why it must not (no usable key, a view, a foreign
table, a ``version`` column of another type...); :func:`apply` runs a plan
table by table, each in its own short transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol
from urllib.parse import quote

import psycopg

from collabadmin.own import OWN_SCHEMA

__all__ = [
    "VERSION_TRIGGER",
    "OwnSchemaError",
    "TablePlan",
    "apply",
    "is_own",
    "key_text",
    "plan",
    "resource_name",
    "track_table",
    "tracking_sql",
    "untrack_table",
    "untracking_sql",
]

VERSION_TRIGGER = "zz_collabadmin_version"
CAPTURE_TRIGGER = "collabadmin_capture"
_OLD_VERSION_TRIGGER = "collabadmin_version"
DEFAULT_SCHEMA = "public"
# collabadmin's own tables and Alembic's are never tracked nor served: the
# schema collabadmin, and for safety the names collabadmin's tables had
# before they moved there (a database not yet upgraded, a copy someone made).
OWN_PREFIX = "collabadmin_"
OWN_TABLES = frozenset({"alembic_version"})
LOCK_TIMEOUT = "5s"


class OwnSchemaError(ValueError):
    """The schema named is collabadmin's own: it is never tracked, untracked nor served."""

    def __init__(self, what: str) -> None:
        super().__init__(
            f"schema {OWN_SCHEMA} holds collabadmin's own tables and functions: {what}"
        )


class _Executes(Protocol):
    def execute(self, sqltext: str) -> object: ...


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _qualified(table: str, schema: str | None) -> str:
    return f"{_ident(schema)}.{_ident(table)}" if schema else _ident(table)


def resource_name(schema: str, table: str) -> str:
    """The resource a table is served as: its name, schema-qualified outside ``public``."""
    return table if schema == DEFAULT_SCHEMA else f"{schema}.{table}"


def key_text(values: Sequence[Any]) -> str:
    """A row key as the change log and URLs write it (the capture trigger's encoding).

    One column: its text. Several: each value percent-encoded as
    ``quote(value, safe="")`` (every byte but ``A-Z a-z 0-9 - . _ ~``), joined
    by ``,``.
    """
    if len(values) == 1:
        return str(values[0])
    return ",".join(quote(str(v), safe="") for v in values)


def is_own_table(name: str) -> bool:
    return name.startswith(OWN_PREFIX) or name in OWN_TABLES


def is_own(schema: str, name: str) -> bool:
    """One of collabadmin's own relations (or named like one): never tracked nor served."""
    return schema == OWN_SCHEMA or is_own_table(name)


def tracking_sql(
    table: str,
    *,
    resource: str | None = None,
    pk: str | Sequence[str] = "id",
    schema: str | None = None,
    functions_schema: str | None = OWN_SCHEMA,
) -> list[str]:
    """The statements that make ``table`` tracked (idempotent).

    ``functions_schema`` qualifies the trigger functions' names. Migrations
    written before ``0013_own_schema`` pass None: unqualified names, resolved
    by the migration connection's search_path, exactly as they always were
    (on a fresh database they may run before the functions move).
    """
    t = _qualified(table, schema)
    res = _literal(resource or (resource_name(schema, table) if schema else table))
    keys = [pk] if isinstance(pk, str) else list(pk)
    args = ", ".join([res, *(_literal(k) for k in keys)])
    where = f"{functions_schema}." if functions_schema else ""
    return [
        f"ALTER TABLE {t} ADD COLUMN IF NOT EXISTS version integer NOT NULL DEFAULT 1",
        f"ALTER TABLE {t} ADD COLUMN IF NOT EXISTS deleted_at timestamptz",
        *_drop_triggers(t),
        f"CREATE TRIGGER {VERSION_TRIGGER} BEFORE INSERT OR UPDATE ON {t}"
        f" FOR EACH ROW EXECUTE FUNCTION {where}collabadmin_bump_version()",
        f"CREATE TRIGGER {CAPTURE_TRIGGER} AFTER INSERT OR UPDATE OR DELETE ON {t}"
        f" FOR EACH ROW EXECUTE FUNCTION {where}collabadmin_capture({args})",
    ]


def _drop_triggers(t: str) -> list[str]:
    return [
        f"DROP TRIGGER IF EXISTS {CAPTURE_TRIGGER} ON {t}",
        f"DROP TRIGGER IF EXISTS {VERSION_TRIGGER} ON {t}",
        f"DROP TRIGGER IF EXISTS {_OLD_VERSION_TRIGGER} ON {t}",
    ]


def untracking_sql(table: str, *, schema: str | None = None) -> list[str]:
    """Remove the triggers; the columns stay (drop them yourself, see docs/adopting.md)."""
    return _drop_triggers(_qualified(table, schema))


def _op() -> _Executes:
    from alembic import op  # noqa: PLC0415 - only inside a migration

    return op


def track_table(
    table: str,
    *,
    resource: str | None = None,
    pk: str | Sequence[str] = "id",
    schema: str | None = None,
    functions_schema: str | None = OWN_SCHEMA,
) -> None:
    """Alembic helper: call inside ``upgrade()`` of a migration.

    ``functions_schema``: see :func:`tracking_sql` (None only in the
    migrations written before ``0013_own_schema``).
    """
    op = _op()
    statements = tracking_sql(
        table, resource=resource, pk=pk, schema=schema, functions_schema=functions_schema
    )
    for statement in statements:
        op.execute(statement)


def untrack_table(table: str, *, schema: str | None = None) -> None:
    """Alembic helper for ``downgrade()``: removes the triggers, keeps the columns."""
    op = _op()
    for statement in untracking_sql(table, schema=schema):
        op.execute(statement)


# -- planning from the catalogue -------------------------------------------

Outcome = Literal["track", "tracked", "untrack", "untracked", "refused"]

_KINDS = {
    "r": "table",
    "p": "partitioned table",
    "v": "view",
    "m": "materialized view",
    "f": "foreign table",
    "S": "sequence",
    "i": "index",
    "I": "index",
    "c": "composite type",
    "t": "TOAST table",
}

# One row per relation of the schemas asked for: its kind, its key (the
# primary key, else the narrowest valid, non-partial unique index on plain
# NOT NULL columns), what it has of collabadmin's columns and triggers, and
# the application's BEFORE row triggers that would fire after ours.
CATALOGUE = r"""
SELECT n.nspname AS schema, c.relname AS name, c.relkind AS kind, c.relispartition AS partition,
       (SELECT p.relname FROM pg_inherits h JOIN pg_class p ON p.oid = h.inhparent
         WHERE h.inhrelid = c.oid LIMIT 1) AS parent,
       (SELECT array_agg(a.attname::text ORDER BY k.n)
          FROM pg_index i
          CROSS JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, n)
          JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
         WHERE i.indrelid = c.oid AND i.indisprimary) AS primary_key,
       (SELECT array_agg(a.attname::text ORDER BY k.n)
          FROM (SELECT i.indexrelid, i.indrelid, i.indkey
                  FROM pg_index i
                 WHERE i.indrelid = c.oid AND i.indisunique AND i.indisvalid
                   AND i.indpred IS NULL AND i.indexprs IS NULL
                   AND NOT EXISTS (SELECT 1 FROM unnest(i.indkey::int2[]) AS u(attnum)
                                     JOIN pg_attribute a ON a.attrelid = i.indrelid
                                                        AND a.attnum = u.attnum
                                    WHERE NOT a.attnotnull)
                 ORDER BY i.indnatts, i.indexrelid::regclass::text
                 LIMIT 1) i
          CROSS JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, n)
          JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum) AS unique_key,
       (SELECT format_type(a.atttypid, a.atttypmod) || CASE WHEN a.attnotnull THEN '' ELSE '?' END
                || CASE WHEN a.attgenerated <> '' OR a.attidentity <> '' THEN '!' ELSE '' END
          FROM pg_attribute a
         WHERE a.attrelid = c.oid AND a.attname = 'version' AND NOT a.attisdropped) AS version_type,
       (SELECT format_type(a.atttypid, a.atttypmod)
                || CASE WHEN a.attgenerated <> '' THEN '!' ELSE '' END
          FROM pg_attribute a
         WHERE a.attrelid = c.oid AND a.attname = 'deleted_at' AND NOT a.attisdropped)
         AS deleted_at_type,
       (SELECT array_agg(t.tgname::text ORDER BY t.tgname)
          FROM pg_trigger t
         WHERE t.tgrelid = c.oid AND NOT t.tgisinternal
           AND t.tgname IN ('zz_collabadmin_version', 'collabadmin_version',
                            'collabadmin_capture')) AS our_triggers,
       (SELECT encode(t.tgargs, 'escape')
          FROM pg_trigger t
         WHERE t.tgrelid = c.oid AND t.tgname = 'collabadmin_capture') AS capture_args,
       (SELECT array_agg(t.tgname::text ORDER BY t.tgname)
          FROM pg_trigger t
         WHERE t.tgrelid = c.oid AND NOT t.tgisinternal
           AND t.tgtype & 1 = 1 AND t.tgtype & 2 = 2      -- ROW, BEFORE
           AND t.tgname::text COLLATE "C" > 'zz_collabadmin_version'
           AND t.tgname <> 'zz_collabadmin_version') AS later_triggers
  FROM pg_class c
  JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = ANY(%(schemas)s)
   AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
 ORDER BY n.nspname, c.relname
"""


@dataclass(slots=True)
class TablePlan:
    """What tracking (or untracking) does to one table, or why it does not."""

    schema: str
    table: str
    outcome: Outcome
    reason: str = ""
    key: tuple[str, ...] = ()
    adds_columns: tuple[str, ...] = ()
    statements: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    error: str = ""

    @property
    def qualified(self) -> str:
        if self.schema == DEFAULT_SCHEMA:
            return self.table if self.table == self.table.lower() else _ident(self.table)
        return _qualified(self.table, self.schema)

    def describe(self, *, dry_run: bool = False) -> str:
        name = self.qualified
        if self.error:
            return f"{name}: FAILED, {self.error}"
        if self.outcome == "refused":
            return f"{name}: not tracked, {self.reason}"
        if self.outcome in ("tracked", "untracked"):
            return f"{name}: {self.reason}"
        verb = {"track": "tracked", "untrack": "untracked"}[self.outcome]
        if dry_run:
            verb = {"track": "would track", "untrack": "would untrack"}[self.outcome]
        parts = [f"{name}: {verb}"]
        if self.outcome == "track":
            parts.append(f"key ({', '.join(self.key)})")
            if self.adds_columns:
                parts.append(
                    f"adds {', '.join(self.adds_columns)}"
                    " (brief ACCESS EXCLUSIVE lock: waits for running queries, blocks others)"
                )
            else:
                parts.append("no new columns (triggers only: brief lock that blocks writes)")
        return "; ".join(parts) + "".join(f"\n  warning: {w}" for w in self.warnings)


def _capture_keys(args: str | None) -> tuple[str, ...]:
    if not args:
        return ()
    parts = args.split("\\000")
    return tuple(p for p in parts[1:] if p)


def _refusal(row: dict[str, Any]) -> str | None:
    kind = _KINDS.get(row["kind"], row["kind"])
    if row["kind"] in ("v", "m"):
        return f"a {kind}: served read-only, nothing to track"
    if row["kind"] == "f":
        return "a foreign table: its rows live in another server, where triggers cannot see"
    if row["partition"]:
        return f"a partition of {row['parent']}: track {row['parent']} instead"
    if is_own(row["schema"], row["name"]):
        return "one of collabadmin's own tables"
    if not (row["primary_key"] or row["unique_key"]):
        return (
            "no primary key and no unique index on NOT NULL columns: rows cannot be told"
            " apart (add a primary key, then track it)"
        )
    version = row["version_type"]
    if version is not None:
        if version.endswith("!"):
            return "its version column is generated or an identity column"
        if version.rstrip("?") != "integer":
            return (
                f"it already has a version column of type {version.rstrip('?')}"
                " (collabadmin needs an integer one: rename yours first)"
            )
        if version.endswith("?"):
            return "its version column allows NULL (make it NOT NULL, or rename it, first)"
    deleted = row["deleted_at_type"]
    if deleted is not None and (
        deleted.endswith("!") or not deleted.startswith(("timestamp", "date"))
    ):
        return (
            f"it already has a deleted_at column of type {deleted.rstrip('!')}"
            " (collabadmin needs a timestamp: rename yours first)"
        )
    return None


def _untrack_plan(row: dict[str, Any]) -> TablePlan:
    schema, table = row["schema"], row["name"]
    if is_own(schema, table):
        return TablePlan(schema, table, "refused", reason="one of collabadmin's own tables")
    if not row["our_triggers"]:
        return TablePlan(schema, table, "untracked", reason="not tracked, nothing to do")
    return TablePlan(
        schema,
        table,
        "untrack",
        statements=untracking_sql(table, schema=schema),
    )


def _track_plan(row: dict[str, Any]) -> TablePlan:
    schema, table = row["schema"], row["name"]
    refused = _refusal(row)
    if refused:
        return TablePlan(schema, table, "refused", reason=refused)
    key = tuple(row["primary_key"] or row["unique_key"])
    adds = tuple(
        name
        for name, present in (
            ("version", row["version_type"]),
            ("deleted_at", row["deleted_at_type"]),
        )
        if present is None
    )
    resource = resource_name(schema, table)
    current = sorted(row["our_triggers"] or ())
    if (
        current == [CAPTURE_TRIGGER, VERSION_TRIGGER]
        and _capture_keys(row["capture_args"]) == key
        and (row["capture_args"] or "").startswith(resource + "\\000")
    ):
        return TablePlan(
            schema, table, "tracked", reason=f"already tracked, key ({', '.join(key)})", key=key
        )
    statements = tracking_sql(table, resource=resource, pk=key, schema=schema)
    if "version" not in adds:
        statements = [s for s in statements if "ADD COLUMN IF NOT EXISTS version" not in s]
    if "deleted_at" not in adds:
        statements = [s for s in statements if "ADD COLUMN IF NOT EXISTS deleted_at" not in s]
    if schema != DEFAULT_SCHEMA:
        statements += _grants(schema, table)
    warnings = []
    if row["later_triggers"]:
        warnings.append(
            f"BEFORE trigger(s) {', '.join(row['later_triggers'])} run after collabadmin's"
            " (they sort after its name): a change they make to a row is captured without a"
            " version bump; rename them to sort before zz_collabadmin_version"
        )
    if row["version_type"] is not None:
        warnings.append(
            "uses the existing integer version column: from now on only collabadmin's trigger"
            " may change it (+1 per change)"
        )
    return TablePlan(
        schema,
        table,
        "track",
        key=key,
        adds_columns=adds,
        statements=statements,
        warnings=warnings,
    )


def _grants(schema: str, table: str) -> list[str]:
    """The server role's rights on a table outside the schema ``db upgrade`` grants."""
    role = f"{OWN_SCHEMA}.collabadmin_app_role()"
    s, t = _literal(_ident(schema)), _literal(_qualified(table, schema))
    return [
        "DO $$ BEGIN"
        f" EXECUTE format('GRANT USAGE ON SCHEMA %s TO %I', {s}, {role});"
        f" EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON %s TO %I', {t}, {role});"
        f" EXECUTE format('GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA %s TO %I', {s}, {role});"
        " END $$"
    ]


def catalogue(conn: psycopg.Connection[Any], schemas: Iterable[str]) -> list[dict[str, Any]]:
    from psycopg.rows import dict_row  # noqa: PLC0415

    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(CATALOGUE, {"schemas": list(schemas)})
        return list(cur.fetchall())


def plan(
    conn: psycopg.Connection[Any],
    tables: Sequence[str] = (),
    *,
    schema: str = DEFAULT_SCHEMA,
    untrack: bool = False,
) -> list[TablePlan]:
    """What tracking (``untrack``: untracking) ``tables`` would do; every table if empty.

    A name may be schema-qualified (``sales.Orders``); names are matched as
    written (case-sensitive, as quoted SQL identifiers), then case-insensitively.
    The schema ``collabadmin`` is refused (:class:`OwnSchemaError`); a table
    named in it is refused as one of collabadmin's own.
    """
    if schema == OWN_SCHEMA:
        raise OwnSchemaError("they are never tracked nor untracked")
    wanted = [_split(name, schema) for name in tables]
    schemas = {schema, *(s for s, _ in wanted)}
    rows = catalogue(conn, sorted(schemas))
    build = _untrack_plan if untrack else _track_plan
    if not wanted:
        return [
            build(row)
            for row in rows
            if row["schema"] == schema
            and row["kind"] in ("r", "p")
            and not row["partition"]
            and not is_own(row["schema"], row["name"])
        ]
    by_name = {(r["schema"], r["name"]): r for r in rows}
    folded = {(r["schema"], r["name"].lower()): r for r in rows}
    plans = []
    for s, t in wanted:
        row = by_name.get((s, t)) or folded.get((s, t.lower()))
        if row is None:
            plans.append(TablePlan(s, t, "refused", reason=f"no such table in schema {s}"))
        elif untrack:
            plans.append(_untrack_plan(row))
        else:
            plans.append(_track_plan(row))
    return plans


def _split(name: str, default_schema: str) -> tuple[str, str]:
    if name.startswith('"') and name.endswith('"') and name.count('"') == 2:
        return default_schema, name[1:-1]
    head, dot, tail = name.partition(".")
    if dot and tail:
        return head.strip('"'), tail.strip('"')
    return default_schema, name


def apply(conn: psycopg.Connection[Any], plans: Sequence[TablePlan]) -> None:
    """Run each table's statements in its own transaction; a failure is kept on its plan.

    Short transactions keep each table's exclusive lock brief; ``lock_timeout``
    makes a table that a long transaction holds fail fast instead of queueing
    every other client behind this one.
    """
    for item in plans:
        if not item.statements or item.outcome not in ("track", "untrack"):
            continue
        try:
            with conn.transaction():
                conn.execute(f"SET LOCAL lock_timeout = {_literal(LOCK_TIMEOUT)}")
                for statement in item.statements:
                    conn.execute(statement.encode())
        except psycopg.errors.LockNotAvailable:
            item.error = f"the table stayed locked by other sessions for {LOCK_TIMEOUT}; try again"
        except psycopg.Error as exc:
            message = (exc.diag.message_primary or str(exc)).strip()
            item.error = f"{type(exc).__name__}: {message}"
