"""Record actions as an application declares them: buttons that follow a record's state.

The course-operations team asked for "different buttons depending on the
state of the record, like *open a session*" (Django admin and Wagtail call
them actions). A :class:`RecordActionDecl` names one: its label, the
confirmation a person reads first, the policy action it needs, when it
applies, and what it does, either a merge patch of the record or an async
function. :class:`~collabadmin.resources.actions.RunRecordAction` runs it as
every write is run, and ``ResourceMeta.record_actions`` lists it (API.md,
"Records").

*When it applies* is a SQL condition on the resource's table, not a Python
predicate over a row already read. It is evaluated in the run's transaction
under the record's lock, so a condition that reads other rows ("no session
of this course has enrollment open") holds at the moment of the write: two
people running "Open enrollment" at once cannot both open a session, the
second is told it no longer applies. The rejected alternative, a predicate
over the record's values, could not see related rows, and a run that writes
only related rows (the course stays as it was) would then pass twice.

A declaration names the fields of its record it reads and writes: the
condition's are found in its SQL (``reads``, plus any declared), a patch's
are its keys, a function declares ``writes``. A user is offered the action
only when it may read all of them and write the written ones on that record
(the policy's field rules, as for a PATCH); with ``X-Base-Version``, the run
is refused (409) when any of them changed since that version.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import Column, ColumnElement, Table, and_
from sqlalchemy.sql import visitors

if TYPE_CHECKING:
    from collabadmin.resources.actions.run import ActionRun
    from collabadmin.resources.policy import Action
    from collabadmin.resources.resource import Resource

__all__ = [
    "ActionFunction",
    "Condition",
    "RecordActionDecl",
    "check_record_actions",
    "field_equals",
]

Condition = Callable[[Table], ColumnElement[bool]]
"""When an action applies: a SQL condition on the resource's table (its row, by key).

Built for each evaluation, so it may use Python values of the moment, but
prefer SQL's own (``func.current_date()``): the database's clock is the one
the write is made by. A NULL result counts as "does not apply".
"""

ActionFunction = Callable[["ActionRun"], Awaitable[None]]
"""What a function action does: given the run (the locked record, its
transaction, and writes through the record action objects)."""

_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$", re.ASCII)


@dataclass(frozen=True, slots=True)
class RecordActionDecl:
    """One record action of a resource (a button on its records).

    ``name`` is its URL segment (``/actions/{name}``): lower-case letters,
    digits, ``-`` and ``_``. ``applies`` is None for "whenever the record is
    not deleted". Exactly one of ``patch`` (field → JSON value, as a PATCH
    body) and ``run`` (an :data:`ActionFunction`) says what it does; a
    function names the fields of its own record it may change in
    ``writes`` (its writes to other records are checked by the policy of
    those records, as any write). ``not_applicable`` is the 409's detail
    when the condition does not hold.
    """

    name: str
    label: str
    applies: Condition | None = None
    permission: Action = "change"
    confirm: str | None = None
    patch: Mapping[str, Any] | None = None
    run: ActionFunction | None = field(default=None, compare=False)
    writes: tuple[str, ...] = ()
    reads: tuple[str, ...] = ()
    not_applicable: str = ""

    def __post_init__(self) -> None:
        if not _NAME.fullmatch(self.name):
            raise ValueError(
                f"record action {self.name!r}: a name is 1 to 63 lower-case letters, digits,"
                " '-' or '_', starting with a letter or digit"
            )
        if not self.label.strip():
            raise ValueError(f"record action {self.name!r}: give it a label")
        if (self.patch is None) == (self.run is None):
            raise ValueError(f"record action {self.name!r}: declare either patch or run")
        if self.patch is not None and self.writes:
            raise ValueError(f"record action {self.name!r}: a patch action writes its patch's keys")
        if self.patch is not None and not self.patch:
            raise ValueError(f"record action {self.name!r}: the patch sets nothing")

    def written_fields(self) -> frozenset[str]:
        """The fields of its record it may change."""
        return frozenset(self.patch) if self.patch is not None else frozenset(self.writes)

    def read_fields(self, table: Table) -> frozenset[str]:
        """The fields of its record its condition reads (found in its SQL), and ``reads``."""
        found = set(self.reads)
        if self.applies is not None:
            found |= columns_of(table, self.applies(table))
        return frozenset(found)

    def fields(self, table: Table) -> frozenset[str]:
        """Every field of its record it reads or writes (a user must be able to read them)."""
        return self.read_fields(table) | self.written_fields()


def columns_of(table: Table, expression: ColumnElement[Any]) -> set[str]:
    """The names of ``table``'s columns an expression refers to (subqueries included)."""
    return {
        str(element.name)
        for element in visitors.iterate(expression)
        if isinstance(element, Column) and element.table is table
    }


def field_equals(values: Mapping[str, Any], *, negate: bool = False) -> Condition:
    """A condition "each field equals its value" (``negate``: "none of them does").

    Values are the columns' Python values (a ``date``, a ``Decimal``). With
    ``negate``, NULL counts as different (``IS DISTINCT FROM``), so a record
    whose field is empty is not equal to any value.
    """
    pairs = tuple(values.items())

    def condition(table: Table) -> ColumnElement[bool]:
        if negate:
            return and_(*(table.c[name].is_distinct_from(value) for name, value in pairs))
        return and_(*(table.c[name] == value for name, value in pairs))

    return condition


def check_record_actions(resource: Resource, actions: Iterable[RecordActionDecl]) -> None:
    """ValueError for declarations that cannot work on ``resource`` (names, fields)."""
    seen: set[str] = set()
    for action in actions:
        where = f"resource {resource.name}, record action {action.name!r}"
        if action.name in seen:
            raise ValueError(f"{where}: declared twice")
        seen.add(action.name)
        if resource.read_only:
            raise ValueError(f"{where}: the resource is read-only, so no action can write it")
        try:
            fields = action.fields(resource.table)
        except KeyError as exc:  # table.c["name"] of a column the table lacks
            raise ValueError(f"{where}: its condition names no column {exc}") from None
        unknown = sorted(fields - set(resource.fields))
        if unknown:
            raise ValueError(f"{where}: no fields {', '.join(unknown)}")
        fixed = sorted(n for n in action.written_fields() if resource.fields[n].read_only)
        if fixed:
            raise ValueError(f"{where}: {', '.join(fixed)} cannot be written (read-only)")
