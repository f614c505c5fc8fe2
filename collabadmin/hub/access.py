"""Which topics exist and who may follow them, checked at subscribe and on role changes.

A topic is ``r/{resource}``, ``r/{resource}/{pk}``, ``audit``, or the topic of
a feed (``drafts``, ``workflow-runs/{id}``: see :mod:`collabadmin.hub.feeds`).
Every check raises :class:`SubscribeError`, whose ``code`` goes into the
client's error frame.
"""

from __future__ import annotations

from collections.abc import Sequence

from collabadmin.db.engine import Actor
from collabadmin.errors import Forbidden, NotFound, ValidationFailed
from collabadmin.hub.feeds import Feed
from collabadmin.hub.topics import Topic, TopicError, parse_topic
from collabadmin.resources.policy import Policy
from collabadmin.resources.resource import Registry
from collabadmin.resources.service import RecordService

__all__ = ["SubscribeError", "TopicAccess"]


class SubscribeError(ValueError):
    """A subscription was refused; ``code`` goes into the error frame."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class TopicAccess:
    """The topics of one hub: its resources, the audit, and the feeds added to it."""

    def __init__(
        self, registry: Registry, policy: Policy, records: RecordService, feeds: Sequence[Feed]
    ) -> None:
        self.registry = registry
        self.policy = policy
        self.records = records
        self.feeds: dict[str, Feed] = {}
        for feed in feeds:
            self.add_feed(feed)

    def add_feed(self, feed: Feed) -> None:
        if feed.log_resource in self.feeds:
            raise ValueError(f"a feed of {feed.log_resource!r} entries is already added")
        self.feeds[feed.log_resource] = feed

    def check(self, actor: Actor, raw: object) -> Topic:
        """Parse a topic and check the actor may follow it (SubscribeError if not)."""
        try:
            topic = parse_topic(raw)
        except TopicError as exc:
            raise SubscribeError("bad_topic", str(exc)) from None
        if topic.kind == "audit":
            if not any(self.policy.allows(actor, r, "audit") for r in self.registry):
                raise SubscribeError("forbidden", "You may not follow the audit log.")
            return topic
        if topic.kind in ("drafts", "workflow-run", "job"):
            if self.feed_for(topic) is None:
                raise SubscribeError("bad_topic", f"This server has no {topic.kind} topic.")
            return topic
        assert topic.resource is not None
        if topic.resource not in self.registry:
            raise SubscribeError("not_found", f"No resource named {topic.resource!r}.")
        resource = self.registry.get(topic.resource)
        if not self.policy.allows(actor, resource, "view"):
            raise SubscribeError("forbidden", f"You may not view {resource.label_plural.lower()}.")
        return topic

    async def check_subscription(self, actor: Actor, topic: Topic) -> None:
        """What only the database can tell: the record is visible, the feed allows it."""
        if topic.kind == "record":
            await self.check_record(actor, topic)
        feed = self.feed_for(topic)
        if feed is not None:
            await feed.check(actor, topic)

    async def check_record(self, actor: Actor, topic: Topic) -> None:
        """A record topic needs the record to be visible to the actor (else not_found)."""
        assert topic.resource is not None
        assert topic.pk is not None
        resource = self.registry.get(topic.resource)
        try:
            _, row = await self.records.get_row(actor, resource.name, topic.pk, stored=True)
        except (NotFound, Forbidden, ValidationFailed):
            raise SubscribeError(
                "not_found", f"No {resource.label.lower()} {topic.pk!r}."
            ) from None
        # Frames are routed by the key's text as the change log holds it, so
        # a topic naming the record another way (``01``, ``%2c``) would never
        # get one: say so instead of subscribing to silence.
        key = resource.key_of(row)
        if key != topic.pk:
            raise SubscribeError(
                "bad_topic", f"Name this record's topic with its key as r/{resource.name}/{key}."
            )

    def feed_for(self, topic: Topic) -> Feed | None:
        for feed in self.feeds.values():
            if feed.follows(topic) and topic.kind != "record":
                return feed
        return None

    def resources_of(self, topic: Topic) -> set[str]:
        """The log resources whose entries may go to ``topic``."""
        names = {feed.log_resource for feed in self.feeds.values() if feed.follows(topic)}
        if topic.resource is not None:
            names.add(topic.resource)
        return names
