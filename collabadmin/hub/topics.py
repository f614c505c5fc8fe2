"""Websocket topics: what a client can subscribe to."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

__all__ = ["Topic", "TopicError", "parse_topic"]

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
# A record's key as the change log writes it (collabadmin.resources.keys): any
# printable text, with its own "%" and "," escaped; it may hold "/".
_PK = re.compile(r"^[^\x00-\x1f\x7f]{1,180}$")
_ID = re.compile(r"^[1-9][0-9]{0,17}$")

Kind = Literal["resource", "record", "audit", "drafts", "workflow-run", "job"]


class TopicError(ValueError):
    """The topic is malformed or names something unknown."""


@dataclass(frozen=True, slots=True)
class Topic:
    """A topic: ``r/{resource}``, ``r/{resource}/{pk}``, ``drafts``, ``audit``...

    ... ``workflow-runs/{id}`` or ``jobs/{id}``.
    """

    name: str
    kind: Kind
    resource: str | None = None
    pk: str | None = None


def parse_topic(name: object) -> Topic:
    if not isinstance(name, str) or len(name) > 200:
        raise TopicError("topic must be a string like r/courses, r/courses/42 or audit")
    if name == "audit":
        return Topic(name, "audit")
    if name == "drafts":
        return Topic(name, "drafts")
    parts = name.split("/", 2) if name.startswith("r/") else name.split("/")
    if parts[0] == "r" and len(parts) in (2, 3) and _NAME.match(parts[1]):
        if len(parts) == 2:
            return Topic(name, "resource", parts[1])
        if _PK.match(parts[2]):
            return Topic(name, "record", parts[1], parts[2])
    if parts[0] == "workflow-runs" and len(parts) == 2 and _ID.match(parts[1]):
        return Topic(name, "workflow-run", pk=parts[1])
    if parts[0] == "jobs" and len(parts) == 2 and _ID.match(parts[1]):
        return Topic(name, "job", pk=parts[1])
    raise TopicError(
        "topic must be r/{resource}, r/{resource}/{pk}, drafts, workflow-runs/{id},"
        " jobs/{id} or audit"
    )
