"""The hub: reads the change log in commit order and feeds every subscribed socket.

One task per server process owns the stream. It wakes on NOTIFY (or every
few milliseconds in *poll* mode, and once a second in any mode as a safety
net), takes a snapshot, reads the batch of entries that committed since the
previous one, and fans it out. Subscriptions are applied by the same task
between batches, at the hub's position P: the client goes live from P at
once, and what it missed between its cursor and P is replayed by a task of
its own while the live frames of that topic are held behind it (see
:class:`~collabadmin.hub.clients.Held`). So a client's catch-up and its live
frames can neither overlap nor leave a gap, and a replay, however far back,
never delays the frames of other sockets.

Replay work is bounded whatever the cursor says: cursors are validated
strictly, a replay is one query of at most ``replay_limit`` entries (beyond
that the client is told to ``resync``), at most ``replay_concurrency``
replays run at a time (each holds a database connection), and a replay
yields to the event loop between chunks of frames.

A client lives no longer than its credential (:meth:`Hub.end_credential`,
:class:`~collabadmin.hub.credential_watch.CredentialWatch`), and its roles
are re-applied when they change (:meth:`Hub.reapply`).
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import logging
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

import psycopg

from collabadmin.auth.credentials import Credential
from collabadmin.auth.policy import Policy
from collabadmin.changelog.batches import current_snapshot, read_missed, read_since, visible_in
from collabadmin.changelog.position import BadPosition, Position, snapshot_order
from collabadmin.db.engine import Actor, Database, Row
from collabadmin.errors import Forbidden, NotFound, ValidationFailed
from collabadmin.hub.clients import MAX_TOPICS, Client, Held
from collabadmin.hub.fanout import Delivery, deliver
from collabadmin.hub.feeds import Feed
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
    replay_limit: int = 10_000  # entries per replay; beyond it, resync
    replay_concurrency: int = 4  # replays running at once (each holds a connection)
    replay_chunk: int = 200  # frames built between two yields to the event loop
    tick_history: int = 100_000  # batch boundaries kept for replay in commit order


# A recorded batch boundary: (sort key, upper snapshot, when it was read).
_Tick = tuple[tuple[int, int], str, float]


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
        self.replay_failures = 0
        self._wake = asyncio.Event()
        self._requests: list[_Request] = []
        self._replays: set[asyncio.Task[None]] = set()
        self._replay_slots = asyncio.Semaphore(settings.replay_concurrency)
        # Deliveries under way (the hub's batch, replay chunks): a delivery
        # plans with each client's permissions, awaits, then sends, so a
        # client's permissions are only swapped while none is under way.
        self._deliveries = 0
        self._no_deliveries = asyncio.Event()
        self._no_deliveries.set()
        self._task: asyncio.Task[None] | None = None
        self._observers: list[Callable[[Delivery], None]] = []
        self._batch_observers: list[Callable[[Sequence[Row], Delivery], None]] = []
        # Upper snapshots of the batches read, oldest first. A replay walks
        # the same boundaries, so a resumed client sees changes in the order a
        # live one did (not merely in id order).
        self._ticks: deque[_Tick] = deque(maxlen=settings.tick_history)

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
        for task in list(self._replays):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
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
                    async with self._delivering():
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
                self._apply(request)
            except Exception:
                # Never leave a subscriber waiting: it gets an error frame.
                log.exception("subscribe failed")
                if not request.done.done():
                    request.done.set_exception(
                        SubscribeError("internal", "The subscription failed; try again.")
                    )

    # -- clients -------------------------------------------------------------

    def connect(self, actor: Actor, credential: Credential | None = None) -> Client:
        client = Client(
            actor,
            capacity=self.settings.queue_capacity,
            credential=credential,
            on_drop=self._dropped,
        )
        self.clients.add(client)
        return client

    def end(self, client: Client, reason: str) -> None:
        """End a client now: no frame after this call; its socket closes with 4401."""
        for name in list(client.topics):
            self._drop(client, name)
        client.end(reason)

    def end_credential(self, key: str, reason: str = "credentials ended") -> int:
        """End every client authenticated by the credential ``key``; returns how many."""
        ended = [c for c in self.clients if c.credential is not None and c.credential.key == key]
        for client in ended:
            self.end(client, reason)
        return len(ended)

    async def reapply(self, client: Client, actor: Actor) -> list[str]:
        """The client's user changed (roles, name): its next frame is built for ``actor``.

        Topics it may no longer follow are dropped with an error frame each;
        returns their names. The swap waits until no delivery is under way
        (one batch, or one replay chunk, at most) and happens without an
        await, so no frame is ever built with the old permissions and sent
        after it, nor with a mix of both.
        """
        while self._deliveries:
            await self._no_deliveries.wait()
        client.actor = actor
        client.shapes.clear()
        lost = []
        for name, topic in list(client.topics.items()):
            try:
                self.check_topic(actor, name)
                if topic.kind == "record":
                    await self._check_record(actor, topic)
                feed = self._feed_for(topic)
                if feed is not None:
                    await feed.check(actor, topic)
            except SubscribeError as exc:
                if client.topics.get(name) is topic:
                    self._drop(client, name)
                    client.send(
                        {"type": "error", "code": exc.code, "topic": name, "message": str(exc)}
                    )
                    lost.append(name)
        return lost

    @contextlib.asynccontextmanager
    async def _delivering(self) -> AsyncIterator[None]:
        self._deliveries += 1
        self._no_deliveries.clear()
        try:
            yield
        finally:
            self._deliveries -= 1
            if not self._deliveries:
                self._no_deliveries.set()

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
        client.held.pop(name, None)
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
        if position is not None:
            await self._check_cursor(position)
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

    def _apply(self, request: _Request) -> None:
        """Go live at the hub's position; a resume replays what it missed on the side.

        Runs in the hub task between batches and never awaits, so no batch
        can slip between "live from P" and "replay up to P".
        """
        client, topic, since = request.client, request.topic, request.since
        assert self.position is not None
        if client.closed:
            request.done.set_result(None)
            return
        start = since or self.position
        client.send({"type": "subscribed", "topic": topic.name, "cursor": start.encode()})
        client.topics[topic.name] = topic
        self.subscriptions.setdefault(topic.name, {})[client] = topic
        if since is None:
            request.done.set_result(None)
            return
        held = client.hold(topic.name)
        task = asyncio.create_task(
            self._replay_then_live(request, held, self.position),
            name=f"collabadmin-replay-{client.id}",
        )
        self._replays.add(task)
        task.add_done_callback(self._replays.discard)

    async def _replay_then_live(
        self,
        request: _Request,
        held: Held,
        upto: Position,
    ) -> None:
        client, topic, since = request.client, request.topic, request.since
        assert since is not None
        overflows = client.overflows
        replayed = False
        try:
            async with self._replay_slots:
                replayed = await self._replay(client, topic, since, upto)
        except Exception:
            log.exception("replay failed")
            self.replay_failures += 1
        finally:
            released = client.release(topic.name, held)
            if not (replayed and released) and client.topics.get(topic.name) is topic:
                if client.overflows == overflows:  # else counted as an overflow
                    self.too_far_back += 1
                self._drop(client, topic.name)
                client.send({"type": "resync", "topic": topic.name})
            if not request.done.done():
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

    def _ticks_between(self, after: str, upto: Position) -> list[_Tick]:
        """Recorded batch boundaries later than ``after`` up to ``upto``, oldest first.

        Two binary searches and a slice (no per-tick Python work): the
        history holds up to ``tick_history`` boundaries.
        """
        ticks = list(self._ticks)
        start = bisect.bisect_right(ticks, snapshot_order(after), key=_tick_order)
        end = bisect.bisect_right(ticks, snapshot_order(upto.upper), key=_tick_order)
        between = ticks[start:end]
        if not between or between[-1][1] != upto.upper:
            between.append((snapshot_order(upto.upper), upto.upper, upto.at))
        return between

    async def _check_cursor(self, since: Position) -> None:
        """The cursor's snapshots are in order and not ahead of the hub's position.

        Their syntax was checked when the cursor was decoded; this compares
        them with the hub's position, which only moves forward.
        """
        assert self.position is not None
        try:
            async with self.db.connection() as tx:
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

    async def _replay(
        self,
        client: Client,
        topic: Topic,
        since: Position,
        upto: Position,
    ) -> bool:
        """Send what ``client`` missed on ``topic`` up to ``upto``; False if too far back.

        One read of at most ``replay_limit`` entries, split into the batches
        the live stream delivered (the recorded batch boundaries after the
        cursor), so a resumed client sees changes in the order a
        live one did. The cursor's time is the client's word; it only decides
        between replaying (bounded) and resync, so trusting it costs nothing.
        """
        if time.time() - since.at > self.settings.replay_window:
            return False
        limit = self.settings.replay_limit
        async with self.db.connection() as tx:
            entries = await read_missed(
                tx,
                since.lower,
                since.upper,
                since.after_id,
                upto.upper,
                limit=limit + 1,
                resources=None if topic.kind == "audit" else sorted(self._resources_of(topic)),
            )
            if len(entries) > limit:
                return False
            only = {topic.name: {client: topic}}
            ticks = self._ticks_between(since.upper, upto)
            for span, rows in await _into_batches(entries, since, ticks):
                for start in range(0, len(rows), self.settings.replay_chunk):
                    if client.closed or client.topics.get(topic.name) is not topic:
                        return False
                    overflows = client.overflows
                    async with self._delivering():
                        await deliver(
                            tx,
                            rows[start : start + self.settings.replay_chunk],
                            span,
                            registry=self.registry,
                            policy=self.policy,
                            subscriptions=only,
                            feeds=self.feeds,
                            replay=True,
                        )
                    if client.overflows != overflows:
                        return False
                    # Let the hub and every other socket run between chunks.
                    await asyncio.sleep(0)
        return not client.closed and client.topics.get(topic.name) is topic


def _tick_order(tick: _Tick) -> tuple[int, int]:
    return tick[0]


async def _into_batches(
    entries: list[Row], since: Position, ticks: list[_Tick]
) -> list[tuple[Position, list[Row]]]:
    """Split entries (by id) into the batches between ``since`` and each tick in turn.

    An entry belongs to the first batch whose upper snapshot sees its
    transaction (visibility only grows from one boundary to the next), found
    by binary search; the rest of the cursor's own batch comes first. Yields
    to the event loop now and then: this is CPU work of up to
    ``replay_limit`` entries.
    """
    groups: dict[int, list[Row]] = {}
    positions = range(len(ticks))
    for count, entry in enumerate(entries, 1):
        txid = int(entry.pop("txid"))
        if not since.at_boundary and visible_in(txid, since.upper):
            index = -1
        else:
            index = bisect.bisect_left(positions, True, key=lambda i: visible_in(txid, ticks[i][1]))
            index = min(index, len(ticks) - 1)  # every entry read is visible in the last
        groups.setdefault(index, []).append(entry)
        if count % 500 == 0:
            await asyncio.sleep(0)
    batches = []
    for index in sorted(groups):
        if index == -1:
            span = Position(since.lower, since.upper, 0, since.at)
        else:
            lower = since.upper if index == 0 else ticks[index - 1][1]
            span = Position(lower, ticks[index][1], 0, ticks[index][2])
        batches.append((span, groups[index]))
    return batches
