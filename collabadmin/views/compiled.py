"""A live view made ready to evaluate: its SQL, checked against the database at start.

Compiling a :class:`~collabadmin.views.definitions.LiveView` needs the
database: the copy's columns must be the source's (a copy made before the
view changed would store the wrong shape), and the tables a database view
reads are found in the catalogue (``pg_rewrite``/``pg_depend``, through
views of views), so that a tracked table the declaration forgot is watched
anyway (``everything``: correct, only costlier) and named in a warning.

Keys travel as text, as the change log writes them; the statements turn
them back into the key's type where an index can use it (a single integer
key).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import psycopg
from sqlalchemy import JSON, Enum, String
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import JSONB

from collabadmin.db.engine import Tx
from collabadmin.errors import NotFound
from collabadmin.resources.resource import Registry, Resource
from collabadmin.views.definitions import LiveView, Watch
from collabadmin.views.touched import Target, key_text_sql, touched_sql, watched_resources

__all__ = ["CompiledView", "compile_view"]

log = logging.getLogger("collabadmin.views")

_QUOTE = postgresql.dialect().identifier_preparer  # type: ignore[no-untyped-call]
META = ("version", "deleted_at")

# The tables a view reads, through the views it reads, with the log resource
# each is tracked as (the capture trigger's first argument; NULL: untracked).
_DEPENDENCIES = r"""
WITH RECURSIVE reads(oid) AS (
    SELECT d.refobjid
      FROM pg_rewrite r
      JOIN pg_depend d ON d.objid = r.oid AND d.classid = 'pg_rewrite'::regclass
                      AND d.refclassid = 'pg_class'::regclass AND d.refobjid <> r.ev_class
     WHERE r.ev_class = %(view)s::regclass
    UNION
    SELECT d.refobjid
      FROM reads
      JOIN pg_class v ON v.oid = reads.oid AND v.relkind IN ('v', 'm')
      JOIN pg_rewrite r ON r.ev_class = v.oid
      JOIN pg_depend d ON d.objid = r.oid AND d.classid = 'pg_rewrite'::regclass
                      AND d.refclassid = 'pg_class'::regclass AND d.refobjid <> r.ev_class
)
SELECT DISTINCT c.oid::regclass::text AS "table",
       (SELECT split_part(encode(t.tgargs, 'escape'), '\000', 1)
          FROM pg_trigger t
         WHERE t.tgrelid = c.oid AND t.tgname = 'collabadmin_capture') AS resource
  FROM reads JOIN pg_class c ON c.oid = reads.oid
 WHERE c.relkind IN ('r', 'p')
 ORDER BY 1
