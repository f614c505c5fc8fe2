"""Workflow tests use the websocket clients of the hub tests.

Every test also checks that the evaluator did not fail while it ran: its
errors are logged and followed by a full re-evaluation, which would
otherwise hide a broken incremental step behind correct-looking results.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.hub.conftest import Socket, SocketFor, socket_for

__all__ = ["Socket", "SocketFor", "socket_for"]


# A connection the test's own data reset ended (its frozen transactions are
# terminated) fails the evaluator's next statement; that is the harness, not a step.
ENDED_FROM_OUTSIDE = (
    "the connection is closed",
    "terminating connection due to administrator command",
    "server closed the connection unexpectedly",
)


@pytest.fixture(autouse=True)
def evaluator_never_fails(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    yield
    failures = [
        r.getMessage()
        for r in caplog.get_records("call")
        if r.name == "collabadmin.workflows" and r.levelname in ("WARNING", "ERROR")
    ]
    assert [f for f in failures if not any(e in f for e in ENDED_FROM_OUTSIDE)] == []
