"""Websocket topics: what a client can subscribe to."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

__all__ = ["Topic", "TopicError", "parse_topic"]

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
_PK = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")


class TopicError(ValueError):
    """The topic is malformed or names something unknown."""


@dataclass(frozen=True, slots=True)
class Topic:
    """``r/{resource}``, ``r/{resource}/{pk}`` or ``audit``."""

    name: str
    kind: Literal["resource", "record", "audit"]
    resource: str | None = None
    pk: str | None = None


def parse_topic(name: object) -> Topic:
    if not isinstance(name, str) or len(name) > 200:
        raise TopicError("topic must be a string like r/courses, r/courses/42 or audit")
    if name == "audit":
        return Topic(name, "audit")
    parts = name.split("/")
    if parts[0] == "r" and len(parts) in (2, 3) and _NAME.match(parts[1]):
        if len(parts) == 2:
            return Topic(name, "resource", parts[1])
        if _PK.match(parts[2]):
            return Topic(name, "record", parts[1], parts[2])
    if parts[0] in ("drafts", "workflow-runs"):
        raise TopicError(f"topic {parts[0]!r} is not available on this server yet")
    raise TopicError("topic must be r/{resource}, r/{resource}/{pk} or audit")
