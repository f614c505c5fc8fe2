"""JSON bodies of draft requests as typed inputs, parsed at the edge (the routes).

Each parser reports every problem of a body at once (a 422 listing each
field), as record bodies are reported, and hands the actions plain typed
values: they never see a request body.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from collabadmin.changelog.conflicts import Resolution
from collabadmin.errors import FieldError, ValidationFailed

__all__ = [
    "MAX_COMMENT",
    "DraftEdit",
    "PublishBody",
    "parse_comment",
    "parse_data",
    "parse_edit",
    "parse_publish",
    "parse_resolutions",
]

MAX_COMMENT = 4000


@dataclass(frozen=True, slots=True)
class DraftEdit:
    """``PATCH /api/drafts/{id}``: fields to set, and fields to drop from the draft."""

    data: dict[str, Any]
    unset: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class PublishBody:
    comment: str | None
    publish_at: dt.datetime | None


def _unknown(body: Mapping[str, Any], allowed: set[str]) -> list[FieldError]:
    return [FieldError(k, "Unknown field.") for k in sorted(set(body) - allowed)]


def _comment(body: Mapping[str, Any], errors: list[FieldError]) -> str | None:
    comment = body.get("comment")
    if comment is not None and (not isinstance(comment, str) or len(comment) > MAX_COMMENT):
        errors.append(FieldError("comment", f"Text of at most {MAX_COMMENT} characters."))
        return None
    return comment.strip() or None if isinstance(comment, str) else None


def parse_comment(body: Mapping[str, Any]) -> str | None:
    """The optional ``comment`` of a transition body (422 if it is not short text)."""
    errors = _unknown(body, {"comment"})
    comment = _comment(body, errors)
    if errors:
        raise ValidationFailed(errors)
    return comment


def _data(body: Mapping[str, Any], errors: list[FieldError]) -> dict[str, Any]:
    data: Any = body.get("data", {})
    if not isinstance(data, dict):
        errors.append(FieldError("data", "An object of field values."))
        return {}
    return {str(name): value for name, value in data.items()}


def parse_data(body: Mapping[str, Any]) -> dict[str, Any]:
    """``{"data": {...}}`` of a new draft."""
    errors = _unknown(body, {"data"})
    data = _data(body, errors)
    if errors:
        raise ValidationFailed(errors)
    return data


def parse_edit(body: Mapping[str, Any]) -> DraftEdit:
    errors = _unknown(body, {"data", "unset"})
    data = _data(body, errors)
    unset = body.get("unset", [])
    if not isinstance(unset, list) or not all(isinstance(n, str) for n in unset):
        errors.append(FieldError("unset", "A list of field names."))
        unset = []
    if errors:
        raise ValidationFailed(errors)
    return DraftEdit(data, tuple(unset))


def parse_publish(body: Mapping[str, Any]) -> PublishBody:
    """``{"comment"?, "publish_at"?}``: publish now, or schedule for a time."""
    errors = _unknown(body, {"comment", "publish_at"})
    comment = _comment(body, errors)
    raw = body.get("publish_at")
    when: dt.datetime | None = None
    if raw is not None:
        try:
            if not isinstance(raw, str):
                raise ValueError
            when = dt.datetime.fromisoformat(raw)
        except ValueError:
            errors.append(
                FieldError("publish_at", "An ISO 8601 date-time, e.g. 2026-12-01T09:00:00Z.")
            )
        else:
            when = when if when.tzinfo else when.replace(tzinfo=dt.UTC)
    if errors:
        raise ValidationFailed(errors)
    return PublishBody(comment, when)


def parse_resolutions(body: Mapping[str, Any]) -> dict[str, Resolution]:
    """``{"resolutions": {field: "theirs" | "yours"}}`` of a rebase."""
    errors = _unknown(body, {"resolutions"})
    raw: Any = body.get("resolutions", {})
    resolutions: dict[str, Resolution] = {}
    if not isinstance(raw, dict) or not all(v in ("theirs", "yours") for v in raw.values()):
        errors.append(FieldError("resolutions", 'An object of field: "theirs" | "yours".'))
    else:
        resolutions = {str(n): "theirs" if v == "theirs" else "yours" for n, v in raw.items()}
    if errors:
        raise ValidationFailed(errors)
    return resolutions
