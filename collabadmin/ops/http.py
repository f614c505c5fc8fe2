"""Timing and logging HTTP requests, and serving ``/metrics``.

:class:`RequestContextMiddleware` runs right after the request id is
chosen: it puts the id in :data:`~collabadmin.ops.logs.REQUEST_ID` for the
logs and notes when handling began. :class:`RequestObserver` is a
``before_send`` hook, because that is the one place that sees every
response, including those made from an exception raised by a middleware
(a 401 from authentication) after the middleware stack has unwound. On the
last body message it records the request's duration under its *route
template* (``/api/r/{resource}/{pk}``; raw paths would give every
record a time series of its own) and writes the access log line.

Requests that match no route never reach the middleware stack and are
neither timed nor access-logged.

``/metrics`` is not public: it answers only ``Authorization: Bearer`` with
the configured ``metrics_token`` (compared in constant time), 401
otherwise, and does not exist (404) when no token is configured.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
from typing import Annotated, Any

from litestar import Response, get
from litestar.enums import ScopeType
from litestar.handlers import HTTPRouteHandler
from litestar.middleware import ASGIMiddleware
from litestar.params import HeaderParameter
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from collabadmin.auth.middleware import client_request_id_of, request_id_of
from collabadmin.errors import NotFound, Unauthorized
from collabadmin.ops.logs import REQUEST_ID
from collabadmin.ops.metrics import Metrics

__all__ = ["RequestContextMiddleware", "RequestObserver", "metrics_handler"]

access_log = logging.getLogger("collabadmin.access")

_STARTED = "ops_started"
_STATUS = "ops_status"


class RequestContextMiddleware(ASGIMiddleware):
    """Carry the request id in a ContextVar and note when handling began."""

    scopes = (ScopeType.HTTP, ScopeType.WEBSOCKET)

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        scope.setdefault("state", {})[_STARTED] = time.perf_counter()
        token = REQUEST_ID.set(request_id_of(scope))
        try:
            await next_app(scope, receive, send)
        finally:
            REQUEST_ID.reset(token)


class RequestObserver:
    """A ``before_send`` hook: request duration histogram and the access log."""

    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics

    async def __call__(self, message: Message, scope: Scope) -> None:
        if scope["type"] != ScopeType.HTTP:
            return
        state = scope.setdefault("state", {})
        if message["type"] == "http.response.start":
            state[_STATUS] = message["status"]
            return
        if message["type"] != "http.response.body" or message.get("more_body", False):
            return
        started = state.pop(_STARTED, None)
        if started is None:
            return  # matched no route, or already recorded
        seconds = time.perf_counter() - started
        route = str(scope.get("path_template") or "unmatched")
        method, status = scope["method"], int(state.get(_STATUS, 500))
        self.metrics.observe_request(route, method, status, seconds)
        if access_log.isEnabledFor(logging.INFO):
            duration_ms = round(seconds * 1000, 2)
            extra: dict[str, Any] = {
                "method": method,
                "route": route,
                "status": status,
                "duration_ms": duration_ms,
                "request_id": request_id_of(scope),
            }
            client_request_id = client_request_id_of(scope)
            if client_request_id is not None:
                extra["client_request_id"] = client_request_id
            client = scope.get("client")
            if client:  # the address after ClientAddressMiddleware (trusted proxies only)
                extra["client"] = client[0]
            access_log.info(
                "%s %s %s %.1fms",
                method,
                route,
                status,
                duration_ms,
                extra=extra,
            )


def _digest(value: str) -> bytes:
    # Comparing fixed-length digests keeps the token's length out of the timing too.
    return hashlib.sha256(value.encode()).digest()


def metrics_handler(metrics: Metrics, token: str | None) -> HTTPRouteHandler:
    """``GET /metrics`` for one app; kept out of the OpenAPI document."""
    expected = _digest(token) if token else None

    @get("/metrics", include_in_schema=False, sync_to_thread=False)
    def serve_metrics(
        authorization: Annotated[str | None, HeaderParameter(name="Authorization")] = None,
    ) -> Response[bytes]:
        if expected is None:
            raise NotFound("No such route.")
        scheme, _, sent = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(_digest(sent.strip()), expected):
            raise Unauthorized(
                "Send the metrics token as 'Authorization: Bearer'.",
                headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
            )
        return Response(
            metrics.render(),
            # The classic text format every Prometheus reads (Litestar adds the charset).
            media_type="text/plain; version=0.0.4",
            headers={"Cache-Control": "no-store"},
        )

    return serve_metrics
