"""Declaring live views: which rows a change can move, and where their values come from.

A live view is served as a read-only resource (declared like any other,
over its copy's table: :mod:`collabadmin.db.live_copy`) and evaluated from
one of two sources:

* a **database view** (``source="course_overview"``), which outside SQL
  clients can read too;
* a **Python view model** (``select="SELECT ..."``): a keyed SELECT written
  in the application, for what the database should not hold as a view (the
  meeting-attendance example in docs/live-views.md is four lines).

Either way the rows are re-evaluated per commit-ordered batch for the keys
the batch touched, and ``watches`` says how a change maps to those keys:

* ``"courses": "id"`` — the changed row's column that holds the view's key
  (before the change, after it, and now: a session moved from one course to
  another touches both). When the column is the watched resource's own
  key, the change's key is used as it is.
* ``"drafts": Watch(keys_sql="SELECT d.pk FROM ... WHERE d.id = b.pk::bigint")``
  — SQL that selects the view keys (as text) touched by the log entry ``b``
  (``b.pk``: the changed row's key as text, ``b.diff``: its diff), for
  relations a column cannot say.
* ``Watch(everything=True)`` — any change may move any row: the whole view
  is evaluated again (and diffed, so only rows that moved are sent). The
  fallback for a table the view reads that nothing else maps.

The tables a database view reads are also found in the catalogue
(``pg_depend``): a tracked one left out of ``watches`` is watched with
``everything`` and named in a warning at start-up.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

__all__ = ["LiveView", "Watch"]


@dataclass(frozen=True, slots=True)
class Watch:
    """How a change of a watched log resource maps to the keys it touches (one of three)."""

    column: str | None = None
    keys_sql: str | None = None
    everything: bool = False

    def __post_init__(self) -> None:
        given = [self.column is not None, self.keys_sql is not None, self.everything]
        if sum(given) != 1:
            raise ValueError("a watch names a column, a keys_sql, or everything=True: one of them")


@dataclass(frozen=True, slots=True)
class LiveView:
    """A live view served as the resource ``name`` (its copy's table is the resource's)."""

    name: str
    watches: Mapping[str, str | Watch] = field(default_factory=dict)
    source: str | None = None  # a database view, schema-qualified if not in public
    select: str | None = None  # or a keyed SELECT (a Python view model)
    # The resource whose records its rows describe, key for key (a course's
    # overview): ResourceMeta.describes, so the web app shows the row there.
    describes: str | None = None

    def __post_init__(self) -> None:
        if (self.source is None) == (self.select is None):
            raise ValueError(f"live view {self.name}: give a source view or a select, not both")
        if not self.watches:
            raise ValueError(f"live view {self.name}: watch at least one resource")

    def watch_list(self) -> dict[str, Watch]:
        """Each watched log resource's :class:`Watch` (a column name is a column watch)."""
        return {
            resource: Watch(column=w) if isinstance(w, str) else w
            for resource, w in self.watches.items()
        }
