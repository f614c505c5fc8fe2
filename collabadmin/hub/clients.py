"""One connected websocket client, with a bounded outgoing queue.

Fan-out never awaits a socket: it offers pre-serialised frames to each
client's queue and moves on. A client whose queue is full (it stopped
reading, or reads slower than changes arrive) is not allowed to hold memory
or delay anyone: its queue is emptied, it is sent ``resync`` for each of its
topics and those subscriptions end; it may subscribe again with its last
cursor, and is told to reload if that is too far back.

While a topic is being replayed (a subscribe with ``since``), its live frames
are *held* on the side, in order, and released behind the last replayed
frame: the replay runs in a task of its own, so the hub keeps delivering to
everyone meanwhile, and the client still sees its topic once and in order.

A client lives no longer than its credential: :meth:`Client.end` stops
every further frame at once and leaves only the close notice in the queue
(the socket's sender closes the socket with 4401 when it reads it).

A client that asked for it (``/api/ws?batch=1``) gets the frames one batch
of the log makes for it as one message, ``{"type": "batch", "frames":
[...]}`` (:meth:`Client.gather`, :meth:`Client.release_gathered`): one
websocket message and one send instead of many. The queue's capacity still
counts frames, not messages (:class:`FrameQueue`).

A client whose socket has a :class:`~collabadmin.hub.wire.Wire` (served by
uvicorn) is written to directly: :meth:`Client.offer` writes the frame's
pre-built message bytes to the transport, in the fan-out's own loop, while
nothing is queued before it and the transport is under its high water mark.
Otherwise the frame is queued as above, and the socket's sender writes the
queue out in order (waiting for the transport to drain), so commit order
holds and a slow reader still ends in ``resync``. The capacity holds for
direct writes too: frames written during one delivery (:func:`new_delivery`)
count against it, so a batch that makes more frames for one socket than it
may have waiting ends in ``resync`` as if they had been queued.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import msgspec

from collabadmin.auth.credentials import Credential
from collabadmin.db.engine import Actor
from collabadmin.hub.topics import Topic
from collabadmin.hub.wire import Frame, Wire, payload

__all__ = [
    "CLOSE_NOTICE",
    "MAX_TOPICS",
    "BatchText",
    "Client",
    "Frame",
    "FrameQueue",
    "Held",
    "Made",
    "encode_frame",
]

MAX_TOPICS = 100
CLOSE_NOTICE = ""  # never a frame: tells the socket's sender to close the socket

_ids = itertools.count(1)
_deliveries = itertools.count(1)
_delivery = 0  # the delivery under way (see new_delivery)


def new_delivery() -> None:
    """A delivery starts: the frames it writes directly to a socket are counted anew."""
    global _delivery  # noqa: PLW0603 - one counter for every client, read in offer()
    _delivery = next(_deliveries)


_encoder = msgspec.json.Encoder()


def encode_frame(frame: dict[str, object]) -> Frame:
    return Frame.of(_encoder.encode(frame))


class BatchText(Frame):
    """A ``batch`` message: several frames, already serialised, in one text."""

    __slots__ = ("frames",)
    frames: int

    @classmethod
    def of_frames(cls, frames: list[str]) -> BatchText:
        text = cls.of(b'{"type":"batch","frames":[' + b",".join(map(payload, frames)) + b"]}")
        assert isinstance(text, BatchText)
        text.frames = len(frames)
        return text


# Batch messages built during one delivery, by the ids of their frames.
Made = dict[tuple[int, ...], tuple[BatchText, list[str]]]


class FrameQueue(asyncio.Queue[str]):
    """A socket's outgoing messages, knowing how many frames they hold (``frames``)."""

    def __init__(self, maxsize: int) -> None:
        super().__init__(maxsize)
        self.frames = 0

    def _put(self, item: str) -> None:
        self.frames += getattr(item, "frames", 1)
        super()._put(item)

    def _get(self) -> str:
        item: str = super()._get()
        self.frames -= getattr(item, "frames", 1)
        return item


@dataclass(eq=False)
class Held:
    """Live frames of one topic waiting for its replay to finish."""

    frames: list[str] = field(default_factory=list)
    overflowed: bool = False


