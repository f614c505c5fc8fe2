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

``db track`` plans and applies this SQL table by table
(:mod:`collabadmin.db.track_plan`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol
from urllib.parse import quote

from collabadmin.db.quoting import quote_ident, quote_literal
from collabadmin.own import OWN_SCHEMA

__all__ = [
    "VERSION_TRIGGER",
    "OwnSchemaError",
    "is_own",
    "key_text",
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


def qualified_name(table: str, schema: str | None) -> str:
    return f"{quote_ident(schema)}.{quote_ident(table)}" if schema else quote_ident(table)


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
    t = qualified_name(table, schema)
    res = quote_literal(resource or (resource_name(schema, table) if schema else table))
    keys = [pk] if isinstance(pk, str) else list(pk)
    args = ", ".join([res, *(quote_literal(k) for k in keys)])
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
    return _drop_triggers(qualified_name(table, schema))


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
