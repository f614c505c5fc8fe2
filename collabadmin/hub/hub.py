"""The hub: reads the change log in commit order and feeds every subscribed socket.

One task per server process owns the stream. It wakes on NOTIFY (or every
few milliseconds in *poll* mode, and once a second in any mode as a safety
net), takes a snapshot, reads the batch of entries that committed since the
previous one, and fans it out. Subscriptions are applied by the same task
between batches, so a client's catch-up (the entries after its cursor) and
its live frames can neither overlap nor leave a gap.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import logging
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

import psycopg

from collabadmin.auth.policy import Policy
from collabadmin.db.engine import Actor, Database, Row, Tx
from collabadmin.errors import Forbidden, NotFound
from collabadmin.hub.clients import MAX_TOPICS, Client
from collabadmin.hub.fanout import Delivery, deliver
from collabadmin.hub.feeds import Feed
from collabadmin.hub.log import current_snapshot, read_between, read_since
from collabadmin.hub.position import BadPosition, Position
from collabadmin.hub.topics import Topic, TopicError, parse_topic
from collabadmin.resources.resource import Registry
from collabadmin.resources.service import RecordService

__all__ = ["Hub", "HubSettings", "SubscribeError"]

log = logging.getLogger("collabadmin.hub")


class SubscribeError(ValueError):
    """A subscription was refused; ``code`` goes into the error frame."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True, slots=True)
class HubSettings:
    wake: Literal["notify", "poll"] = "notify"
    poll_interval: float = 0.005  # poll mode
    safety_interval: float = 1.0  # notify mode: a lost or disabled NOTIFY costs at most this
    queue_capacity: int = 1000
    replay_window: float = 24 * 3600.0
    replay_limit: int = 10_000
    tick_history: int = 100_000  # batch boundaries kept for replay in commit order


def snapshot_order(snapshot: str) -> tuple[int, int]:
    """A sort key for snapshots: later snapshots have a higher xmax, or fewer running.

    Snapshots are points in PostgreSQL's commit sequence, so any two are
    comparable; this key orders them without a database round trip.
    """
    _xmin, xmax, running = snapshot.split(":")
    return int(xmax), -len([x for x in running.split(",") if x])


@dataclass
class _Request:
    client: Client
    topic: Topic
    since: Position | None
    done: asyncio.Future[None] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


