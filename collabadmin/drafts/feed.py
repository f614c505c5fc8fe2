"""Draft events on the websocket: the ``drafts`` topic and each record's own topic.

Each change of a draft (created, edited, submitted, approved, rejected,
published, discarded) is an entry of the change log, so its frame comes in
commit order with the record changes and resumes with the same cursor. A
frame goes only to subscribers who may see that draft (the same SQL
condition as ``GET /api/drafts``), and the draft's ``data`` is cut to the
fields each of them may read.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select

from collabadmin.changelog.changes import change_body
from collabadmin.changelog.types import Change
from collabadmin.db.engine import Actor, Row, Tx, compile_sql
from collabadmin.drafts.access import readable_subset, visible_clause
from collabadmin.drafts.tables import DRAFTS
from collabadmin.hub.clients import Client
from collabadmin.hub.feeds import Routed, Subscriptions, clients_on
from collabadmin.hub.topics import Topic
from collabadmin.resources.policy import Policy
from collabadmin.resources.resource import Registry

__all__ = ["DraftFeed", "draft_change_body", "draft_event"]


def draft_event(entry: Row) -> str:
    """What happened to the draft: ``created``, a new status, ``publish_failed`` or ``updated``.

    A failed publish (now or scheduled) sets ``publish_error``; it is named
    apart so the author is told their draft could not be published, not that
    someone edited it (the failure itself stays out of the frame's diff).
    """
    if entry["op"] == "insert":
        return "created"
    status = entry["diff"].get("status")
    if status is not None:
        return str(status["new"])
    failure = entry["diff"].get("publish_error")
    if failure is not None and failure["new"] is not None:
        return "publish_failed"
    return "updated"


def _filtered_diff(diff: dict[str, Any], readable: frozenset[str]) -> dict[str, Any]:
    shown = dict(diff)
    if "data" in diff:
        old, new = diff["data"]["old"], diff["data"]["new"]
        shown["data"] = {
            "old": None if old is None else readable_subset(old, readable),
            "new": None if new is None else readable_subset(new, readable),
        }
    for name in ("publish_error", "scheduled_by"):
        shown.pop(name, None)
    return shown


def draft_change_body(entry: Row, readable: frozenset[str]) -> Change:
    """A draft's change-log entry as a ``Change``, its ``data`` cut to ``readable`` fields."""
    change = change_body(entry)
    change["diff"] = _filtered_diff(entry["diff"], readable)
    data = entry["diff"].get("data") or {}
    change["hidden_fields"] = any(
        not set(values or {}) <= readable for values in (data.get("old"), data.get("new"))
    )
    return change


class DraftFeed:
    log_resource = "drafts"

    def __init__(self, registry: Registry, policy: Policy) -> None:
        self.registry = registry
        self.policy = policy

    def follows(self, topic: Topic) -> bool:
        return topic.kind in ("drafts", "record")

    async def check(self, actor: Actor, topic: Topic) -> None:
        """Anyone signed in may follow ``drafts``: frames are filtered per draft."""

    def _visibility_key(self, client: Client) -> tuple[Any, Any]:
        cached = client.shapes.get(("drafts", "view"))
        if cached is None:
            clause = visible_clause(self.policy, self.registry, client.actor)
            sql, params = compile_sql(clause)
            key = (sql, tuple(sorted((k, repr(v)) for k, v in params.items())))
            cached = client.shapes[("drafts", "view")] = (key, clause)
        return cached

    async def route(
        self, tx: Tx, entries: Sequence[Row], subscriptions: Subscriptions
    ) -> dict[int, list[Routed]]:
        ids = sorted({int(e["pk"]) for e in entries})
        drafts = {
            str(r["id"]): r
            for r in await tx.rows(
                select(DRAFTS.c.id, DRAFTS.c.resource, DRAFTS.c.pk).where(DRAFTS.c.id.in_(ids))
            )
        }
        topics_of = {
            pk: ["drafts", f"r/{d['resource']}/{d['pk']}"] for pk, d in drafts.items() if d["pk"]
        }
        topics_of.update({pk: ["drafts"] for pk, d in drafts.items() if not d["pk"]})
        audience = clients_on(subscriptions, {t for ts in topics_of.values() for t in ts})
        if not audience:
            return {}
        # Which drafts each group of subscribers may see: one query per visibility rule.
        groups: dict[Any, tuple[Any, list[Client]]] = {}
        for client in audience:
            key, clause = self._visibility_key(client)
            groups.setdefault(key, (clause, []))[1].append(client)
        visible_to: dict[Client, set[str]] = {}
        for clause, members in groups.values():
            rows = await tx.rows(select(DRAFTS.c.id).where(DRAFTS.c.id.in_(ids), clause))
            seen = {str(r["id"]) for r in rows}
            for client in members:
                visible_to[client] = seen

        routed: dict[int, list[Routed]] = {}
        for entry in entries:
            draft = drafts.get(entry["pk"])
            if draft is None or draft["resource"] not in self.registry:
                continue
            resource = self.registry.get(draft["resource"])
            routes = []
            for topic in topics_of.get(entry["pk"], []):
                by_shape: dict[frozenset[str], list[Client]] = {}
                for client in subscriptions.get(topic, {}):
                    if entry["pk"] in visible_to.get(client, set()):
                        readable = self.policy.readable_fields(client.actor, resource)
                        by_shape.setdefault(readable, []).append(client)
                route = Routed(topic)
                for readable, clients in by_shape.items():
                    change = draft_change_body(entry, readable)
                    body = {
                        "type": "draft",
                        "event": draft_event(entry),
                        "draft": {"id": draft["id"], "resource": resource.name, "pk": draft["pk"]},
                        "change": change,
                    }
                    route.audiences.append((body, clients))
                if route.audiences:
                    routes.append(route)
            if routes:
                routed[entry["id"]] = routes
        return routed
