"""The bodies of the draft routes as msgspec Structs (see :mod:`collabadmin.auth.types`).

Request bodies are converted into these types at the edge (a body of the
wrong shape, or with an unknown member, is one 422 listing each field at
fault); what needs the draft or the record is checked by the actions.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

import msgspec

from collabadmin.auth.types import ActorRef
from collabadmin.changelog.types import Change

__all__ = [
    "MAX_COMMENT",
    "CommentRequest",
    "Draft",
    "DraftBatchPublished",
    "DraftDetail",
    "DraftEditRequest",
    "DraftEvent",
    "DraftEventList",
    "DraftFrame",
    "DraftPage",
    "DraftRef",
    "NewDraft",
    "PublishRequest",
    "PublishedDraft",
    "RebaseRequest",
]

MAX_COMMENT = 4000
Comment = Annotated[str, msgspec.Meta(max_length=MAX_COMMENT)]
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
    # The import this draft was staged by (its drafts are published together).
    batch: int | None = None
    version: int = msgspec.field(name="_version")


class PublishedDraft(Draft, kw_only=True):
    """A draft after publish: ``record`` is the live record it wrote (none when scheduled)."""

    record: dict[str, Any] | msgspec.UnsetType = msgspec.UNSET


class DraftDiff(msgspec.Struct, kw_only=True):
    live: Any
    draft: Any


class DraftDetail(Draft, kw_only=True):
    live_version: int | None
    diff: dict[str, DraftDiff]


class DraftBatchPublished(msgspec.Struct, kw_only=True):
    """A batch of drafts (an import staged for review) published: the drafts, in order."""

    batch: int
    published: list[int]


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


class NewDraft(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """``POST .../drafts``: the drafted fields."""

    data: dict[str, Any] = {}


class DraftEditRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """``PATCH /api/drafts/{id}``: fields to set, and fields to drop from the draft."""

    data: dict[str, Any] = {}
    unset: list[str] = []


def _text(comment: str | None) -> str | None:
    return (comment.strip() or None) if comment is not None else None


class CommentRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A review comment; blank is none (a transition may go without one)."""

    comment: Comment | None = None

    @property
    def text(self) -> str | None:
        """The comment without surrounding blanks; None if there is nothing else."""
        return _text(self.comment)


class PublishRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    comment: Comment | None = None
    # Schedules the publication instead of publishing now (no offset: UTC).
    publish_at: dt.datetime | None = None

    @property
    def text(self) -> str | None:
        return _text(self.comment)

    @property
    def when(self) -> dt.datetime | None:
        """``publish_at`` with its time zone (UTC when it was sent without one)."""
        at = self.publish_at
        return at if at is None or at.tzinfo else at.replace(tzinfo=dt.UTC)


class RebaseRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
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