class Hub:
    def __init__(
        self,
        db: Database,
        registry: Registry,
        policy: Policy,
        settings: HubSettings,
        feeds: Sequence[Feed] = (),
    ) -> None:
        self.db = db
        self.feeds = {feed.log_resource: feed for feed in feeds}
        self.registry = registry
        self.policy = policy
        self.settings = settings
        self.records = RecordService(db, registry, policy)
        self.position: Position | None = None
        self.subscriptions: dict[str, dict[Client, Topic]] = {}
        self.clients: set[Client] = set()
        self.batches = 0
        self.last_delivery = Delivery()
        # Counters for metrics: sockets whose queue overflowed, and resumes
        # answered with resync because the cursor was too far back.
        self.overflows = 0
        self.too_far_back = 0
        self._wake = asyncio.Event()
        self._requests: list[_Request] = []
        self._task: asyncio.Task[None] | None = None
        self._observers: list[Callable[[Delivery], None]] = []
        self._batch_observers: list[Callable[[Sequence[Row], Delivery], None]] = []
        # Upper snapshots of the batches read, oldest first. A replay walks
        # the same boundaries, so a resumed client sees changes in the order a
        # live one did (not merely in id order).
        self._ticks: deque[tuple[tuple[int, int], str, float]] = deque(maxlen=settings.tick_history)

    # -- lifecycle -----------------------------------------------------------

    def wake(self) -> None:
        self._wake.set()

    async def start(self) -> None:
        async with self.db.connection() as tx:
            self.position = Position.boundary(await current_snapshot(tx))
        self._task = asyncio.create_task(self._run(), name="collabadmin-hub")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        for request in self._requests:
            if not request.done.done():
                request.done.cancel()

    def observe(self, callback: Callable[[Delivery], None]) -> None:
        self._observers.append(callback)

    def observe_batches(self, callback: Callable[[Sequence[Row], Delivery], None]) -> None:
        """``callback(entries, delivery)`` right after each batch is queued to the sockets."""
        self._batch_observers.append(callback)

    async def _run(self) -> None:
        interval = (
            self.settings.poll_interval
            if self.settings.wake == "poll"
            else self.settings.safety_interval
        )
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), interval)
            self._wake.clear()
            try:
                await self._step()
            except (psycopg.Error, OSError) as exc:
                # The database is away; the position is unchanged, so the next
                # step reads everything committed meanwhile.
                log.warning("hub could not read the change log: %s", type(exc).__name__)
                await asyncio.sleep(min(1.0, interval * 10))
            except Exception:
                # A bug must not silence the stream for every socket: log it and
                # try the same batch again (deliver() does all its database work
                # before it offers the first frame).
                log.exception("hub step failed")
                await asyncio.sleep(1.0)

    async def _step(self) -> None:
        assert self.position is not None
        async with self.db.connection() as tx:
            lower = self.position.upper
            wanted = self._wanted_resources()
            entries: list[Row]
            if wanted == []:
                # Nobody follows anything: advance without reading entries.
                upper, entries = await current_snapshot(tx), []
            else:
                upper, entries = await read_since(tx, lower, wanted)
            if upper != lower:
                batch = Position(lower, upper, 0, time.time())
                self._ticks.append((snapshot_order(upper), upper, time.time()))
                if entries:
                    delivery = await deliver(
                        tx,
                        entries,
                        batch,
                        registry=self.registry,
                        policy=self.policy,
                        subscriptions=self.subscriptions,
                        feeds=self.feeds,
                    )
                    self.batches += 1
                    self.last_delivery = delivery
                    for observer in self._observers:
                        observer(delivery)
                    for batch_observer in self._batch_observers:
                        # Metrics must never make the batch be delivered twice.
                        try:
                            batch_observer(entries, delivery)
                        except Exception:
                            log.exception("batch observer failed")
                self.position = Position.boundary(upper)
            requests, self._requests = self._requests, []
            for request in requests:
                try:
                    await self._apply(tx, request)
                except SubscribeError as exc:
                    if not request.done.done():
                        request.done.set_exception(exc)

    # -- clients -------------------------------------------------------------

    def connect(self, actor: Actor) -> Client:
        client = Client(actor, capacity=self.settings.queue_capacity, on_drop=self._dropped)
        self.clients.add(client)
        return client

    def _dropped(self, client: Client, topics: list[str]) -> None:
        """A client overflowed: it is no longer subscribed to ``topics``."""
        self.overflows += 1
        for name in topics:
            self._drop(client, name)

    def disconnect(self, client: Client) -> None:
        client.closed = True
        self.clients.discard(client)
        for name in list(client.topics):
            self._drop(client, name)

    def _drop(self, client: Client, name: str) -> None:
        client.topics.pop(name, None)
        subscribers = self.subscriptions.get(name)
        if subscribers is not None:
            subscribers.pop(client, None)
            if not subscribers:
                del self.subscriptions[name]

    def unsubscribe(self, client: Client, name: str) -> bool:
        known = name in client.topics
        self._drop(client, name)
        return known

    def check_topic(self, actor: Actor, raw: object) -> Topic:
        """Parse a topic and check the actor may follow it (SubscribeError if not)."""
        try:
            topic = parse_topic(raw)
        except TopicError as exc:
            raise SubscribeError("bad_topic", str(exc)) from None
        if topic.kind == "audit":
            if not any(self.policy.allows(actor, r, "audit") for r in self.registry):
                raise SubscribeError("forbidden", "You may not follow the audit log.")
            return topic
        if topic.kind in ("drafts", "workflow-run"):
            if self._feed_for(topic) is None:
                raise SubscribeError("bad_topic", f"This server has no {topic.kind} topic.")
            return topic
        assert topic.resource is not None
        if topic.resource not in self.registry:
            raise SubscribeError("not_found", f"No resource named {topic.resource!r}.")
        resource = self.registry.get(topic.resource)
        if not self.policy.allows(actor, resource, "view"):
            raise SubscribeError("forbidden", f"You may not view {resource.label_plural.lower()}.")
        return topic

    async def subscribe(self, client: Client, raw_topic: object, since: object) -> None:
        """Subscribe from ``since`` (a cursor) or from now; frames go to the client's queue."""
        topic = self.check_topic(client.actor, raw_topic)
        position = None
        if since is not None:
            try:
                position = Position.decode(since)  # type: ignore[arg-type]
            except BadPosition as exc:
                raise SubscribeError("bad_cursor", str(exc)) from None
        if topic.name not in client.topics and len(client.topics) >= MAX_TOPICS:
            raise SubscribeError("too_many_topics", f"At most {MAX_TOPICS} topics per socket.")
        if topic.kind == "record":
            await self._check_record(client.actor, topic)
        feed = self._feed_for(topic)
        if feed is not None and topic.kind != "record":
            await feed.check(client.actor, topic)
        request = _Request(client, topic, position)
        self._requests.append(request)
        self.wake()
        await request.done

    async def _check_record(self, actor: Actor, topic: Topic) -> None:
        """A record topic needs the record to be visible to the actor (else not_found)."""
        assert topic.resource is not None
        assert topic.pk is not None
        resource = self.registry.get(topic.resource)
        try:
            await self.records.get_row(actor, resource.name, topic.pk)
        except (NotFound, Forbidden):
            raise SubscribeError(
                "not_found", f"No {resource.label.lower()} {topic.pk!r}."
            ) from None

    async def _apply(self, tx: Tx, request: _Request) -> None:
        """Catch the client up from its cursor to the hub's position, then go live."""
        client, topic, since = request.client, request.topic, request.since
        assert self.position is not None
        if client.closed:
            request.done.set_result(None)
            return
        if since is not None:
            await self._check_cursor(tx, since)
        start = since or self.position
        client.send({"type": "subscribed", "topic": topic.name, "cursor": start.encode()})
        client.topics[topic.name] = topic
        overflows = client.overflows
        if since is not None and not await self._replay(tx, client, topic, since):
            if client.overflows == overflows:  # else counted as an overflow
                self.too_far_back += 1
            if client.topics.pop(topic.name, None) is not None:
                client.send({"type": "resync", "topic": topic.name})
            request.done.set_result(None)
            return
        self.subscriptions.setdefault(topic.name, {})[client] = topic
        request.done.set_result(None)

    def _feed_for(self, topic: Topic) -> Feed | None:
        for feed in self.feeds.values():
            if feed.follows(topic) and topic.kind != "record":
                return feed
        return None

    def _resources_of(self, topic: Topic) -> set[str]:
        """The log resources whose entries may go to ``topic``."""
        names = {feed.log_resource for feed in self.feeds.values() if feed.follows(topic)}
        if topic.resource is not None:
            names.add(topic.resource)
        return names

    def _wanted_resources(self) -> list[str] | None:
        """Resources some subscription follows (None: all of them, for the audit feed)."""
        if "audit" in self.subscriptions:
            return None
        names: set[str] = set()
        for subscribers in self.subscriptions.values():
            for topic in subscribers.values():
                names |= self._resources_of(topic)
                break  # every subscriber of a topic follows the same resources
        return sorted(names)

    def _ticks_after(self, snapshot: str) -> list[tuple[str, float]]:
        """Recorded batch boundaries later than ``snapshot``, oldest first."""
        key = snapshot_order(snapshot)
        ticks = list(self._ticks)
        start = bisect.bisect_right([t[0] for t in ticks], key)
        return [(upper, at) for _, upper, at in ticks[start:]]

    async def _check_cursor(self, tx: Tx, since: Position) -> None:
        """The cursor's snapshots parse and are not ahead of the hub's position."""
        assert self.position is not None
        try:
            ordered = await tx.value(
                "SELECT pg_snapshot_xmin(%(l)s::pg_snapshot)"
                " <= pg_snapshot_xmin(%(u)s::pg_snapshot)"
                " AND pg_snapshot_xmax(%(u)s::pg_snapshot)"
                " <= pg_snapshot_xmax(%(now)s::pg_snapshot)",
                {"l": since.lower, "u": since.upper, "now": self.position.upper},
            )
        except psycopg.DataError:
            ordered = False
        if not ordered:
            raise SubscribeError("bad_cursor", "cursor is not valid")

    async def _replay(self, tx: Tx, client: Client, topic: Topic, since: Position) -> bool:
        """Send what ``client`` missed on ``topic``; False if it is too far back."""
        assert self.position is not None
        if time.time() - since.at > self.settings.replay_window:
            return False
        limit = self.settings.replay_limit
        spans = []
        if not since.at_boundary:
            spans.append((Position(since.lower, since.upper, 0, since.at), since.after_id))
        lower = since.upper
        for upper, at in self._ticks_after(since.upper):
            spans.append((Position(lower, upper, 0, at), 0))
            lower = upper
        if lower != self.position.upper:
            spans.append((Position(lower, self.position.upper, 0, time.time()), 0))
        only = {topic.name: {client: topic}}
        for span, after_id in spans:
            entries = await read_between(
                tx,
                span.lower,
                span.upper,
                after_id=after_id,
                limit=limit + 1,
                resources=None if topic.kind == "audit" else sorted(self._resources_of(topic)),
            )
            if len(entries) > limit:
                return False
            await deliver(
                tx,
                entries,
                span,
                registry=self.registry,
                policy=self.policy,
                subscriptions=only,
                feeds=self.feeds,
            )
            if client.overflows:
                return False
        return True