@dataclass(eq=False)
class Client:
    actor: Actor
    capacity: int = 1000
    # What authenticated the socket; None for in-process clients (tests, tools).
    credential: Credential | None = None
    # Why the client was ended (e.g. "credentials ended"), None while it lives.
    ended: str | None = None
    id: int = field(default_factory=lambda: next(_ids))
    topics: dict[str, Topic] = field(default_factory=dict)
    queue: FrameQueue = field(init=False)
    overflows: int = 0
    closed: bool = False
    on_drop: Callable[[Client, list[str]], None] | None = None
    # Permission shapes by (resource, action), filled in by the fan-out.
    shapes: dict[tuple[str, str], tuple[Any, Any]] = field(default_factory=dict)
    held: dict[str, Held] = field(default_factory=dict)
    # Frames of one batch in one ``batch`` message (asked for with ?batch=1).
    batching: bool = False
    _gathered: list[str] | None = None
    # The socket's transport, written to directly (None: frames go by the queue).
    wire: Wire | None = None
    # The sender took a frame off the queue and waits for the transport to drain.
    sending: bool = False
    # Frames written directly during delivery number ``_written_in``.
    _written: int = 0
    _written_in: int = 0

    def __post_init__(self) -> None:
        # Room beyond the capacity so that resync notices and control frames fit.
        self.queue = FrameQueue(maxsize=self.capacity + MAX_TOPICS + 16)

    def offer(self, frame: str, topic: str | None = None) -> bool:
        """Queue a frame (of ``topic``); on overflow, drop everything and ask for a resync.

        A frame of a topic being replayed is held until the replay is done.
        """
        if self.closed:
            return False
        held = self.held.get(topic) if topic is not None else None
        if held is not None:
            if held.overflowed:
                return False
            if len(held.frames) >= self.capacity:
                # The replay will end in resync: holding more is pointless.
                held.overflowed = True
                held.frames.clear()
                return False
            held.frames.append(frame)
            return True
        gathered = self._gathered
        if gathered is None and self._direct():
            assert self.wire is not None
            if self._written_in != _delivery:
                self._written_in, self._written = _delivery, 0
            if self._written < self.capacity:
                self._written += 1
                self.wire.write(frame)
                return True
            self.overflow()
            return False
        if self.queue.frames + (0 if gathered is None else len(gathered)) < self.capacity:
            if gathered is not None:
                gathered.append(frame)
            else:
                self.queue.put_nowait(frame)
            return True
        self.overflow()
        return False

    def _direct(self) -> bool:
        """A frame may go straight to the transport: nothing waits before it, no backlog."""
        wire = self.wire
        return wire is not None and not self.sending and self.queue.empty() and wire.ready()

    def gather(self) -> None:
        """From now until :meth:`release_gathered`, offered frames wait to go as one message."""
        if self.batching and not self.closed:
            self._gathered = []

    def release_gathered(self, made: Made | None = None) -> None:
        """Send what was gathered: one frame as it is, several as one ``batch`` message.

        ``made`` keeps the messages built during one delivery by the identity
        of their frames: clients that gathered the same frames share one.
        """
        gathered, self._gathered = self._gathered, None
        if not gathered or self.closed:
            return
        message: str
        if len(gathered) == 1:
            message = gathered[0]
        elif made is None:
            message = BatchText.of_frames(gathered)
        else:
            # The frames are kept with the message, so their ids stay theirs.
            key = tuple(map(id, gathered))
            known = made.get(key)
            if known is None:
                known = made[key] = (BatchText.of_frames(gathered), gathered)
            message = known[0]
        if self._direct():
            assert self.wire is not None
            self.wire.write(message)
        else:
            self.queue.put_nowait(message)

    def overflow(self) -> None:
        self.overflows += 1
        self._gathered = None
        while not self.queue.empty():
            self.queue.get_nowait()
        dropped = list(self.topics)
        for name in dropped:
            self.queue.put_nowait(encode_frame({"type": "resync", "topic": name}))
        self.topics.clear()
        self.held.clear()
        if self.on_drop is not None:
            self.on_drop(self, dropped)

    def send(self, frame: dict[str, object]) -> None:
        """A control frame (subscribed, error, pong): always queued."""
        if not self.closed:
            if self.queue.full():
                self.overflow()
            self.queue.put_nowait(encode_frame(frame))

    def hold(self, topic: str) -> Held:
        """From now on, hold ``topic``'s live frames (see :meth:`release`)."""
        held = self.held[topic] = Held()
        return held

    def release(self, topic: str, held: Held) -> bool:
        """Queue the frames held for ``topic`` behind the replay; False if they were lost.

        Lost means the topic was dropped meanwhile (unsubscribed, the client
        overflowed or ended: ``held`` is no longer the one in place) or more
        frames came in than the client may have waiting.
        """
        if self.held.get(topic) is not held:
            return False
        del self.held[topic]
        if held.overflowed or self.closed:
            return False
        return all(self.offer(frame) for frame in held.frames)

    def end(self, reason: str) -> None:
        """No frame after this one: empty the queue and leave the close notice.

        Synchronous on purpose: the frames already queued are dropped in the
        same step, so nothing reaches a client after its credential ended.
        """
        if self.ended is not None:
            return
        self.ended = reason
        self.closed = True
        self._gathered = None
        self.topics.clear()
        self.held.clear()
        while not self.queue.empty():
            self.queue.get_nowait()
        self.queue.put_nowait(CLOSE_NOTICE)
