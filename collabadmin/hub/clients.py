"""One connected websocket client, with a bounded outgoing queue.

Fan-out never awaits a socket: it offers pre-serialised frames to each
client's queue and moves on. A client whose queue is full (it stopped
reading, or reads slower than changes arrive) is not allowed to hold memory
or delay anyone: its queue is emptied, it is sent ``resync`` for each of its
topics and those subscriptions end; it may subscribe again with its last
cursor, and is told to reload if that is too far back.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import msgspec

from collabadmin.db.engine import Actor
from collabadmin.hub.topics import Topic

__all__ = ["MAX_TOPICS", "Client", "encode_frame"]

MAX_TOPICS = 100

_ids = itertools.count(1)
_encoder = msgspec.json.Encoder()


def encode_frame(frame: dict[str, object]) -> str:
    return _encoder.encode(frame).decode()


@dataclass(eq=False)
class Client:
    actor: Actor
    capacity: int = 1000
    id: int = field(default_factory=lambda: next(_ids))
    topics: dict[str, Topic] = field(default_factory=dict)
    queue: asyncio.Queue[str] = field(init=False)
    overflows: int = 0
    closed: bool = False
    on_drop: Callable[[Client, list[str]], None] | None = None
    # Permission shapes by (resource, action), filled in by the fan-out.
    shapes: dict[tuple[str, str], tuple[Any, Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # Room beyond the capacity so that resync notices and control frames fit.
        self.queue = asyncio.Queue(maxsize=self.capacity + MAX_TOPICS + 16)

    def offer(self, frame: str) -> bool:
        """Queue a frame; on overflow, drop everything and ask for a resync."""
        if self.closed:
            return False
        if self.queue.qsize() < self.capacity:
            self.queue.put_nowait(frame)
            return True
        self.overflow()
        return False

    def overflow(self) -> None:
        self.overflows += 1
        while not self.queue.empty():
            self.queue.get_nowait()
        dropped = list(self.topics)
        for name in dropped:
            self.queue.put_nowait(encode_frame({"type": "resync", "topic": name}))
        self.topics.clear()
        if self.on_drop is not None:
            self.on_drop(self, dropped)

    def send(self, frame: dict[str, object]) -> None:
        """A control frame (subscribed, error, pong): always queued."""
        if not self.closed:
            if self.queue.full():
                self.overflow()
            self.queue.put_nowait(encode_frame(frame))
