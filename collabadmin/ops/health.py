"""``GET /health``: is the database reachable, is the change listener listening, and NATS.

In broker mode the body also says whether this instance leads the change
stream, where its consumer is and how far behind; the status is 503 while
its NATS connection is down (its sockets get no changes meanwhile).
"""

from __future__ import annotations

import asyncio
from typing import Literal

import msgspec
from litestar import Response, get

from collabadmin.context import Injected
from collabadmin.db.engine import Database
from collabadmin.hub.cluster import Cluster
from collabadmin.hub.listener import ChangeListener
from collabadmin.ops.types import BrokerHealth, HealthBody

__all__ = ["health"]

HEALTH_TIMEOUT = 2.0


@get("/health", operation_id="health", summary="Liveness of the database and the listener")
async def health(
    *,
    db: Injected[Database],
    listener: Injected[ChangeListener],
    cluster: Injected[Cluster],
) -> Response[HealthBody]:
    database: Literal["ok", "unavailable"] = "ok"
    try:
        async with asyncio.timeout(HEALTH_TIMEOUT), db.connection() as tx:
            await tx.value("SELECT 1")
    except Exception:  # any failure here means "the database is down" to an operator
        database = "unavailable"
    hub = listener.status
    ok = database == "ok" and hub == "listening"
    broker = cluster.broker_status()
    if broker is not None:
        ok = ok and broker.connection == "connected"
    return Response(
        HealthBody(
            status="ok" if ok else "unavailable",
            database=database,
            hub=hub,
            # Not the stream's name: /health is public, and it names the database.
            broker=msgspec.UNSET
            if broker is None
            else BrokerHealth(
                connection=broker.connection,
                leader=broker.leader,
                sequence=broker.sequence,
                lag=broker.lag,
            ),
        ),
        status_code=200 if ok else 503,
        headers={"Cache-Control": "no-store"},
    )
