"""The bodies of the draft routes as msgspec Structs (see :mod:`collabadmin.auth.types`).

Request bodies are still parsed by :mod:`collabadmin.drafts.bodies` (every
problem of a body in one 422); these types document them.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

import msgspec

from collabadmin.auth.types import ActorRef
from collabadmin.changelog.types import Change

__all__ = [
    "CommentRequest",
    "Draft",
    "DraftDetail",
    "DraftEditRequest",
    "DraftEvent",
    "DraftEventList",
    "DraftFrame",
    "DraftPage",
    "DraftRef",
    "NewDraft",
    "PublishRequest",
    "RebaseRequest",
]

DraftStatus = Literal["draft", "submitted", "approved", "rejected", "published", "discarded"]


class Draft(msgspec.Struct, kw_only=True):
    id: int
    resource: str
    pk: str | None
    base_version: int | None
    status: DraftStatus
    # Only the fields the reader may see, in their JSON forms.
    data: dict[str, Any]
    author: ActorRef | None
    created_at: dt.datetime
    updated_at: dt.datetime
    publish_at: dt.datetime | None
    publish_error: dict[str, Any] | None
    published_at: dt.datetime | None
    published_version: int | None
    version: int = msgspec.field(name="_version")


class DraftDiff(msgspec.Struct, kw_only=True):
    live: Any
    draft: Any


class DraftDetail(Draft, kw_only=True):
    live_version: int | None
    diff: dict[str, DraftDiff]


class DraftPage(msgspec.Struct, kw_only=True):
    items: list[Draft]
    next_cursor: str | None


class DraftEvent(msgspec.Struct, kw_only=True):
    id: int
    at: dt.datetime
    actor: ActorRef | None
    action: str
    from_status: DraftStatus | None
    to_status: DraftStatus | None
    comment: str | None


class DraftEventList(msgspec.Struct, kw_only=True):
    items: list[DraftEvent]


class NewDraft(msgspec.Struct, kw_only=True):
    """``POST .../drafts``: the drafted fields."""

    data: dict[str, Any] = {}


class DraftEditRequest(msgspec.Struct, kw_only=True):
    """``PATCH /api/drafts/{id}``: fields to set, and fields to drop from the draft."""

    data: dict[str, Any] = {}
    unset: list[str] = []


class CommentRequest(msgspec.Struct, kw_only=True):
    comment: str | None = None


class PublishRequest(msgspec.Struct, kw_only=True):
    comment: str | None = None
    # Schedules the publication instead of publishing now.
    publish_at: dt.datetime | None = None


class RebaseRequest(msgspec.Struct, kw_only=True):
    # Per conflicting field: keep the draft's value or take the live one.
    resolutions: dict[str, Literal["theirs", "yours"]] = {}


class DraftRef(msgspec.Struct, kw_only=True):
    id: int
    resource: str
    pk: str | None


class DraftFrame(msgspec.Struct, kw_only=True, tag="draft", tag_field="type"):
    """A websocket frame: something happened to a draft (its entry in the change log)."""

    topic: str
    cursor: str
    event: Literal[
        "created",
        "updated",
        "submitted",
        "approved",
        "rejected",
        "published",
        "discarded",
        "publish_failed",
    ]
    draft: DraftRef
    change: Change
