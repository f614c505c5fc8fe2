"""An import as it goes: the request, who imports what, each line's plan, and the answer.

:class:`Importer` is what every step shares (the record service, the actor,
the resource, the fields the actor may read, the key and the file's
columns); :class:`Planned` is one line: its values, the record it matched,
its ``op`` and what is wrong with it, which become its
:class:`~collabadmin.imports.types.ImportRow` in the answer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import msgspec

from collabadmin.db.engine import Actor, Row
from collabadmin.errors import FieldError, ProblemError, ValidationFailed
from collabadmin.imports.types import (
    ImportConflict,
    ImportOp,
    ImportResult,
    ImportRow,
    ImportSummary,
)
from collabadmin.resources.resource import Resource
from collabadmin.resources.service import RecordService

__all__ = [
    "LOOKUP_CHUNK",
    "ImportRequest",
    "Importer",
    "Planned",
    "Refused",
    "created_since",
    "problem_body",
    "problem_errors",
    "result",
]

LOOKUP_CHUNK = 500
"""Keys (or display values) looked up in one query."""


@dataclass(frozen=True, slots=True)
class ImportRequest:
    """An import as the route hands it over: the file, and how to read and apply it."""

    resource: str
    body: bytes
    media_type: str
    key: str | None = None
    dry_run: bool = True
    preview: int | None = None
    request_id: str | None = None
    as_drafts: bool = False


@dataclass
class Importer:
    """Who imports into which resource, and how the file's lines are read and matched.

    ``keys`` are the fields lines are matched by (none once the file turns
    out to have no key column at all); ``columns`` the field of each of the
    file's columns, known once its header is read.
    """

    records: RecordService
    actor: Actor
    resource: Resource
    request: ImportRequest
    readable: frozenset[str] = frozenset()
    keys: tuple[str, ...] = ()
    columns: list[str] = field(default_factory=list)


@dataclass(slots=True)
class Planned:
    """One line of the file: what it sets, the record it names, what it would do, what is wrong."""

    line: int
    op: ImportOp = "insert"
    values: dict[str, Any] = field(default_factory=dict)
    key: tuple[Any, ...] | None = None
    row: Row | None = None
    errors: list[FieldError] = field(default_factory=list)
    conflicts: list[ImportConflict] = field(default_factory=list)
    pk: str | None = None
    version: int | None = None
    columns: dict[str, Any] | None = None  # an insert's column values, as validated

    def answer(self) -> ImportRow:
        return ImportRow(
            line=self.line,
            op=self.op,
            pk=self.pk,
            version=self.version,
            errors=self.errors,
            conflicts=self.conflicts,
        )


def _summary(planned: Sequence[Planned]) -> ImportSummary:
    counts = {"insert": 0, "update": 0, "unchanged": 0}
    invalid = conflicts = 0
    for p in planned:
        if p.errors:
            invalid += 1
        elif p.conflicts:
            conflicts += 1
        else:
            counts[p.op] += 1
    return ImportSummary(**counts, invalid=invalid, conflicts=conflicts)


def result(planned: Sequence[Planned], **extra: Any) -> ImportResult:
    """The answer: every line's op and errors, and the summary (``extra``: preview, batch...)."""
    return ImportResult(rows=[p.answer() for p in planned], summary=_summary(planned), **extra)


def problem_body(result: ImportResult) -> dict[str, Any]:
    """The members a refused import's problem adds: ``rows`` and ``summary``, as a dry run's."""
    return {
        "rows": msgspec.to_builtins(result.rows),
        "summary": msgspec.to_builtins(result.summary),
    }


class Refused(Exception):
    """Raised inside the apply's transaction to roll it back; carries the lines."""

    def __init__(self, planned: Sequence[Planned], status: Literal[409, 422]) -> None:
        super().__init__()
        self.planned = planned
        self.status = status


def problem_errors(problem: ProblemError) -> list[FieldError]:
    """A refused write's problem as the errors of its line."""
    if isinstance(problem, ValidationFailed):
        return problem.errors
    listed = problem.extensions.get("errors")
    if listed:
        return [FieldError(e["field"], problem.detail) for e in listed]
    return [FieldError("", problem.detail)]


def created_since(importer: Importer, p: Planned) -> ImportConflict:
    """The conflict of a line whose record was created after the preview read the file."""
    name = importer.keys[0]
    return ImportConflict(
        field=name, base=None, theirs=p.values.get(name), yours=p.values.get(name)
    )
