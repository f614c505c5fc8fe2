"""Presence on a list: who is on which record, for the subscribers of ``r/{resource}``.

A list page shows many records, so it follows the collection topic rather
than one topic per row. Whenever a record's presence set changes — a local
socket, another instance over NOTIFY, an expiry: every path goes through
:class:`~collabadmin.hub.presence.Presence` — the collection's subscribers
who may see that record get ``{"type": "presence", "topic": "r/courses",
"pk": "42", "users": [...]}``. A new subscriber gets the current non-empty
sets of the records it may see, one frame per record.

Row scopes need the database (is record 42 one of the instructor's
courses?), so the work is queued and done by one task: one query per scope
per change, the same grouping as the change fan-out. One task also keeps
the frames in the order the sets changed, and a snapshot taken after the
changes queued before it, so a list's last frame per record is the current set.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from collabadmin.db.engine import Database
from collabadmin.hub.clients import Client, encode_frame
from collabadmin.hub.fanout import _audiences, _in_scope
from collabadmin.hub.presence import Presence
from collabadmin.hub.topics import TopicError, parse_topic
from collabadmin.resources.policy import Policy
from collabadmin.resources.resource import Registry

__all__ = ["ListPresence"]

log = logging.getLogger("collabadmin.hub.presence")


@dataclass(frozen=True, slots=True)
class _Changed:
    resource: str
    pk: str
    users: list[dict[str, Any]]


@dataclass(frozen=True, slots=True)
class _Snapshot:
    client: Client
    resource: str


class ListPresence:
    def __init__(
        self,
        db: Database,
        registry: Registry,
        policy: Policy,
        presence: Presence,
        subscribers: Callable[[str], list[Client]],
    ) -> None:
        self.db = db
        self.registry = registry
        self.policy = policy
        self.presence = presence
        self.subscribers = subscribers
        self._jobs: asyncio.Queue[_Changed | _Snapshot] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        presence.observe(self.changed)

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="collabadmin-list-presence")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def changed(self, topic: str, users: list[dict[str, Any]]) -> None:
        """A record topic's presence set changed (called by :class:`Presence`)."""
        try:
            parsed = parse_topic(topic)
        except TopicError:
            return
        name, pk = parsed.resource, parsed.pk
        if parsed.kind != "record" or name is None or pk is None or name not in self.registry:
            return
        if self.subscribers(f"r/{name}"):
            self._jobs.put_nowait(_Changed(name, pk, users))

    def snapshot(self, client: Client, resource: str) -> None:
        """``client`` just subscribed to ``r/{resource}``: send it who is where now."""
        self._jobs.put_nowait(_Snapshot(client, resource))

    async def _run(self) -> None:
        while True:
            job = await self._jobs.get()
            try:
                if isinstance(job, _Changed):
                    await self._send_change(job)
                else:
                    await self._send_snapshot(job)
            except Exception as exc:  # presence is best effort; a bug must not stop it
                log.warning("list presence failed: %s", type(exc).__name__)
            finally:
                self._jobs.task_done()

    async def _send_change(self, job: _Changed) -> None:
        topic = f"r/{job.resource}"
        clients = [c for c in self.subscribers(topic) if not c.closed]
        if clients:
            await self._send(topic, clients, {job.pk: job.users})

    async def _send_snapshot(self, job: _Snapshot) -> None:
        topic = f"r/{job.resource}"
        prefix = f"{topic}/"
        present = {
            name[len(prefix) :]: self.presence.users(name)
            for name in list(self.presence.topics)
            if name.startswith(prefix) and "/" not in name[len(prefix) :]
        }
        present = {pk: users for pk, users in present.items() if users}
        if present and not job.client.closed:
            await self._send(topic, [job.client], present)

    async def _send(
        self, topic: str, clients: list[Client], sets: dict[str, list[dict[str, Any]]]
    ) -> None:
        """Each record's set to the clients that may see the record, fields they may read."""
        resource = self.registry.get(topic[2:])
        audiences = _audiences(self.policy, resource, clients, "view")
        visible: list[set[str] | None] = []
        if any(a.scope is not None for a in audiences):
            async with self.db.connection() as tx:
                for audience in audiences:
                    scope = audience.scope
                    visible.append(
                        None if scope is None else await _in_scope(tx, resource, scope, set(sets))
                    )
        else:
            visible = [None] * len(audiences)
        for audience, seen in zip(audiences, visible, strict=True):
            readable = audience.shape.readable
            for pk, users in sets.items():
                if seen is not None and pk not in seen:
                    continue
                # The field someone edits is named only to those who may read it.
                shown = [
                    {**u, "field": u["field"] if u["field"] in readable else None} for u in users
                ]
                frame = encode_frame({"type": "presence", "topic": topic, "pk": pk, "users": shown})
                for client in audience.clients:
                    if topic in client.topics:
                        client.offer(frame)
