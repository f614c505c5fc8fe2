"""``db track``'s planner: what tracking each table would do, or why it must not.

:func:`plan` inspects tables in the catalogue and decides, per table, what
tracking would do or why it must not (no usable key, a view, a foreign
table, a ``version`` column of another type...); :func:`apply` runs a plan
table by table, each in its own short transaction. The SQL it runs is
:mod:`collabadmin.db.tracking`'s, the same a migration runs.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import psycopg

from collabadmin.db.quoting import quote_ident, quote_literal
from collabadmin.db.tracking import (
    CAPTURE_TRIGGER,
    DEFAULT_SCHEMA,
    LOCK_TIMEOUT,
    VERSION_TRIGGER,
    OwnSchemaError,
    is_own,
    qualified_name,
    resource_name,
    tracking_sql,
    untracking_sql,
)
from collabadmin.own import OWN_SCHEMA

__all__ = ["Outcome", "TablePlan", "apply", "catalogue", "plan"]

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
            return self.table if self.table == self.table.lower() else quote_ident(self.table)
        return qualified_name(self.table, self.schema)

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
    s, t = quote_literal(quote_ident(schema)), quote_literal(qualified_name(table, schema))
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
                conn.execute(f"SET LOCAL lock_timeout = {quote_literal(LOCK_TIMEOUT)}")
                for statement in item.statements:
                    conn.execute(statement.encode())
        except psycopg.errors.LockNotAvailable:
            item.error = f"the table stayed locked by other sessions for {LOCK_TIMEOUT}; try again"
        except psycopg.Error as exc:
            message = (exc.diag.message_primary or str(exc)).strip()
            item.error = f"{type(exc).__name__}: {message}"
