"""Saying that a read may be behind: derived state that could not be brought up to date in time.

A read of derived state (a live view's row, a workflow run) first makes sure
it reflects every committed write (DESIGN invariant 9): it evaluates what
is pending, waiting for a concurrent evaluation at most a bounded time.
When that bound is hit the read answers with what it has, and the response
carries ``X-Derived-Stale`` naming what may be behind (``course_overview``,
``workflow_runs``), so a client that must see its own write can retry.

The note is request-scoped: :class:`FreshnessMiddleware` opens it for each
HTTP request, :func:`note_stale` adds to it from wherever the read happens
(services know nothing of HTTP), and :func:`add_stale_header` (a
``before_send`` hook) puts it on the response.
"""

from __future__ import annotations

from contextvars import ContextVar

from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["STALE_HEADER", "FreshnessMiddleware", "add_stale_header", "note_stale"]

STALE_HEADER = "X-Derived-Stale"
_STALE: ContextVar[set[str] | None] = ContextVar("collabadmin_stale", default=None)


def note_stale(what: str) -> None:
    """The current request read ``what`` possibly behind the latest writes."""
    notes = _STALE.get()
    if notes is not None:
        notes.add(what)


class FreshnessMiddleware(ASGIMiddleware):
    """Open a note of stale reads for each HTTP request."""

    scopes = (ScopeType.HTTP,)

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        token = _STALE.set(set())
        try:
            await next_app(scope, receive, send)
        finally:
            _STALE.reset(token)


async def add_stale_header(message: Message, scope: Scope) -> None:
    """A ``before_send`` hook: ``X-Derived-Stale`` on a response whose reads were behind."""
    if message["type"] != "http.response.start":
        return
    notes = _STALE.get()
    if notes:
        headers = list(message.get("headers", []))
        headers.append((STALE_HEADER.lower().encode(), ",".join(sorted(notes)).encode()))
        message["headers"] = headers
