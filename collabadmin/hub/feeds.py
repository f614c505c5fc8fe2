"""Feeds: change-log entries of collabadmin's own tables, turned into typed frames.

Drafts and workflow runs are tracked tables too, so their changes travel in
the same commit-ordered log as records and inherit its guarantees (resume
with a cursor, exactly once, in order). A feed claims the entries of one
log resource (``drafts``, ``workflow_runs``), says which topics they go to,
and builds each frame once per group of subscribers that may see the same
thing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from collabadmin.db.engine import Actor, Row, Tx
from collabadmin.hub.clients import Client
from collabadmin.hub.topics import Topic

__all__ = ["Feed", "Routed", "Subscriptions", "clients_on"]

Subscriptions = Mapping[str, Mapping[Client, Topic]]


@dataclass
class Routed:
    """The frames of one entry for one topic: each body goes to its clients."""

    topic: str
    audiences: list[tuple[dict[str, Any], list[Client]]] = field(default_factory=list)


class Feed(Protocol):
    log_resource: str

    def follows(self, topic: Topic) -> bool:
        """Whether entries of this feed may go to ``topic`` (so the hub reads them)."""
        ...

    async def check(self, actor: Actor, topic: Topic) -> None:
        """Refuse a subscription (SubscribeError) to a topic of this feed."""
        ...

    async def route(
        self, tx: Tx, entries: Sequence[Row], subscriptions: Subscriptions
    ) -> dict[int, list[Routed]]:
        """Per entry id, the frames (without ``topic``/``cursor``) for each topic."""
        ...


def clients_on(subscriptions: Subscriptions, topics: Iterable[str]) -> set[Client]:
    found: set[Client] = set()
    for name in topics:
        found.update(subscriptions.get(name, {}))
    return found
