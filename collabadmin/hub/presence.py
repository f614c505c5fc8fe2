"""Presence: who is viewing or editing which record (and which field), across instances.

Each instance keeps the members of every record topic: its own sockets'
and, learned over NOTIFY on ``collabadmin_presence``, the other instances'.
A member is announced when it joins, changes or leaves, and re-announced by
a heartbeat every :data:`HEARTBEAT` seconds; a member not heard from for
:data:`EXPIRY` seconds (a crashed instance, a vanished client) is dropped.
Whenever the set of users on a topic changes, its local subscribers get a
``presence`` frame, and the observers are told (the list presence of
:mod:`collabadmin.hub.list_presence`), whichever instance the change came from.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from collabadmin.db.engine import Database
from collabadmin.hub.clients import Client

__all__ = ["CHANNEL", "EXPIRY", "HEARTBEAT", "Presence"]

log = logging.getLogger("collabadmin.hub.presence")

CHANNEL = "collabadmin_presence"
HEARTBEAT = 10.0
EXPIRY = 30.0
STATES = ("viewing", "editing", "left")


@dataclass(frozen=True, slots=True)
class Member:
    user_id: int | None
    name: str
    state: str
    field: str | None
    seen: float


MemberKey = tuple[str, int]  # (instance, client id)


class Presence:
    def __init__(
        self,
        db: Database,
        subscribers: Callable[[str], list[Client]],
        *,
        heartbeat: float = HEARTBEAT,
        expiry: float = EXPIRY,
        readable: Callable[[Client, str], frozenset[str]] | None = None,
    ) -> None:
        self.db = db
        # The fields ``client`` may read on ``topic``'s record: a field it may
        # not read is never named to it, not even as the one someone is editing.
        self.readable = readable
        self.instance = secrets.token_hex(6)
        self.subscribers = subscribers
        self.heartbeat = heartbeat
        self.expiry = expiry
        self.topics: dict[str, dict[MemberKey, Member]] = {}
        self._task: asyncio.Task[None] | None = None
        # Broker mode: messages go through NATS instead of NOTIFY.
        self.transport: Callable[[str], Awaitable[None]] | None = None
        self._observers: list[Callable[[str, list[dict[str, Any]]], None]] = []

    def observe(self, callback: Callable[[str, list[dict[str, Any]]], None]) -> None:
        """``callback(topic, users)`` whenever a topic's set of users changes."""
        self._observers.append(callback)

    async def start(self) -> None:
        self._task = asyncio.create_task(self._beat(), name="collabadmin-presence")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def users(self, topic: str) -> list[dict[str, Any]]:
        """One entry per user; a user in several tabs shows its most active state."""
        merged: dict[object, dict[str, Any]] = {}
        for member in self.topics.get(topic, {}).values():
            key = member.user_id if member.user_id is not None else member.name
            current = merged.get(key)
            if current is None or (member.state == "editing" and current["state"] != "editing"):
                merged[key] = {
                    "id": member.user_id,
                    "name": member.name,
                    "state": member.state,
                    "field": member.field,
                }
        return sorted(merged.values(), key=lambda u: (u["name"], str(u["id"])))

    def _changed(self, topic: str, before: list[dict[str, Any]]) -> None:
        after = self.users(topic)
        if after == before:
            return
        frames: dict[frozenset[str] | None, dict[str, object]] = {}
        for client in self.subscribers(topic):
            shape = None if self.readable is None else self.readable(client, topic)
            frame = frames.get(shape)
            if frame is None:
                users = after
                if shape is not None:
                    users = [{**u, "field": u["field"] if u["field"] in shape else None}
                             for u in after]  # fmt: skip
                frame = frames[shape] = {"type": "presence", "topic": topic, "users": users}
            client.send(frame)
        for observer in self._observers:
            observer(topic, after)

    def _apply(self, topic: str, key: MemberKey, member: Member | None) -> None:
        before = self.users(topic)
        members = self.topics.setdefault(topic, {})
        if member is None or member.state == "left":
            members.pop(key, None)
        else:
            members[key] = member
        if not members:
            self.topics.pop(topic, None)
        self._changed(topic, before)

    async def announce(self, client: Client, topic: str, state: str, field: str | None) -> None:
        """This instance's client ``client`` is now ``state`` on ``topic``."""
        actor = client.actor
        member = Member(actor.id, actor.name, state, field, time.monotonic())
        self._apply(topic, (self.instance, client.id), member)
        await self._publish(topic, client.id, member)

    async def leave_all(self, client: Client) -> None:
        """A socket closed: it leaves every topic it was present on."""
        for topic in [t for t, m in self.topics.items() if (self.instance, client.id) in m]:
            self._apply(topic, (self.instance, client.id), None)
            await self._publish(
                topic, client.id, Member(client.actor.id, client.actor.name, "left", None, 0.0)
            )

    async def _publish(self, topic: str, client_id: int, member: Member) -> None:
        payload = json.dumps(
            {
                "i": self.instance,
                "c": client_id,
                "t": topic,
                "u": member.user_id,
                "n": member.name,
                "s": member.state,
                "f": member.field,
            },
            separators=(",", ":"),
        )
        try:
            if self.transport is not None:
                await self.transport(payload)
                return
            async with self.db.connection() as tx:
                await tx.run("SELECT pg_notify(%(c)s, %(p)s)", {"c": CHANNEL, "p": payload})
        except Exception as exc:  # presence is best effort; the heartbeat repeats it
            log.warning("could not publish presence: %s", type(exc).__name__)

    def received(self, payload: str) -> None:
        """A presence message from any instance (our own echoes are ignored)."""
        try:
            data = json.loads(payload)
            instance, client_id, topic = str(data["i"]), int(data["c"]), str(data["t"])
            state = str(data["s"])
        except (ValueError, KeyError, TypeError):
            return
        if instance == self.instance or state not in STATES:
            return
        member = Member(
            data.get("u"), str(data.get("n", "")), state, data.get("f"), time.monotonic()
        )
        self._apply(topic, (instance, client_id), member)

    async def reannounce(self) -> None:
        """Publish every member of this instance now (another instance asked, or came back)."""
        for topic, members in list(self.topics.items()):
            for key, member in list(members.items()):
                if key[0] == self.instance:
                    await self._publish(topic, key[1], member)

    async def _beat(self) -> None:
        while True:
            await asyncio.sleep(self.heartbeat)
            now = time.monotonic()
            for topic, members in list(self.topics.items()):
                for key, member in list(members.items()):
                    if key[0] == self.instance:
                        await self._publish(topic, key[1], member)
                    elif now - member.seen > self.expiry:
                        self._apply(topic, key, None)
