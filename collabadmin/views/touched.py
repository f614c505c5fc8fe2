"""Which keys of derived state a batch of changes touched, worked out in SQL.

Derived state is keyed: a workflow's runs by their subject, a live view's
rows by the view's key. After a batch of changes commits, only the keys the
batch touched need evaluating again, and one statement finds them: the
batch's entries (the one "committed between two snapshots" predicate,
:func:`~collabadmin.changelog.batches.committed_between`) mapped to keys by
each target's :class:`~collabadmin.views.definitions.Watch`. The entries
never come to Python: a bulk update of 100,000 rows costs a set of keys.

The workflow evaluator (:mod:`collabadmin.workflows.evaluation`) and the
live views' evaluator (:mod:`collabadmin.views.evaluator`) both build their
batch reads here. (The alternative, each reading the entries and mapping
them in Python, held whole batches in memory and cost a round trip per
related row.)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy.dialects import postgresql

from collabadmin.changelog.batches import CURRENT_SNAPSHOT, committed_between
from collabadmin.resources.resource import Registry, Resource
from collabadmin.views.definitions import Watch

__all__ = ["Target", "key_text_sql", "touched_keys", "touched_sql", "watched_resources"]

_QUOTE = postgresql.dialect().identifier_preparer  # type: ignore[no-untyped-call]


@dataclass(frozen=True, slots=True)
class Target:
    """Keyed derived state named ``name``, and how changes of each log resource touch it."""

    name: str
    watches: Mapping[str, Watch]


def key_text_sql(resource: Resource, alias: str) -> str:
    """A row's key as text in raw SQL, exactly as ``Resource.key_sql`` and the trigger write it."""
    if len(resource.pk) == 1:
        column = f"{alias}.{_QUOTE.quote(resource.pk[0])}"
        if resource.pk_field.type == "integer":
            return f"{column}::text"
        return f"(to_jsonb({column}) #>> '{{}}')"
    parts = [
        f"collabadmin.collabadmin_key_part(to_jsonb({alias}.{_QUOTE.quote(name)}) #>> '{{}}')"
        for name in resource.pk
    ]
    return "concat_ws(',', " + ", ".join(parts) + ")"


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _column_watch(target: str, resource: Resource, column: str) -> str:
    """Keys in ``column`` of the changed row: before the change, after it, and now."""
    name, res = _literal(target), _literal(resource.name)
    if resource.pk == (column,):
        # The column is the row's own key: the entry says it.
        return f"SELECT DISTINCT NULL, {name}, b.pk, false FROM batch b WHERE b.resource = {res}"
    table = _QUOTE.format_table(resource.table)
    col = _QUOTE.quote(column)
    key = _literal(column)
    if len(resource.pk) == 1:
        # The entry's key typed like the column, so the lookup uses its index.
        pk = _QUOTE.quote(resource.pk[0])
        typed = "b.pk::bigint" if resource.pk_field.type == "integer" else "b.pk"
        match = f"t.{pk} = {typed}"
    else:
        # A composite key: the row whose key's text is the entry's.
        match = f"({key_text_sql(resource, 't')}) = b.pk"
    return (
        f"SELECT DISTINCT NULL, {name}, s.v, false FROM batch b, LATERAL (VALUES"
        f" (b.diff->{key}->>'old'), (b.diff->{key}->>'new'),"
        f" ((SELECT t.{col}::text FROM {table} t WHERE {match}))) AS s(v)"
        f" WHERE b.resource = {res} AND s.v IS NOT NULL"
    )


def _watch_sql(target: str, log_resource: str, watch: Watch, registry: Registry) -> str | None:
    name, res = _literal(target), _literal(log_resource)
    if watch.everything:
        return f"(SELECT NULL, {name}, NULL, true FROM batch b WHERE b.resource = {res} LIMIT 1)"
    if watch.keys_sql is not None:
        return (
            f"SELECT DISTINCT NULL, {name}, s.k::text, false"
            f" FROM batch b, LATERAL ({watch.keys_sql.replace('%', '%%')}) AS s(k)"
            f" WHERE b.resource = {res} AND s.k IS NOT NULL"
        )
    assert watch.column is not None
    resource = registry.get(log_resource)
    if not resource.addressable:
        return None  # no key: its changes cannot be told apart (and it is not tracked)
    return _column_watch(target, resource, watch.column)


def touched_sql(targets: Sequence[Target], registry: Registry) -> str:
    """One statement: the current snapshot, and per target the keys touched since ``%(lower)s``.

    Rows ``(upper, target, key, everything)``: the first carries only
    ``upper`` (the snapshot the batch ends at, the reader's next position);
    the others a touched ``key`` of ``target``, or ``everything`` when any
    of its keys may have moved. ``%(resources)s`` must list every watched
    log resource (:func:`watched_resources`), so the batch read uses only
    what matters.
    """
    parts = [
        "SELECT (SELECT upper::text FROM now) AS upper, NULL AS target, NULL AS key,"
        " false AS everything"
    ]
    for target in targets:
        for log_resource, watch in target.watches.items():
            sql = _watch_sql(target.name, log_resource, watch, registry)
            if sql is not None:
                parts.append(sql)
    return f"""
WITH {CURRENT_SNAPSHOT},
batch AS MATERIALIZED (
    SELECT c.resource, c.pk, c.diff
      FROM collabadmin.collabadmin_change c, now
     WHERE {committed_between("%(lower)s::pg_snapshot", "now.upper", txid="c.txid")}
       AND c.resource = ANY(%(resources)s::text[])
)
{" UNION ALL ".join(parts)}
"""


def watched_resources(targets: Sequence[Target]) -> list[str]:
    """Every log resource some target watches (the ``resources`` parameter of the statement)."""
    return sorted({name for t in targets for name in t.watches})


def touched_keys(rows: Sequence[Mapping[str, object]]) -> tuple[str, dict[str, set[str] | None]]:
    """The statement's rows as (upper, keys per target); None: every key of that target."""
    upper = str(next(r["upper"] for r in rows if r["upper"] is not None))
    touched: dict[str, set[str] | None] = {}
    for row in rows:
        target = row["target"]
        if target is None:
            continue
        name = str(target)
        if row["everything"]:
            touched[name] = None
        elif name not in touched or touched[name] is not None:
            keys = touched.setdefault(name, set())
            assert keys is not None
            keys.add(str(row["key"]))
    return upper, touched
