"""Field conflicts: what a write based on an older version would overwrite.

Every write that names the version it was based on comes here: a record
PATCH with ``X-Base-Version`` (and a stale ``If-Match``, whose 412 lists the
same conflicts), a revert (based on the version the reverted change made),
a draft's publish and rebase (based on the record's version when the draft
was started) and the edit of a draft itself (its ``data`` keys are its
fields). The decision is made here once, so these writes cannot drift apart
again (they had: drafts missed the rules marked *below* in the list).

Approach: the change log is read for the row after the base version; the
first entry that touched a field holds, as its ``old``, the field's value at
the base. A field of the patch conflicts when its current value ("theirs")
differs from the patch ("yours"), unless

* the log shows no change of the field since the base (someone else's
  edits to *other* fields merge), or
* two people made the same edit (theirs == yours), or
* *it was changed and changed back* (theirs == base): nothing would be lost.

A write may also *depend* on fields it does not write (a record action
whose condition reads the status): each such *watched* field conflicts when
the log shows it changed since the base and it is not back at its base
value; its ``yours`` is that base value, what the writer acted on.

*When the log cannot account for every version since the base* (retention
pruned its oldest entries), the absence of a field from it proves nothing:
every patched field whose value differs is a conflict, with an unknown
(null) base rather than a guess from the oldest surviving entry.

*Values are compared in their JSON forms* (``"12.50"`` for a decimal, as a
client sends and reads it), never as one side's raw form against the
other's: the caller maps its values with ``theirs``/``logged`` and gives
``yours`` already in that form.

The rejected alternative, keeping a snapshot of every version, would
double the log's size to answer a question the diffs already answer.
"""

from __future__ import annotations

from collections.abc import Callable, Container, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, TypedDict

from sqlalchemy import select

from collabadmin.changelog.changes import CHANGE_LOG
from collabadmin.changelog.types import Reader
from collabadmin.errors import Conflict, FieldError, PreconditionFailed, ValidationFailed

__all__ = [
    "FieldConflict",
    "Precondition",
    "Resolution",
    "Since",
    "Target",
    "check_precondition",
    "conflicts_since",
    "field_conflicts",
    "read_since",
    "rebased",
]

Resolution = Literal["theirs", "yours"]


class FieldConflict(TypedDict):
    """One conflicting field, as a 409's (or 412's) ``conflicts`` lists it."""

    field: str
    base: Any
    theirs: Any
    yours: Any


@dataclass(frozen=True, slots=True)
class Precondition:
    """``If-Match`` (strict: any change since refuses) or ``X-Base-Version`` (field merge)."""

    version: int
    strict: bool


@dataclass(frozen=True, slots=True)
class Target:
    """A row being written, as the change log knows it.

    ``within`` names a JSON column whose keys are the fields (a draft's
    ``data``); without it the fields are the row's columns. ``noun`` is what
    problems call the row ("record", "draft").
    """

    log: str
    pk: str
    version: int
    noun: str = "record"
    within: str | None = None


@dataclass(frozen=True, slots=True)
class Since:
    """What the change log says about one row after a base version.

    ``base_values`` holds each field changed since, with its value at the
    base as logged; ``complete`` is false when entries are missing.
    """

    base_values: Mapping[str, Any]
    complete: bool


def _changed_fields(diff: Mapping[str, Any], within: str | None) -> Iterable[tuple[str, Any]]:
    """(field, old value) of each field one log entry changed."""
    if within is None:
        for name, change in diff.items():
            yield name, change["old"]
        return
    change = diff.get(within)
    if change is None:
        return
    old, new = change["old"] or {}, change["new"] or {}
    for name in old.keys() | new.keys():
        if old.get(name) != new.get(name):
            yield name, old.get(name)


async def read_since(tx: Reader, target: Target, base: int) -> Since:
    """The fields of ``target`` changed after version ``base``, each with its base value.

    Entries are read in id order, which within one row is commit order
    (its writers are serialised by the row lock): the first one that
    touched a field holds the field's value at the base.
    """
    entries = await tx.rows(
        select(CHANGE_LOG.c.diff)
        .where(
            CHANGE_LOG.c.resource == target.log,
            CHANGE_LOG.c.pk == target.pk,
            CHANGE_LOG.c.version > base,
            CHANGE_LOG.c.op != "insert",
        )
        .order_by(CHANGE_LOG.c.id)
    )
    base_values: dict[str, Any] = {}
    for entry in entries:
        for name, old in _changed_fields(entry["diff"], target.within):
            base_values.setdefault(name, old)
    # Each committed change of the row is one entry and one version.
    return Since(base_values, complete=len(entries) == target.version - base)


