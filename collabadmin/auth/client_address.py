"""Who the client is: the socket peer, or what a *trusted* proxy says it is.

``X-Forwarded-For`` is a header anyone can send. It is believed only when
the socket peer is one of ``Settings.trusted_proxies`` (none by default):
then the address is the right-most entry of the header that is not itself a
trusted proxy. Entries to its left were written by the client and are never
used, so a client cannot pick the address it is throttled under.
``X-Forwarded-Proto`` from a trusted peer likewise sets the scheme (so
cookies are ``Secure`` behind a TLS-terminating proxy).

:class:`ClientAddressMiddleware` rewrites ``scope["client"]`` (and the
scheme) once, before anything else reads them, and keeps the socket peer in
``scope["state"]["peer"]``. The server itself (``collabadmin serve``) runs
uvicorn with its own proxy-header handling off, which would otherwise trust
any peer on 127.0.0.1 before the app sees the request.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Receive, Scope, Send

from collabadmin.settings import Network

__all__ = ["ClientAddressMiddleware", "forwarded_client"]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def _address(text: str) -> IPAddress | None:
    text = text.strip()
    if text.startswith("[") and "]" in text:  # "[2001:db8::1]:443"
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:  # "192.0.2.1:443"
        text = text.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _trusted(address: IPAddress, proxies: Sequence[Network]) -> bool:
    return any(address in network for network in proxies)


def forwarded_client(peer: str, forwarded_for: str | None, proxies: Sequence[Network]) -> str:
    """The client address for a request from ``peer`` carrying ``forwarded_for``.

    Without a trusted peer the header is ignored. Otherwise the chain is read
    from the right, skipping trusted proxies; the first other entry is the
    client. An entry that is not an address cannot have come from a trusted
    proxy (they append the address of their own peer), so the client is
    then taken to be the nearest trusted hop: a client cannot mint an
    address by writing nonsense.
    """
    nearest = _address(peer)
    if nearest is None or not forwarded_for or not _trusted(nearest, proxies):
        return peer
    for entry in reversed(forwarded_for.split(",")):
        hop = _address(entry)
        if hop is None:
            break
        nearest = hop
        if not _trusted(hop, proxies):
            break
    return str(nearest)


def _joined_header(scope: Scope, name: bytes) -> str | None:
    values = [v.decode("latin-1") for k, v in scope.get("headers", []) if k.lower() == name]
    return ",".join(values) if values else None


class ClientAddressMiddleware(ASGIMiddleware):
    """Set ``scope["client"]`` and the scheme from a trusted proxy's headers."""

    scopes = (ScopeType.HTTP, ScopeType.WEBSOCKET)

    def __init__(self, trusted_proxies: Sequence[Network]) -> None:
        self.proxies = tuple(trusted_proxies)

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        client = scope.get("client")
        scope.setdefault("state", {})["peer"] = client[0] if client else None
        if self.proxies and client:
            peer_address = _address(client[0])
            if peer_address is not None and _trusted(peer_address, self.proxies):
                forwarded = _joined_header(scope, b"x-forwarded-for")
                if forwarded:
                    scope["client"] = (forwarded_client(client[0], forwarded, self.proxies), 0)
                proto = (_joined_header(scope, b"x-forwarded-proto") or "").split(",")[-1]
                proto = proto.strip().lower()
                if proto in ("http", "https"):
                    secure = proto == "https"
                    if scope["type"] == ScopeType.WEBSOCKET:
                        scope["scheme"] = "wss" if secure else "ws"
                    else:
                        scope["scheme"] = proto
        await next_app(scope, receive, send)
