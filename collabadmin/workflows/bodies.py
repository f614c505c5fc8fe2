"""What the typed bodies of workflow requests mean, checked at the edge (the routes).

The shape of each body is the Struct's (:mod:`collabadmin.workflows.types`);
here is what a Struct cannot say: that the subject is a record of the
workflow's resource. What needs the database (whether the subject exists,
whether the assignee is an active user) is checked by the actions.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import msgspec
from msgspec import UNSET, UnsetType

from collabadmin.errors import FieldError, ValidationFailed
from collabadmin.workflows.types import AssignRequest, StartRunRequest

__all__ = ["Assignment", "RunStart", "assignment", "run_start"]


class Assignment(msgspec.Struct, frozen=True):
    """Who works on a run and by when; ``UNSET`` keeps the current value, None clears it."""

    assignee: int | UnsetType | None = UNSET
    due_date: dt.date | UnsetType | None = UNSET


@dataclass(frozen=True, slots=True)
class RunStart:
    """``POST /api/workflows/{name}/runs``: the subject's key text, and the first assignment."""

    subject_pk: str
    assignment: Assignment


def assignment(body: AssignRequest | StartRunRequest) -> Assignment:
    """The assignment a body sets (``{"assignee"?, "due_date"?}``)."""
    return Assignment(body.assignee, body.due_date)


def run_start(body: StartRunRequest, subject_resource: str) -> RunStart:
    """The start of a run whose workflow is about ``subject_resource`` (422 for another)."""
    if body.subject.resource != subject_resource:
        raise ValidationFailed(
            [FieldError("subject", f'{{"resource": "{subject_resource}", "pk": …}}')]
        )
    return RunStart(str(body.subject.pk), assignment(body))
