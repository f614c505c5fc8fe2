"""The websocket frames the server sends, as a msgspec tagged union on ``type``.

The hub still builds its frames as dicts and encodes each once per audience
(:func:`collabadmin.hub.clients.encode_frame`); these Structs describe them.
The frames of higher parts (``draft``, ``workflow``) are declared by those
parts (:mod:`collabadmin.drafts.types`, :mod:`collabadmin.workflows.types`),
and the whole union, ``Frame``, is put together where every part is known:
the OpenAPI document's components (:func:`collabadmin.openapi.document_frames`).
tests/hub/test_frames.py decodes real frames, captured from live sockets,
as that union.

The messages a client sends are here too (``CLIENT_MESSAGES``, documented
as ``ClientMessage``); collabadmin.hub.routes reads them.
"""

from __future__ import annotations

from typing import Any, Literal

import msgspec

from collabadmin.changelog.types import Change

__all__ = [
    "CLIENT_MESSAGES",
    "CORE_FRAMES",
    "BatchFrame",
    "ChangeFrame",
    "ErrorFrame",
    "PingMessage",
    "PongFrame",
    "PresenceFrame",
    "PresenceMessage",
    "PresenceUser",
    "ResyncFrame",
    "SubscribeMessage",
    "SubscribedFrame",
    "UnsubscribeMessage",
    "UnsubscribedFrame",
]


class SubscribedFrame(msgspec.Struct, kw_only=True, tag="subscribed", tag_field="type"):
    """A subscription is live from ``cursor`` (replayed from ``since`` if one was given)."""

    topic: str
    cursor: str


class ChangeFrame(msgspec.Struct, kw_only=True, tag="change", tag_field="type"):
    """A committed change on ``topic``; ``cursor`` resumes just after it."""

    topic: str
    cursor: str
    change: Change


class PresenceUser(msgspec.Struct, kw_only=True):
    id: int | None
    name: str
    state: Literal["viewing", "editing"]
    # Only a field this reader may read; null otherwise.
    field: str | None


class PresenceFrame(msgspec.Struct, kw_only=True, tag="presence", tag_field="type"):
    """Who is on a record topic; on a list topic, who is on the row ``pk`` (empty: nobody)."""

    topic: str
    users: list[PresenceUser]
    pk: str | msgspec.UnsetType = msgspec.UNSET


class ResyncFrame(msgspec.Struct, kw_only=True, tag="resync", tag_field="type"):
    """The cursor is too old or the client fell behind: refetch, then follow again."""

    topic: str


class ErrorFrame(msgspec.Struct, kw_only=True, tag="error", tag_field="type"):
    code: str
    message: str
    topic: str | msgspec.UnsetType = msgspec.UNSET


class UnsubscribedFrame(msgspec.Struct, kw_only=True, tag="unsubscribed", tag_field="type"):
    topic: str


class PongFrame(msgspec.Struct, kw_only=True, tag="pong", tag_field="type"):
    pass


class BatchFrame(msgspec.Struct, kw_only=True, tag="batch", tag_field="type"):
    """Several frames one batch of the log made for this socket, in order, as one message.

    Only on sockets opened with ``/api/ws?batch=1``; each item is a frame
    (``Frame``), never a batch itself.
    """

    frames: list[dict[str, Any]]


CORE_FRAMES: tuple[type[msgspec.Struct], ...] = (
    SubscribedFrame,
    ChangeFrame,
    PresenceFrame,
    ResyncFrame,
    ErrorFrame,
    UnsubscribedFrame,
    PongFrame,
    BatchFrame,
)
"""The hub's own frames; the parts above add theirs to make ``Frame``."""


class SubscribeMessage(msgspec.Struct, kw_only=True, tag="subscribe", tag_field="type"):
    """Follow ``topic``; with ``since`` (a cursor it was given), replay what came after it."""

    topic: str
    since: str | msgspec.UnsetType = msgspec.UNSET


class UnsubscribeMessage(msgspec.Struct, kw_only=True, tag="unsubscribe", tag_field="type"):
    """Stop following ``topic``."""

    topic: str


class PresenceMessage(msgspec.Struct, kw_only=True, tag="presence", tag_field="type"):
    """On a followed record topic: this person views it, edits ``field`` of it, or left."""

    topic: str
    state: Literal["viewing", "editing", "left"]
    field: str | None = None


class PingMessage(msgspec.Struct, kw_only=True, tag="ping", tag_field="type"):
    """Answered with a ``pong`` frame."""


CLIENT_MESSAGES: tuple[type[msgspec.Struct], ...] = (
    SubscribeMessage,
    UnsubscribeMessage,
    PresenceMessage,
    PingMessage,
)
"""What a client sends on the socket, tagged by ``type`` (documented as ``ClientMessage``)."""