def _as_logged(name: str, value: Any) -> Any:
    return value


def field_conflicts(
    since: Since,
    yours: Mapping[str, Any],
    *,
    theirs: Callable[[str], Any],
    logged: Callable[[str, Any], Any] = _as_logged,
    watched: Iterable[str] = (),
) -> list[FieldConflict]:
    """The fields of ``yours`` whose write would overwrite a change made since the base.

    ``yours`` holds the patched values in their JSON forms; ``theirs(name)``
    gives a field's current value in that form, ``logged(name, value)`` a
    value of the log in it. ``watched`` names fields the write depends on
    without writing them: one conflicts when it changed since the base and is
    not back at its base value (when the log is incomplete, whenever it may
    have: its base is unknown).
    """
    conflicts: list[FieldConflict] = []
    for name, mine in yours.items():
        current = theirs(name)
        if current == mine:
            continue
        base: Any = None
        if since.complete:
            if name not in since.base_values:
                continue
            base = logged(name, since.base_values[name])
            if current == base:
                continue
        conflicts.append(FieldConflict(field=name, base=base, theirs=current, yours=mine))
    for name in dict.fromkeys(watched):
        if name in yours:
            continue
        seen: Any = None
        if since.complete:
            if name not in since.base_values:
                continue
            seen = logged(name, since.base_values[name])
            if theirs(name) == seen:
                continue
        conflicts.append(FieldConflict(field=name, base=seen, theirs=theirs(name), yours=seen))
    return conflicts


async def conflicts_since(
    tx: Reader,
    target: Target,
    base: int,
    yours: Mapping[str, Any],
    *,
    theirs: Callable[[str], Any],
    logged: Callable[[str, Any], Any] = _as_logged,
    watched: Iterable[str] = (),
) -> list[FieldConflict]:
    """:func:`field_conflicts` of a write to ``target`` based on version ``base``."""
    if base >= target.version:
        return []
    since = await read_since(tx, target, base)
    return field_conflicts(since, yours, theirs=theirs, logged=logged, watched=watched)


async def check_precondition(
    tx: Reader,
    precondition: Precondition,
    target: Target,
    yours: Mapping[str, Any],
    *,
    theirs: Callable[[str], Any],
    logged: Callable[[str, Any], Any] = _as_logged,
    shown: Container[str],
    current: Callable[[], Mapping[str, Any]],
    watched: Iterable[str] = (),
) -> None:
    """Refuse a write its precondition does not allow, as API.md says; else return.

    Called with the row locked, so the version checked is the one the write
    replaces. A version from the future is a 412; a stale ``If-Match`` a 412
    listing the conflicts; an ``X-Base-Version`` a 409 if any field conflicts
    (``watched``: fields the write depends on, see :func:`field_conflicts`).
    Every conflicting field refuses the write, but only those in ``shown``
    are named (a field the writer may not read is never revealed);
    ``current()`` is the row's body for the writer.
    """
    version = target.version
    if precondition.version == version:
        return
    if precondition.version > version:
        raise PreconditionFailed(
            f"Version {precondition.version} does not exist yet;"
            f" the {target.noun} is at {version}.",
            current=current(),
            conflicts=[],
        )
    found = await conflicts_since(
        tx, target, precondition.version, yours, theirs=theirs, logged=logged, watched=watched
    )
    named = [c for c in found if c["field"] in shown]
    if precondition.strict:
        raise PreconditionFailed(
            f"The {target.noun} changed since version {precondition.version}; it is at {version}.",
            current=current(),
            conflicts=named,
        )
    if found:
        raise Conflict(
            f"Someone else changed the same fields of this {target.noun} since your version.",
            current=current(),
            conflicts=named,
        )


def rebased(
    yours: Mapping[str, Any],
    conflicts: Iterable[FieldConflict],
    resolutions: Mapping[str, Resolution],
    *,
    shown: Container[str],
) -> dict[str, Any]:
    """``yours`` moved onto the current version: each conflict resolved, else 422.

    ``"theirs"`` drops the field (the current value stands), ``"yours"``
    keeps it. A conflicting field the writer may not see was never shown to
    them, so it cannot be theirs to choose: the current value stands and any
    resolution named for it is ignored (success must not confirm it exists).
    """
    found = list(conflicts)
    missing = [c["field"] for c in found if c["field"] in shown and c["field"] not in resolutions]
    if missing:
        raise ValidationFailed([FieldError(f, "Choose theirs or yours.") for f in missing])
    result = dict(yours)
    for name, choice in resolutions.items():
        if choice == "theirs" and name in shown:
            result.pop(name, None)
    for c in found:
        if c["field"] not in shown:
            result.pop(c["field"], None)
    return result
