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

In broker mode (:mod:`collabadmin.hub.broker`) the hub reads nothing: its
batches come from the stream one instance publishes, the same batches for
every instance (:class:`~collabadmin.hub.source.SourceSteps`).

Cursors are validated strictly; replays are bounded whatever the cursor
says (:mod:`collabadmin.hub.replay`). Which topics exist and who may follow
them is :mod:`collabadmin.hub.access`.

A client lives no longer than its credential (:meth:`Hub.end_credential`,
:class:`~collabadmin.hub.credential_watch.CredentialWatch`), and its roles
are re-applied when they change (:meth:`Hub.reapply`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field

import psycopg

from collabadmin.auth.credentials import Credential
from collabadmin.changelog.batches import current_snapshot, read_since
from collabadmin.changelog.position import BadPosition, Position
from collabadmin.db.engine import Actor, Database, Row, Tx
from collabadmin.hub.access import SubscribeError, TopicAccess
from collabadmin.hub.clients import MAX_TOPICS, Client, Held
from collabadmin.hub.fanout import Delivery, deliver
from collabadmin.hub.feeds import Feed
from collabadmin.hub.replay import Replays
from collabadmin.hub.settings import HubSettings
from collabadmin.hub.source import BatchSource, SourceSteps
from collabadmin.hub.topics import Topic
from collabadmin.resources.policy import Policy
from collabadmin.resources.resource import Registry
from collabadmin.resources.service import RecordService

__all__ = ["Hub", "HubSettings", "SubscribeError"]

log = logging.getLogger("collabadmin.hub")


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
        self.registry = registry
        self.policy = policy
        self.settings = settings
        self.access = TopicAccess(registry, policy, RecordService(db, registry, policy), feeds)
        self.feeds = self.access.feeds
        self.position: Position | None = None
        self.subscriptions: dict[str, dict[Client, Topic]] = {}
        self.clients: set[Client] = set()
        # Clients that asked for a batch's frames as one message.
        self.batching: set[Client] = set()
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
        # Deliveries under way (the hub's batch, replay chunks): a delivery
        # plans with each client's permissions, awaits, then sends, so a
        # client's permissions are only swapped while none is under way.
        self._deliveries = 0
        self._no_deliveries = asyncio.Event()
        self._no_deliveries.set()
        self._task: asyncio.Task[None] | None = None
        self._observers: list[Callable[[Delivery], None]] = []
        self._greeters: dict[str, Callable[[Client, Topic], Awaitable[None]]] = {}
        self._batch_observers: list[Callable[[Sequence[Row], Delivery], None]] = []
        # The batch boundaries, and the resumes that walk them.
        self.replays = Replays(db, settings, self._deliver_replay, self._delivering)
        # Broker mode: batches come from a stream instead of the hub's own reads.
        self.steps: SourceSteps | None = None
        # Reads of the change log for the live stream (replays count their own).
        self.log_reads = 0

    # -- lifecycle -----------------------------------------------------------

    def wake(self) -> None:
        self._wake.set()

    def use_source(self, source: BatchSource) -> None:
        """Take batches from ``source`` instead of reading the log (before :meth:`start`)."""
        self.steps = SourceSteps(self, source)

    async def start(self) -> None:
        if self.steps is not None:
            self.position = Position.boundary(await self.steps.begin())
        else:
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
        if self.steps is not None:
            await self.steps.step()
        else:
            await self._step_log()
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

    async def _step_log(self) -> None:
        """Read and deliver the batch committed since the hub's position."""
        assert self.position is not None
        async with self.db.connection() as tx:
            lower = self.position.upper
            wanted = self._wanted_resources()
            entries: list[Row]
            if wanted == []:
                # Nobody follows anything: advance without reading entries.
                upper, entries = await current_snapshot(tx), []
            else:
                self.log_reads += 1
                upper, entries = await read_since(tx, lower, wanted)
            if upper != lower:
                batch = Position(lower, upper, 0, time.time())
                self.replays.record(upper)
                if entries:
                    await self.deliver_live(tx, entries, batch)
                self.position = Position.boundary(upper)

    async def deliver_live(self, tx: Tx | None, entries: list[Row], batch: Position) -> None:
        """Offer one batch's entries to the subscribers, then tell the observers.

        ``tx`` None: nobody here follows anything (broker mode skips the connection).
        """
        if tx is None:
            delivery = Delivery(entries=len(entries))
        else:
            async with self._delivering():
                delivery = await deliver(
                    tx,
                    entries,
                    batch,
                    registry=self.registry,
                    policy=self.policy,
                    subscriptions=self.subscriptions,
                    feeds=self.feeds,
                    gather=self.batching,
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

    # -- clients -------------------------------------------------------------

    def connect(
        self, actor: Actor, credential: Credential | None = None, *, batch: bool = False
    ) -> Client:
        """A new client; with ``batch`` it gets each batch's frames as one message."""
        client = Client(
            actor,
            capacity=self.settings.queue_capacity,
            credential=credential,
            on_drop=self._dropped,
            batching=batch,
        )
        self.clients.add(client)
        if batch:
            self.batching.add(client)
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
                self.access.check(actor, name)
                await self.access.check_subscription(actor, topic)
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
        self.batching.discard(client)
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

    def add_feed(self, feed: Feed) -> None:
        """Entries of ``feed.log_resource`` go to the topics the feed routes them to."""
        self.access.add_feed(feed)

    def check_topic(self, actor: Actor, raw: object) -> Topic:
        """Parse a topic and check the actor may follow it (SubscribeError if not)."""
        return self.access.check(actor, raw)

    async def subscribe(self, client: Client, raw_topic: object, since: object) -> None:
        """Subscribe from ``since`` (a cursor) or from now; frames go to the client's queue."""
        topic = self.access.check(client.actor, raw_topic)
        position = None
        if since is not None:
            try:
                position = Position.decode(since)  # type: ignore[arg-type]
            except BadPosition as exc:
                raise SubscribeError("bad_cursor", str(exc)) from None
        if topic.name not in client.topics and len(client.topics) >= MAX_TOPICS:
            raise SubscribeError("too_many_topics", f"At most {MAX_TOPICS} topics per socket.")
        await self.access.check_subscription(client.actor, topic)
        if position is not None:
            if self.steps is not None:
                await self.steps.caught_up(position, self.settings.catch_up_wait)
            assert self.position is not None
            if not await self.replays.cursor_in_order(position, self.position):
                raise SubscribeError("bad_cursor", "cursor is not valid")
        request = _Request(client, topic, position)
        self._requests.append(request)
        self.wake()
        await request.done
        greet = self._greeters.get(topic.kind)
        if greet is not None and client.topics.get(topic.name) is topic:
            await greet(client, topic)

    def greet(self, kind: str, greeter: Callable[[Client, Topic], Awaitable[None]]) -> None:
        """After each subscription to a topic of ``kind``, ``greeter`` may send it frames.

        For topics whose frames are not change-log entries (``jobs/{id}``): the
        state as it is now, so that a subscriber that comes late (or again)
        misses nothing.
        """
        self._greeters[kind] = greeter

    def publish(self, topic: str, frame: dict[str, object]) -> int:
        """Send ``frame`` to this instance's subscribers of ``topic``; how many there were.

        For frames that are not change-log entries (a job's progress): they
        go to the clients of the instance that publishes them, not through
        the log's ordered, resumable stream.
        """
        clients = list(self.subscriptions.get(topic, {}))
        for client in clients:
            client.send({**frame, "topic": topic})
        return len(clients)

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
        resources = None if topic.kind == "audit" else sorted(self.access.resources_of(topic))
        try:
            replayed = await self.replays.replay(client, topic, since, upto, resources)
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

    async def _deliver_replay(
        self,
        tx: Tx,
        entries: Sequence[Row],
        span: Position,
        subscriptions: dict[str, dict[Client, Topic]],
    ) -> Delivery:
        return await deliver(
            tx,
            entries,
            span,
            registry=self.registry,
            policy=self.policy,
            subscriptions=subscriptions,
            feeds=self.feeds,
            replay=True,
        )

    def _wanted_resources(self) -> list[str] | None:
        """Resources some subscription follows (None: all of them, for the audit feed)."""
        if "audit" in self.subscriptions:
            return None
        names: set[str] = set()
        for subscribers in self.subscriptions.values():
            for topic in subscribers.values():
                names |= self.access.resources_of(topic)
                break  # every subscriber of a topic follows the same resources
        return sorted(names)
