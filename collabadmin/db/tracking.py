"""Attach collabadmin's change capture to a table, from an Alembic migration.

``track_table("courses")`` adds ``version`` and ``deleted_at`` when missing and
installs two row triggers that call the capture functions created by
collabadmin's ``core`` migration:

* ``collabadmin_version`` (BEFORE INSERT OR UPDATE) sets ``version`` to 1 on
  insert, skips an UPDATE that changes nothing (so it writes nothing and the
  version stays), and otherwise raises ``version`` by exactly one. Because it
  overwrites whatever the statement wrote to ``version``, no client can set
  it.
* ``collabadmin_capture`` (AFTER INSERT OR UPDATE OR DELETE) writes exactly
  one change-log entry per row change in the same transaction and wakes the
  hub with a tiny NOTIFY.

Doing this in triggers, not in the ORM, is what makes psql sessions, bulk
SQL and other services impossible to miss (the alternative, ORM events as in
django-reversion's signals, silently misses them).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

__all__ = ["track_table", "tracking_sql", "untrack_table", "untracking_sql"]


class _Executes(Protocol):
    def execute(self, sqltext: str) -> object: ...


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _key_columns(table: str, pk: str | Sequence[str]) -> str:
    """The capture trigger's key argument: the key columns in order, comma-separated."""
    names = [pk] if isinstance(pk, str) else list(pk)
    if not names or any(not n or "," in n for n in names):
        raise ValueError(f"{table}: a key is one or more column names without commas")
    return ",".join(names)


def tracking_sql(
    table: str, *, resource: str | None = None, pk: str | Sequence[str] = "id"
) -> list[str]:
    """The statements that make ``table`` tracked (idempotent).

    ``pk`` names the key column, or the key columns in order for a composite
    key; the change log then holds each row's key as its URL text
    (``collabadmin.resources.keys``).
    """
    t = _ident(table)
    res = _literal(resource or table)
    key = _literal(_key_columns(table, pk))
    return [
        f"ALTER TABLE {t} ADD COLUMN IF NOT EXISTS version integer NOT NULL DEFAULT 1",
        f"ALTER TABLE {t} ADD COLUMN IF NOT EXISTS deleted_at timestamptz",
        f"DROP TRIGGER IF EXISTS collabadmin_version ON {t}",
        f"DROP TRIGGER IF EXISTS collabadmin_capture ON {t}",
        f"CREATE TRIGGER collabadmin_version BEFORE INSERT OR UPDATE ON {t}"
        " FOR EACH ROW EXECUTE FUNCTION collabadmin_bump_version()",
        f"CREATE TRIGGER collabadmin_capture AFTER INSERT OR UPDATE OR DELETE ON {t}"
        f" FOR EACH ROW EXECUTE FUNCTION collabadmin_capture({res}, {key})",
    ]


def untracking_sql(table: str) -> list[str]:
    t = _ident(table)
    return [
        f"DROP TRIGGER IF EXISTS collabadmin_capture ON {t}",
        f"DROP TRIGGER IF EXISTS collabadmin_version ON {t}",
    ]


def _op() -> _Executes:
    from alembic import op  # noqa: PLC0415 - only inside a migration

    return op


def track_table(table: str, *, resource: str | None = None, pk: str | Sequence[str] = "id") -> None:
    """Alembic helper: call inside ``upgrade()`` of a migration."""
    op = _op()
    for statement in tracking_sql(table, resource=resource, pk=pk):
        op.execute(statement)


def untrack_table(table: str) -> None:
    """Alembic helper for ``downgrade()``: removes the triggers, keeps the columns."""
    op = _op()
    for statement in untracking_sql(table):
        op.execute(statement)