"""


@dataclass(frozen=True, slots=True)
class CompiledView:
    """One live view's statements (parameters in psycopg's ``%(name)s`` form)."""

    view: LiveView
    resource: Resource
    columns: tuple[str, ...]  # the view's columns, in the copy's order
    touched: str  # keys touched since %(lower)s: see views.touched
    resources: tuple[str, ...]  # the log resources it watches
    diff_keys: str  # rows that moved among %(keys)s
    diff_all: str  # rows that moved, all of them
    upsert: str  # write %(rows)s (jsonb array of the copy's rows) into the copy
    pending: str  # whether a watched change committed after its evaluated position
    fast_forward: str  # the position to now, if nothing watched committed since

    @property
    def name(self) -> str:
        return self.view.name

    def key_param(self, keys: set[str]) -> Sequence[object]:
        """``keys`` as the ``%(keys)s`` array: typed for a single integer key, else text."""
        resource = self.resource
        if len(resource.pk) == 1 and resource.pk_field.type == "integer":
            typed = (resource.pk_values(k) for k in keys)
            return sorted({v[0] for v in typed if v is not None})
        return sorted(keys)


def _source(view: LiveView) -> str:
    if view.select is not None:
        return "(" + view.select.replace("%", "%%") + ")"  # psycopg reads % as a placeholder
    assert view.source is not None
    schema, _, name = view.source.rpartition(".")
    return f"{_QUOTE.quote(schema)}.{_QUOTE.quote(name)}" if schema else _QUOTE.quote(name)


def _key_filter(resource: Resource, alias: str) -> str:
    """The rows whose key is among ``%(keys)s``, written so PostgreSQL can push it down.

    A plain comparison of the key column (an integer or text key) reaches
    an index, or a view's GROUP BY, where an expression over it would not.
    """
    if len(resource.pk) == 1:
        column = f"{alias}.{_QUOTE.quote(resource.pk[0])}"
        if resource.pk_field.type == "integer":
            return f"{column} = ANY(%(keys)s::bigint[])"
        sa_type = resource.column(resource.pk[0]).type
        if isinstance(sa_type, String) and not isinstance(sa_type, Enum):  # text, varchar
            return f"{column} = ANY(%(keys)s::text[])"
    return f"{key_text_sql(resource, alias)} = ANY(%(keys)s::text[])"


def _comparable(resource: Resource, alias: str, column: str) -> str:
    """A column as compared for "did it move": as it is, or as jsonb for ``json`` (no ``=``)."""
    ref = f"{alias}.{_QUOTE.quote(column)}"
    sa_type = resource.column(column).type
    return f"{ref}::jsonb" if isinstance(sa_type, JSON) and not isinstance(sa_type, JSONB) else ref


def _diff_sql(
    resource: Resource, source: str, copy: str, columns: Sequence[str], *, keyed: bool
) -> str:
    """The rows of ``source`` that differ from the copy: new, changed, or gone from the view.

    One statement, so the view is read at one snapshot. Rows are joined on
    their typed key and compared column by column; only the rows that moved
    are turned into JSON (``to_jsonb``, the change log's forms) for the
    diff. A row that left the view stays in the copy as a tombstone
    (``deleted_at``): ``gone``.
    """
    quote = _QUOTE.quote
    first = quote(resource.pk[0])
    # A row whose key is null cannot be addressed (nor kept: the copy's key is NOT NULL).
    has_key = " AND ".join(f"v.{quote(k)} IS NOT NULL" for k in resource.pk)
    fresh_where = f" WHERE {has_key}" + (f" AND {_key_filter(resource, 'v')}" if keyed else "")
    stored_where = f" WHERE {_key_filter(resource, 'c')}" if keyed else ""
    join = " AND ".join(f"f.{quote(k)} = s.{quote(k)}" for k in resource.pk)
    moved = " OR ".join(
        f"{_comparable(resource, 'f', c)} IS DISTINCT FROM {_comparable(resource, 's', c)}"
        for c in columns
    )
    drop_meta = "".join(f" - '{m}'" for m in META)
    return f"""
WITH fresh AS (SELECT v.* FROM {source} v{fresh_where}),
stored AS (SELECT c.* FROM {copy} c{stored_where})
SELECT CASE WHEN f.{first} IS NULL THEN {key_text_sql(resource, "s")}
            ELSE {key_text_sql(resource, "f")} END AS key,
       CASE WHEN f.{first} IS NULL THEN NULL ELSE to_jsonb(f) END AS fresh,
       CASE WHEN s.{first} IS NULL THEN NULL ELSE to_jsonb(s){drop_meta} END AS stored,
       s.version, coalesce(s.deleted_at IS NOT NULL, false) AS gone
  FROM fresh f FULL JOIN stored s ON {join}
 WHERE CASE WHEN f.{first} IS NULL THEN s.deleted_at IS NULL
            ELSE s.{first} IS NULL OR s.deleted_at IS NOT NULL OR {moved} END
 ORDER BY 1
"""


def _upsert_sql(resource: Resource, copy: str, columns: tuple[str, ...]) -> str:
    names = [*columns, *META]
    listed = ", ".join(_QUOTE.quote(n) for n in names)
    excluded = ", ".join(f"EXCLUDED.{_QUOTE.quote(n)}" for n in names)
    key = ", ".join(_QUOTE.quote(k) for k in resource.pk)
    return (
        f"INSERT INTO {copy} ({listed})"
        f" SELECT {listed} FROM jsonb_populate_recordset(NULL::{copy}, %(rows)s)"
        f" ON CONFLICT ({key}) DO UPDATE SET ({listed}) = ROW({excluded})"
    )


# A watched change committed after the position in s.snapshot.
_WATCHED_SINCE = """EXISTS (
    SELECT 1 FROM collabadmin.collabadmin_change c
     WHERE c.txid >= pg_snapshot_xmin(s.snapshot::pg_snapshot)
       AND c.txid < pg_snapshot_xmax(pg_current_snapshot())
       AND pg_visible_in_snapshot(c.txid, pg_current_snapshot())
       AND NOT pg_visible_in_snapshot(c.txid, s.snapshot::pg_snapshot)
       AND c.resource = ANY(%(resources)s::text[]))"""

_PENDING = f"""
SELECT s.snapshot IS NULL OR {_WATCHED_SINCE} AS pending
  FROM (SELECT (SELECT snapshot FROM collabadmin.collabadmin_live_state
                 WHERE view = %(view)s) AS snapshot) AS s
"""

# Moves the position to now when nothing watched committed since: one
# statement, so the check and the new position are the same snapshot.
_FAST_FORWARD = f"""
UPDATE collabadmin.collabadmin_live_state s
   SET snapshot = pg_current_snapshot()::text, updated_at = now()
 WHERE s.view = %(view)s
   AND NOT {_WATCHED_SINCE}
RETURNING true AS moved
"""


async def _dependencies(tx: Tx, view: LiveView) -> dict[str, Watch]:
    """Watches for the tracked tables the database view reads and ``watches`` leaves out."""
    if view.source is None:
        return {}  # a Python view model: its declaration is all there is
    extra: dict[str, Watch] = {}
    declared = view.watch_list()
    for row in await tx.rows(_DEPENDENCIES, {"view": _source(view)}):
        resource = row["resource"]
        if not resource:
            log.warning(
                "live view %s reads %s, which is not tracked: its changes will not move the view",
                view.name,
                row["table"],
            )
        elif resource not in declared:
            log.warning(
                "live view %s reads %s (%s) without a watch saying which rows it moves:"
                " any change to it evaluates the whole view again",
                view.name,
                row["table"],
                resource,
            )
            extra[resource] = Watch(everything=True)
    return extra


async def compile_view(tx: Tx, view: LiveView, registry: Registry) -> CompiledView:
    """Check ``view`` against the database and build its statements (ValueError if unusable)."""
    try:
        return await _compile(tx, view, registry)
    except NotFound as exc:  # a resource the declaration names is not served
        raise ValueError(f"live view {view.name}: {exc}") from None
    except psycopg.errors.Error as exc:  # its source or copy is missing or cannot be read
        raise ValueError(
            f"live view {view.name}: {type(exc).__name__}: {exc.diag.message_primary}"
        ) from None


async def _compile(tx: Tx, view: LiveView, registry: Registry) -> CompiledView:
    resource = registry.get(view.name)
    if not resource.pk:
        raise ValueError(f"live view {view.name}: its resource needs a key")
    missing = [m for m in META if m not in resource.table.c]
    if missing:
        raise ValueError(f"live view {view.name}: its copy has no {', '.join(missing)} column")
    copy = _QUOTE.format_table(resource.table)
    source = _source(view)
    columns = tuple(str(c.name) for c in resource.table.columns if c.name not in META)
    described = await tx.conn.execute(f"SELECT * FROM {source} v LIMIT 0", {})
    shown = tuple(d.name for d in described.description or ())
    stored = await tx.rows(
        "SELECT attname::text AS name FROM pg_attribute WHERE attrelid = %(copy)s::regclass"
        " AND attnum > 0 AND NOT attisdropped ORDER BY attnum",
        {"copy": copy},
    )
    in_copy = tuple(r["name"] for r in stored if r["name"] not in META)
    if set(shown) != set(columns) or set(in_copy) != set(columns):
        raise ValueError(
            f"live view {view.name}: its copy {resource.table.fullname} has columns"
            f" {sorted(in_copy)}, the source {sorted(shown)} and the resource {sorted(columns)};"
            " make the copy again (collabadmin.db.live_copy) after changing the view"
        )
    watches = {**view.watch_list(), **await _dependencies(tx, view)}
    target = Target(view.name, watches)
    return CompiledView(
        view=view,
        resource=resource,
        columns=columns,
        touched=touched_sql([target], registry),
        resources=tuple(watched_resources([target])),
        diff_keys=_diff_sql(resource, source, copy, columns, keyed=True),
        diff_all=_diff_sql(resource, source, copy, columns, keyed=False),
        upsert=_upsert_sql(resource, copy, columns),
        pending=_PENDING,
        fast_forward=_FAST_FORWARD,
    )
