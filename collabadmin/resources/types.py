"""The bodies of ``/api/meta`` and the record routes as msgspec Structs.

As in :mod:`collabadmin.auth.types`: the handlers declare them and encode
their dicts themselves (byte-identical), Schemathesis checks the real bodies
against them. Records themselves are open (their fields are the
resource's); per-resource record schemas are added to the document by
:mod:`collabadmin.resources.schemas`.
"""

from __future__ import annotations

from typing import Any

import msgspec

from collabadmin.changelog.types import Change
from collabadmin.resources.fields import FieldType
from collabadmin.resources.policy import Action
from collabadmin.resources.query import Operator

__all__ = [
    "Counts",
    "FieldMeta",
    "HistoryPage",
    "Meta",
    "RecordActionMeta",
    "RecordBody",
    "RecordPage",
    "RelatedMeta",
    "RelationMeta",
    "ResourceMeta",
    "ThroughMeta",
    "ValueCount",
    "WorkflowStepSummary",
    "WorkflowSummary",
]


RecordBody = dict[str, Any]
"""A record: its readable fields in their JSON forms, ``_version`` and ``_deleted_at``."""


class RelationMeta(msgspec.Struct, kw_only=True):
    resource: str
    display: str


class FieldMeta(msgspec.Struct, kw_only=True):
    """One readable field; the optional members are present only when they apply."""

    name: str
    type: FieldType
    label: str
    required: bool
    read_only: bool
    operators: list[Operator]
    items: FieldType | msgspec.UnsetType = msgspec.UNSET
    timezone: bool | msgspec.UnsetType = msgspec.UNSET
    read_only_after_create: bool | msgspec.UnsetType = msgspec.UNSET
    # The field alone names at most one record (an import may match lines by it).
    unique: bool | msgspec.UnsetType = msgspec.UNSET
    # Why the field is read-only here (present when read_only is true).
    read_only_reason: str | msgspec.UnsetType = msgspec.UNSET
    protected: bool | msgspec.UnsetType = msgspec.UNSET
    max_length: int | msgspec.UnsetType = msgspec.UNSET
    pattern: str | msgspec.UnsetType = msgspec.UNSET
    choices: list[str] | msgspec.UnsetType = msgspec.UNSET
    relation: RelationMeta | msgspec.UnsetType = msgspec.UNSET


class ThroughMeta(msgspec.Struct, kw_only=True):
    resource: str
    field: str


class RelatedMeta(msgspec.Struct, kw_only=True):
    resource: str
    field: str
    label: str
    through: ThroughMeta | msgspec.UnsetType = msgspec.UNSET


class RecordActionMeta(msgspec.Struct, kw_only=True):
    """A record action this user may run (a button); ``applies`` only for one record.

    ``confirm`` is the question a person answers before it runs, when the
    action declares one; ``applies`` whether it applies to that record now.
    """

    name: str
    label: str
    confirm: str | msgspec.UnsetType = msgspec.UNSET
    applies: bool | msgspec.UnsetType = msgspec.UNSET


class ResourceMeta(msgspec.Struct, kw_only=True):
    name: str
    label: str
    label_plural: str
    # One name, a list of names for a composite key, null when rows cannot be addressed.
    pk: str | list[str] | None
    display: str
    live: bool
    # A live view: its rows are computed by collabadmin from other records.
    derived: bool
    # The resource whose records a live view's rows describe, key for key.
    describes: str | None
    read_only_reason: str | None
    actions: list[Action]
    fields: list[FieldMeta]
    related: list[RelatedMeta]
    default_sort: list[str]
    searchable: bool
    soft_delete: bool
    preview_url: str | None
    record_actions: list[RecordActionMeta]


class StepLinkSummary(msgspec.Struct, kw_only=True):
    resource: str
    field: str | None


class WorkflowStepSummary(msgspec.Struct, kw_only=True):
    key: str
    title: str
    auto: bool
    link: StepLinkSummary | None


class WorkflowSummary(msgspec.Struct, kw_only=True):
    name: str
    title: str
    subject: str
    steps: list[WorkflowStepSummary]


class Meta(msgspec.Struct, kw_only=True):
    """``GET /api/meta``: resources, and the sections other parts add (workflows)."""

    resources: list[ResourceMeta]
    workflows: list[WorkflowSummary] | msgspec.UnsetType = msgspec.UNSET
    # The largest file an import takes (bytes); a larger one is a 413.
    import_max_bytes: int | msgspec.UnsetType = msgspec.UNSET


class RecordPage(msgspec.Struct, kw_only=True):
    """A page of a list: ``total`` is null when the count was skipped or too costly."""

    items: list[RecordBody]
    next_cursor: str | None
    total: int | None


class HistoryPage(msgspec.Struct, kw_only=True):
    """A record's changes, newest first (the audit log's ``Change`` shape)."""

    items: list[Change]
    next_cursor: str | None


class ValueCount(msgspec.Struct, kw_only=True):
    value: str | bool | None
    count: int


class Counts(msgspec.Struct, kw_only=True):
    by: str
    counts: list[ValueCount]
