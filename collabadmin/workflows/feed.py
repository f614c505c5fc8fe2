"""Run progress on the websocket: ``workflow-runs/{id}``.

Every write to a run (an evaluation that ticked or unticked a step, a person
completing a manual step, a cancel) is a change-log entry of
``workflow_runs``; for each, subscribers of that run get the run as it is
now, shaped for them like ``GET /api/workflow-runs/{id}``. A run whose
subject a subscriber may no longer see is not sent to it.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select

from collabadmin.db.engine import Actor, Row, Tx
from collabadmin.hub.clients import Client
from collabadmin.hub.feeds import Routed, Subscriptions
from collabadmin.hub.hub import SubscribeError
from collabadmin.hub.topics import Topic
from collabadmin.workflows.runs import RunService
from collabadmin.workflows.tables import RUNS

__all__ = ["RunFeed"]


class RunFeed:
    log_resource = "workflow_runs"

    def __init__(self, runs: RunService) -> None:
        self.runs = runs

    def follows(self, topic: Topic) -> bool:
        return topic.kind == "workflow-run"

    async def check(self, actor: Actor, topic: Topic) -> None:
        assert topic.pk is not None
        async with self.runs.db.read() as tx:
            visible = await tx.value(
                select(RUNS.c.id).where(RUNS.c.id == int(topic.pk), self.runs.visible_clause(actor))
            )
        if visible is None:
            raise SubscribeError("not_found", f"No workflow run {topic.pk}.")

    async def route(
        self, tx: Tx, entries: Sequence[Row], subscriptions: Subscriptions
    ) -> dict[int, list[Routed]]:
        routed: dict[int, list[Routed]] = {}
        wanted = {e["pk"] for e in entries if subscriptions.get(f"workflow-runs/{e['pk']}")}
        if not wanted:
            return routed
        rows = await tx.rows(select(RUNS).where(RUNS.c.id.in_(sorted(int(pk) for pk in wanted))))
        by_id = {str(r["id"]): r for r in rows}
        # One body per run and subscriber identity (links depend on what each may view).
        bodies: dict[tuple[str, Actor], dict[str, object] | None] = {}
        for entry in entries:
            topic = f"workflow-runs/{entry['pk']}"
            row = by_id.get(entry["pk"])
            if row is None or not subscriptions.get(topic):
                continue
            groups: dict[Actor, list[Client]] = {}
            for client in subscriptions[topic]:
                groups.setdefault(client.actor, []).append(client)
            route = Routed(topic)
            for actor, clients in groups.items():
                key = (entry["pk"], actor)
                if key not in bodies:
                    visible = await tx.value(
                        select(RUNS.c.id).where(
                            RUNS.c.id == row["id"], self.runs.visible_clause(actor)
                        )
                    )
                    bodies[key] = (
                        None
                        if visible is None
                        else {
                            "type": "workflow",
                            "event": "progress",
                            "run": (await self.runs.bodies(tx, actor, [row]))[0],
                        }
                    )
                body = bodies[key]
                if body is not None:
                    route.audiences.append((body, clients))
            if route.audiences:
                routed[entry["id"]] = [route]
        return routed
