"""``GET /health``: is the database reachable, and is the change listener listening."""

from __future__ import annotations

import asyncio
from typing import Literal

from litestar import Response, get

from collabadmin.context import Injected
from collabadmin.db.engine import Database
from collabadmin.hub.listener import ChangeListener
from collabadmin.ops.types import HealthBody

__all__ = ["health"]

HEALTH_TIMEOUT = 2.0


@get("/health", operation_id="health", summary="Liveness of the database and the listener")
async def health(
    *,
    db: Injected[Database],
    listener: Injected[ChangeListener],
) -> Response[HealthBody]:
    database: Literal["ok", "unavailable"] = "ok"
    try:
        async with asyncio.timeout(HEALTH_TIMEOUT), db.connection() as tx:
            await tx.value("SELECT 1")
    except Exception:  # any failure here means "the database is down" to an operator
        database = "unavailable"
    hub = listener.status
    ok = database == "ok" and hub == "listening"
    return Response(
        HealthBody(status="ok" if ok else "unavailable", database=database, hub=hub),
        status_code=200 if ok else 503,
        headers={"Cache-Control": "no-store"},
    )
