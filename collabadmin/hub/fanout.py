"""Turning a batch of log entries into frames for the subscribed clients.

Subscribers are grouped by *permission shape*: the fields they may read and
the rows they may see. Each entry is filtered and serialised once per topic
and shape, however many sockets share it, and the same bytes are offered to
each of their queues. Row scopes (e.g. an instructor's courses) are checked
with one query per resource and scope per batch.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, select

from collabadmin.changelog.changes import change_body
from collabadmin.changelog.position import Position
from collabadmin.db.engine import Row, Tx, compile_sql
from collabadmin.hub.clients import Client, Made, encode_frame, new_delivery
from collabadmin.hub.feeds import Feed, Routed
from collabadmin.hub.topics import Topic
from collabadmin.hub.wire import corked
from collabadmin.resources.policy import Action, Policy
from collabadmin.resources.resource import Registry, Resource

__all__ = ["Delivery", "deliver"]


@dataclass(frozen=True, slots=True)
class _Shape:
    readable: frozenset[str]
    scope_key: tuple[str, tuple[tuple[str, Any], ...]] | None


@dataclass
class _Audience:
    shape: _Shape
    scope: ColumnElement[bool] | None
    clients: list[Client]


@dataclass
class Delivery:
    """What one batch delivered (for metrics and tests)."""

    entries: int = 0
    frames: int = 0
    serialisations: int = 0


def _scope_key(scope: ColumnElement[bool] | None) -> tuple[str, tuple[tuple[str, Any], ...]] | None:
    if scope is None:
        return None
    sql, params = compile_sql(scope)
    return sql, tuple(sorted((k, repr(v)) for k, v in params.items()))


def _audiences(
    policy: Policy, resource: Resource, subscribers: Iterable[Client], action: Action
) -> list[_Audience]:
    groups: dict[_Shape, _Audience] = {}
    for client in subscribers:
        # A client's shape per resource is worked out once, not once per batch
        # (for a scoped user that means compiling its scope's SQL); the hub
        # forgets it when the client's roles change (Hub.reapply).
        cached = client.shapes.get((resource.name, action))
        if cached is None:
            scope = policy.row_filter(client.actor, resource, action)
            shape = _Shape(policy.readable_fields(client.actor, resource), _scope_key(scope))
            cached = client.shapes[(resource.name, action)] = (shape, scope)
        shape, scope = cached
        audience = groups.get(shape)
        if audience is None:
            audience = groups[shape] = _Audience(shape, scope, [])
        audience.clients.append(client)
    return list(groups.values())


async def _in_scope(
    tx: Tx, resource: Resource, scope: ColumnElement[bool], pks: set[str]
) -> set[str]:
    """Which of ``pks`` currently satisfy ``scope`` (purged rows never do)."""
    among = resource.keys_among(pks)
    if among is None:
        return set()
    # The key's text computed by the database, exactly as the log holds it.
    rows = await tx.rows(select(resource.key_sql().label("key")).where(among, scope))
    return {str(r["key"]) for r in rows}


async def deliver(
    tx: Tx,
    entries: Sequence[Row],
    position: Position,
    *,
    registry: Registry,
    policy: Policy,
    subscriptions: dict[str, dict[Client, Topic]],
    feeds: Mapping[str, Feed] | None = None,
    replay: bool = False,
    gather: Collection[Client] = (),
) -> Delivery:
    """Offer every entry to every subscription that may see it, in entry order.

    ``subscriptions`` maps a topic name to its subscribers. ``position`` is
    the batch (its ``after_id`` is ignored): each frame's cursor is the
    position right after its entry. Live frames of a topic being replayed are
    held behind the replay; ``replay`` frames are the replay and go straight
    to the queue. The clients in ``gather`` (those that asked for ``batch``
    messages) get this delivery's frames as one message.
    """
    stats = Delivery(entries=len(entries))
    by_resource: dict[str, list[Row]] = defaultdict(list)
    for entry in entries:
        by_resource[entry["resource"]].append(entry)

    # Work out, per topic, who may see which entries, before sending anything.
    plans: dict[str, list[tuple[_Audience, set[str] | None]]] = {}
    routes: dict[int, list[Routed]] = {}
    audit_subscribers = subscriptions.get("audit", {})
    for name, rows in by_resource.items():
        feed = (feeds or {}).get(name)
        if feed is not None:
            routes.update(await feed.route(tx, rows, subscriptions))
            continue
        if name not in registry:
            continue
        resource = registry.get(name)
        pks = {r["pk"] for r in rows}
        topics = [f"r/{name}"] + [f"r/{name}/{pk}" for pk in pks]
        for topic in topics:
            subscribers = subscriptions.get(topic)
            if subscribers:
                plans[topic] = await _plan(
                    tx,
                    policy=policy,
                    resource=resource,
                    subscribers=subscribers,
                    pks=pks,
                    action="view",
                )
        if audit_subscribers and not resource.derived:  # derived rows are not audit entries
            auditors = [c for c in audit_subscribers if policy.allows(c.actor, resource, "audit")]
            if auditors:
                plans[f"audit:{name}"] = await _plan(
                    tx,
                    policy=policy,
                    resource=resource,
                    subscribers=auditors,
                    pks=pks,
                    action="audit",
                )

    # No await from here to the release: what a gathering client gets in one
    # message is exactly this delivery's frames.
    # Corked: each socket's frames of this batch go out in one write.
    with corked():
        new_delivery()
        for client in gather:
            client.gather()
        for entry in entries:
            cursor = position.after(entry["id"]).encode()
            for routed in routes.get(entry["id"], ()):
                for body, clients in routed.audiences:
                    frame = encode_frame({**body, "topic": routed.topic, "cursor": cursor})
                    stats.serialisations += 1
                    held_as = None if replay else routed.topic
                    stats.frames += sum(
                        1 for c in clients if routed.topic in c.topics and c.offer(frame, held_as)
                    )
            resource_name, pk = entry["resource"], entry["pk"]
            fields = registry.get(resource_name).fields if resource_name in registry else None
            for topic, plan_key in (
                (f"r/{resource_name}", f"r/{resource_name}"),
                (f"r/{resource_name}/{pk}", f"r/{resource_name}/{pk}"),
                ("audit", f"audit:{resource_name}"),
            ):
                for audience, visible in plans.get(plan_key, ()):
                    if visible is not None and pk not in visible:
                        continue
                    frame = encode_frame(
                        {
                            "type": "change",
                            "topic": topic,
                            "cursor": cursor,
                            "change": change_body(entry, audience.shape.readable, fields),
                        }
                    )
                    stats.serialisations += 1
                    for client in audience.clients:
                        # A client that overflowed earlier in this batch has been told
                        # to resync this topic; it gets nothing more of it.
                        if topic in client.topics and client.offer(
                            frame, None if replay else topic
                        ):
                            stats.frames += 1
        made: Made = {}
        for client in gather:
            client.release_gathered(made)
    return stats


async def _plan(
    tx: Tx,
    *,
    policy: Policy,
    resource: Resource,
    subscribers: Iterable[Client],
    pks: set[str],
    action: Action,
) -> list[tuple[_Audience, set[str] | None]]:
    plan = []
    for audience in _audiences(policy, resource, subscribers, action):
        visible = (
            None if audience.scope is None else await _in_scope(tx, resource, audience.scope, pks)
        )
        plan.append((audience, visible))
    return plan
