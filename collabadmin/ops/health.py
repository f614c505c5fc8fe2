"""``GET /health``: is the database reachable, is the change listener listening, and NATS.

In broker mode the body also says whether this instance leads the change
stream, where its consumer is and how far behind; the status is 503 while
its NATS connection is down (its sockets get no changes meanwhile).
"""

from __future__ import annotations

import asyncio
from typing import Any

from litestar import Request, Response, get

from collabadmin.context import Injected
from collabadmin.db.engine import Database
from collabadmin.hub.cluster import Cluster
from collabadmin.hub.listener import ChangeListener
from collabadmin.ops.types import HealthBody
from collabadmin.web import json_response

__all__ = ["health"]

HEALTH_TIMEOUT = 2.0


@get("/health", operation_id="health", summary="Liveness of the database and the listener")
async def health(
    request: Request[Any, Any, Any],
    *,
    db: Injected[Database],
    listener: Injected[ChangeListener],
    cluster: Injected[Cluster],
) -> Response[HealthBody]:
    database = "ok"
    try:
        async with asyncio.timeout(HEALTH_TIMEOUT), db.connection() as tx:
            await tx.value("SELECT 1")
    except Exception:  # any failure here means "the database is down" to an operator
        database = "unavailable"
    hub = listener.status
    ok = database == "ok" and hub == "listening"
    body: dict[str, object] = {"database": database, "hub": hub}
    broker = cluster.broker_status()
    if broker is not None:
        ok = ok and broker.connection == "connected"
        # Not the stream's name: /health is public, and it names the database.
        body["broker"] = {
            "connection": broker.connection,
            "leader": broker.leader,
            "sequence": broker.sequence,
            "lag": broker.lag,
        }
    return json_response(
        {"status": "ok" if ok else "unavailable", **body},
        200 if ok else 503,
        {"Cache-Control": "no-store"},
    )
