"""The bodies of the workflow routes as msgspec Structs (see :mod:`collabadmin.auth.types`).

Request bodies are converted into these types at the edge (a body of the
wrong shape, or with an unknown member, is one 422 listing each field at
fault); :mod:`collabadmin.workflows.bodies` checks what their values mean.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

import msgspec

from collabadmin.auth.types import ActorRef
from collabadmin.resources.types import WorkflowSummary

__all__ = [
    "AssignRequest",
    "RunSubject",
    "StartRunRequest",
    "WorkflowFrame",
    "WorkflowList",
    "WorkflowRun",
    "WorkflowRunPage",
    "WorkflowStep",
]


class WorkflowList(msgspec.Struct, kw_only=True):
    items: list[WorkflowSummary]


class StepLink(msgspec.Struct, kw_only=True):
    """Where a step is done: a record (``pk``), a field of it, or a filtered list."""

    resource: str
    pk: str | None
    field: str | None
    filter: dict[str, str] | msgspec.UnsetType = msgspec.UNSET


class WorkflowStep(msgspec.Struct, kw_only=True):
    key: str
    title: str
    done: bool
    auto: bool
    done_by: ActorRef | None
    done_at: str | None
    link: StepLink | None


class RunSubject(msgspec.Struct, kw_only=True):
    resource: str
    pk: str


class RunProgress(msgspec.Struct, kw_only=True):
    done: int
    total: int


class WorkflowRun(msgspec.Struct, kw_only=True):
    id: int
    workflow: str
    title: str
    subject: RunSubject
    status: Literal["open", "done", "cancelled"]
    progress: RunProgress
    steps: list[WorkflowStep]
    assignee: ActorRef | None
    due_date: dt.date | None
    started_by: ActorRef
    created_at: dt.datetime
    updated_at: dt.datetime
    completed_at: dt.datetime | None
    version: int = msgspec.field(name="_version")


class WorkflowRunPage(msgspec.Struct, kw_only=True):
    items: list[WorkflowRun]
    next_cursor: str | None


class StartSubject(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """The record a run is about: a resource of the workflow's and its key."""

    resource: str
    pk: str | int


class StartRunRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    subject: StartSubject
    assignee: int | msgspec.UnsetType | None = msgspec.UNSET
    due_date: dt.date | msgspec.UnsetType | None = msgspec.UNSET


class AssignRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Who works on the run and by when; a member left out keeps its value, null clears it."""

    assignee: int | msgspec.UnsetType | None = msgspec.UNSET
    due_date: dt.date | msgspec.UnsetType | None = msgspec.UNSET


class WorkflowFrame(msgspec.Struct, kw_only=True, tag="workflow", tag_field="type"):
    """A websocket frame: a run's steps moved (its progress as the reader sees it)."""

    topic: str
    cursor: str
    event: Literal["progress"]
    run: WorkflowRun
