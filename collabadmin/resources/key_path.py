"""Keep the record-key segment of ``/api/r/{resource}/{pk}...`` percent-encoded for routing.

The ASGI server hands over the path already percent-decoded, so a composite
key whose text value holds an escaped ``,`` (``a%2Cb,c``) would reach the
route as ``a,b,c`` (three parts, not two), and an escaped ``/`` would split
the path. When the key segment of the raw path holds a ``%``, this rewrites
the decoded path so that that one segment stays as sent; the key is then
decoded part by part by :func:`collabadmin.resources.keys.decode_key`
(percent-decoding an unescaped segment changes nothing, so routes may
always decode).
"""

from __future__ import annotations

from urllib.parse import unquote

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Receive, Scope, Send

__all__ = ["RecordKeyPath"]

_PREFIX = b"/api/r/"
_KEY_SEGMENT = 4  # "", "api", "r", resource, key, ...


class RecordKeyPath:
    """Wraps the app's ASGI handler: runs before routing (Litestar's middleware runs after)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        raw = scope.get("raw_path") if scope["type"] == ScopeType.HTTP else None
        if raw and raw.startswith(_PREFIX):
            # Some clients' test transports include the query string.
            segments = raw.split(b"?", 1)[0].split(b"/")
            if len(segments) > _KEY_SEGMENT and b"%" in segments[_KEY_SEGMENT]:
                parts = [
                    seg.decode("utf-8", "surrogateescape")
                    if i == _KEY_SEGMENT
                    else unquote(seg.decode("utf-8", "surrogateescape"))
                    for i, seg in enumerate(segments)
                ]
                scope["path"] = "/".join(parts)
        await self.app(scope, receive, send)
