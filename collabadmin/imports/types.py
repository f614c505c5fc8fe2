"""The bodies of an import's answer as msgspec Structs: per line, a summary, the preview."""

from __future__ import annotations

from typing import Any, Literal

import msgspec

from collabadmin.errors import FieldError

__all__ = ["ImportConflict", "ImportOp", "ImportResult", "ImportRow", "ImportSummary"]


ImportOp = Literal["insert", "update", "unchanged"]


class ImportConflict(msgspec.Struct, kw_only=True):
    """A field of an imported row changed by someone else since the version the preview saw."""

    field: str
    base: Any
    theirs: Any
    yours: Any


class ImportRow(msgspec.Struct, kw_only=True):
    """One line of an imported file: what it does (or would do), and what is wrong with it.

    ``op`` is what the line means (an ``insert`` when no record has its key);
    a line with ``errors`` or ``conflicts`` is written in no case. ``pk`` and
    ``version`` name the record a line updates (or leaves unchanged), as read
    by the preview; after an apply, the record as written.
    """

    line: int
    op: ImportOp
    pk: str | None = None
    version: int | None = None
    errors: list[FieldError] = msgspec.field(default_factory=list)
    conflicts: list[ImportConflict] = msgspec.field(default_factory=list)


class ImportSummary(msgspec.Struct, kw_only=True):
    """How many lines insert, update or leave a record unchanged; ``invalid``: lines with errors."""

    insert: int
    update: int
    unchanged: int
    invalid: int
    conflicts: int = 0


class ImportResult(msgspec.Struct, kw_only=True):
    """The answer of an import: per line, a summary, and (dry run) the preview to apply.

    ``preview`` is the id to pass as ``preview=`` when applying the same file:
    the apply then refuses (409) to overwrite a field changed since this
    preview read its record. ``applied`` is true once the rows are written;
    ``batch``, after an import as drafts, the batch its drafts belong to.
    """

    rows: list[ImportRow]
    summary: ImportSummary
    preview: int | None = None
    applied: bool = False
    batch: int | None = None
