"""JSON bodies of workflow requests as typed inputs, parsed at the edge (the routes).

Every problem of a body is reported at once (a 422 listing each field).
What needs the database (whether the assignee is an active user) is
checked by the actions.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import msgspec
from msgspec import UNSET, UnsetType

from collabadmin.errors import FieldError, ValidationFailed

__all__ = ["Assignment", "RunStart", "parse_assignment", "parse_start"]

_START_FIELDS = {"subject", "assignee", "due_date"}
_ASSIGN_FIELDS = {"assignee", "due_date"}


class Assignment(msgspec.Struct, frozen=True):
    """Who works on a run and by when; ``UNSET`` keeps the current value, None clears it."""

    assignee: int | UnsetType | None = UNSET
    due_date: dt.date | UnsetType | None = UNSET


@dataclass(frozen=True, slots=True)
class RunStart:
    """``POST /api/workflows/{name}/runs``: the subject's key text, and the first assignment."""

    subject_pk: str
    assignment: Assignment


def _assignment(body: Mapping[str, Any], errors: list[FieldError]) -> Assignment:
    assignee: int | UnsetType | None = UNSET
    if "assignee" in body:
        raw = body["assignee"]
        if raw is not None and (isinstance(raw, bool) or not isinstance(raw, int)):
            errors.append(FieldError("assignee", "A user id."))
        else:
            assignee = raw
    due: dt.date | UnsetType | None = UNSET
    if "due_date" in body:
        due = None
        if body["due_date"] is not None:
            try:
                due = dt.date.fromisoformat(str(body["due_date"]))
            except ValueError:
                errors.append(FieldError("due_date", "A date like 2026-12-01."))
    return Assignment(assignee, due)


def parse_assignment(body: Mapping[str, Any]) -> Assignment:
    """``{"assignee"?, "due_date"?}`` of ``PATCH /api/workflow-runs/{id}``."""
    errors = [FieldError(k, "Unknown field.") for k in sorted(set(body) - _ASSIGN_FIELDS)]
    assignment = _assignment(body, errors)
    if errors:
        raise ValidationFailed(errors)
    return assignment


def parse_start(body: Mapping[str, Any], subject_resource: str) -> RunStart:
    """``{"subject": {"resource", "pk"}, "assignee"?, "due_date"?}`` of a run of that subject."""
    errors = [FieldError(k, "Unknown field.") for k in sorted(set(body) - _START_FIELDS)]
    subject = body.get("subject")
    pk = subject.get("pk") if isinstance(subject, dict) else None
    if (
        not isinstance(subject, dict)
        or subject.get("resource") != subject_resource
        or not isinstance(pk, str | int)
        or isinstance(pk, bool)
    ):
        errors.append(FieldError("subject", f'{{"resource": "{subject_resource}", "pk": …}}'))
    assignment = _assignment(body, errors)
    if errors:
        raise ValidationFailed(errors)
    return RunStart(str(pk), assignment)
