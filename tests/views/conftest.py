"""Live view tests use the websocket clients of the hub tests.

Every test also checks that the evaluators did not fail while it ran: their
errors are logged and followed by a whole evaluation, which would otherwise
hide a broken incremental step behind correct-looking results. So that a
failure is the evaluators' own, each test ends once their transactions have
(see :func:`evaluations_settle`).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import psycopg
import pytest

from tests.hub.conftest import Socket, SocketFor, socket_for

__all__ = ["Socket", "SocketFor", "socket_for"]

SETTLE_TIMEOUT = 10.0
# Transactions of this database's clients under way (not the LISTEN connections).
_BUSY = """
SELECT count(*) FROM pg_stat_activity
 WHERE datname = current_database() AND pid <> pg_backend_pid()
   AND backend_type = 'client backend'
   AND (state = 'active' OR state LIKE 'idle in transaction%')
"""


@pytest.fixture(autouse=True)
def evaluators_never_fail(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    yield
    failures = [
        r.getMessage()
        for r in caplog.get_records("call")
        if r.name in ("collabadmin.views", "collabadmin.workflows")
        and r.levelname in ("WARNING", "ERROR")
    ]
    assert failures == []


@pytest.fixture(autouse=True)
async def evaluations_settle(conninfo: str) -> AsyncIterator[None]:
    """After the test, wait (bounded) until the app's evaluations have committed.

    The next test's data reset runs while the event loop stands still, and
    ends the transactions it finds frozen in it (tests/conftest.py); an
    evaluation ended that way logs a failure the next test would be blamed
    for. Evaluations after a test are the tail of its own writes, so they
    are let finish here, while the loop runs.
    """
    yield
    loop = asyncio.get_running_loop()
    deadline = loop.time() + SETTLE_TIMEOUT
    quiet = 0
    async with await psycopg.AsyncConnection.connect(conninfo, autocommit=True) as conn:
        while quiet < 3 and loop.time() < deadline:
            row = await (await conn.execute(_BUSY)).fetchone()
            quiet = quiet + 1 if row is not None and row[0] == 0 else 0
            await asyncio.sleep(0.01)  # sleep-ok: polling a condition, bounded by the deadline
