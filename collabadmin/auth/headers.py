"""Headers added to every HTTP response: security headers and the request ids.

They are added by a ``before_send`` hook, which sees every response the app
sends, including error responses produced when a middleware (such as
authentication) refuses a request.

The web app gets a strict Content-Security-Policy: scripts and styles only
from this origin, connections only back to it (including its websocket),
and framing only by itself (draft previews embed pages of the same origin).
The interactive API docs under ``/schema`` load their viewer from a CDN, so
they get the other headers but not that policy.
"""

from __future__ import annotations

from litestar.types import Message, Scope

__all__ = ["CONTENT_SECURITY_POLICY", "add_response_headers"]

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "frame-src 'self'",
        "frame-ancestors 'self'",
        "base-uri 'self'",
        "form-action 'self'",
        "object-src 'none'",
    ]
)

_COMMON = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"SAMEORIGIN"),
    (b"cross-origin-opener-policy", b"same-origin"),
]
_CSP = (b"content-security-policy", CONTENT_SECURITY_POLICY.encode())


async def add_response_headers(message: Message, scope: Scope) -> None:
    if message["type"] != "http.response.start":
        return
    extra = list(_COMMON)
    if not scope["path"].startswith("/schema"):
        extra.append(_CSP)
    request_id = scope.get("state", {}).get("request_id")
    if isinstance(request_id, str):
        extra.append((b"x-request-id", request_id.encode()))
    client_request_id = scope.get("state", {}).get("client_request_id")
    if isinstance(client_request_id, str):  # only ever the safe format, see RequestIdMiddleware
        extra.append((b"x-client-request-id", client_request_id.encode()))
    headers = list(message.get("headers", []))
    present = {k.lower() for k, _ in headers}
    headers.extend((k, v) for k, v in extra if k not in present)
    message["headers"] = headers
