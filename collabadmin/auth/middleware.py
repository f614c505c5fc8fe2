"""Authentication, CSRF and request ids, as ASGI middleware.

Every path under ``/api/`` needs a credential except the login route; the
SPA, its static assets, ``/health`` and ``/schema`` are public. Credentials
are, in order: ``Authorization: Bearer <token>``, the session cookie, and for
websockets (whose browser API cannot set headers) ``?token=``. A
cookie-authenticated unsafe request must carry the session's
``X-CSRF-Token``; bearer requests need none because a browser never attaches
them on its own.

A websocket without a credential is *not* refused here: rejecting before
``accept`` makes the server answer HTTP 403 and browsers never see a close
code, so the websocket handler accepts and closes with 4401 itself.
"""

from __future__ import annotations

import asyncio
import hmac
import re
import secrets
from urllib.parse import parse_qs

from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Receive, Scope, Send

from collabadmin.auth.credentials import (
    DEFAULT_IDLE_SECONDS,
    Credential,
    CredentialCache,
    digest,
    resolve_session,
    resolve_token,
)
from collabadmin.db.engine import Database
from collabadmin.errors import Forbidden, Unauthorized

__all__ = [
    "CLIENT_REQUEST_ID",
    "SESSION_COOKIE",
    "AuthMiddleware",
    "RequestIdMiddleware",
    "client_request_id_of",
    "request_id_of",
]

SESSION_COOKIE = "collabadmin_session"
PUBLIC_API = frozenset({"/api/auth/login"})
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# What a client-sent X-Request-ID must look like to be recorded at all. Full
# match on ASCII only: no "$"-before-newline, no Unicode letters or digits.
CLIENT_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}", re.ASCII)


def request_id_of(scope: Scope) -> str | None:
    """The server's own id of this request (never one a client chose)."""
    value = scope.get("state", {}).get("request_id")
    return value if isinstance(value, str) else None


def client_request_id_of(scope: Scope) -> str | None:
    """The ``X-Request-ID`` the client sent, if it had the safe format."""
    value = scope.get("state", {}).get("client_request_id")
    return value if isinstance(value, str) else None


class RequestIdMiddleware(ASGIMiddleware):
    """Give each request an id of the server's own, and keep a sane client one apart.

    The server's id is 16 random hex digits, always: it is echoed in the
    response's ``X-Request-ID`` (see :mod:`collabadmin.auth.headers`), carried
    by every log record and written to every change-log entry the request
    causes, so it can be trusted to name one request. A client's (or load
    balancer's) ``X-Request-ID`` is only correlated: kept as
    ``client_request_id`` when it matches :data:`CLIENT_REQUEST_ID` (it then
    appears in the access log and the ``X-Client-Request-ID`` response
    header), and ignored otherwise. Were it adopted as the request id, a
    client could give its requests another request's id in the logs and the
    audit trail, or write newlines and terminal escapes into them.
    """

    scopes = (ScopeType.HTTP, ScopeType.WEBSOCKET)

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        state = scope.setdefault("state", {})
        state["request_id"] = secrets.token_hex(8)
        incoming = _header(scope, b"x-request-id")
        if incoming is not None and CLIENT_REQUEST_ID.fullmatch(incoming):
            state["client_request_id"] = incoming
        await next_app(scope, receive, send)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return value.decode("latin-1")
    return None


def _cookie(scope: Scope, name: str) -> str | None:
    raw = _header(scope, b"cookie")
    if not raw:
        return None
    for part in raw.split(";"):
        key, _, value = part.strip().partition("=")
        if key == name:
            return value
    return None


class AuthMiddleware(ASGIMiddleware):
    """Resolve the caller into ``scope["user"]`` (an Actor) and ``scope["auth"]``."""

    scopes = (ScopeType.HTTP, ScopeType.WEBSOCKET)

    def __init__(
        self, db: Database, cache: CredentialCache, idle_seconds: int = DEFAULT_IDLE_SECONDS
    ) -> None:
        self.db = db
        self.cache = cache
        self.idle_seconds = idle_seconds
        self._pending: dict[tuple[str, str], asyncio.Future[Credential | None]] = {}

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        path: str = scope["path"]
        scope["user"] = None
        scope["auth"] = None
        if not path.startswith("/api/") or path in PUBLIC_API:
            await next_app(scope, receive, send)
            return
        credential = await self._resolve(scope)
        if credential is None:
            if scope["type"] == ScopeType.WEBSOCKET:
                await next_app(scope, receive, send)
                return
            raise Unauthorized("Sign in, or send an API token as 'Authorization: Bearer'.")
        if (
            scope["type"] == ScopeType.HTTP
            and scope["method"] in UNSAFE
            and credential.kind == "session"
        ):
            sent = _header(scope, b"x-csrf-token") or ""
            if not hmac.compare_digest(sent.encode(), (credential.csrf_token or "").encode()):
                raise Forbidden("Missing or wrong X-CSRF-Token header.")
        scope["user"] = credential.actor
        scope["auth"] = credential
        await next_app(scope, receive, send)

    async def _resolve(self, scope: Scope) -> Credential | None:
        authorization = _header(scope, b"authorization")
        if authorization:
            scheme, _, token = authorization.partition(" ")
            if scheme.lower() != "bearer" or not token.strip():
                return None
            return await self._lookup("token", token.strip())
        session = _cookie(scope, SESSION_COOKIE)
        if session:
            return await self._lookup("session", session)
        if scope["type"] == ScopeType.WEBSOCKET:
            query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
            tokens = query.get("token")
            if tokens:
                return await self._lookup("token", tokens[0])
        return None

    async def _lookup(self, kind: str, secret: str) -> Credential | None:
        if len(secret) > 256:
            return None
        key = digest(secret)
        cached = self.cache.get(key)
        if cached is not None and cached.kind == kind:
            return cached
        # One lookup per credential at a time: when its cache entry expires,
        # the requests a busy client has in flight would otherwise each read
        # it (and queue on its row to touch last_used_at).
        pending = self._pending.get((kind, key))
        if pending is None:
            pending = asyncio.ensure_future(self._read(kind, secret))
            self._pending[kind, key] = pending
            pending.add_done_callback(lambda done: self._settled(kind, key, done))
        # Shielded: a caller that goes away does not cancel the others' lookup.
        return await asyncio.shield(pending)

    def _settled(self, kind: str, key: str, done: asyncio.Future[Credential | None]) -> None:
        self._pending.pop((kind, key), None)
        if not done.cancelled():
            done.exception()  # each waiter gets it; none left is not an unretrieved error

    async def _read(self, kind: str, secret: str) -> Credential | None:
        async with self.db.connection() as tx:
            if kind == "token":
                credential = await resolve_token(tx, secret)
            else:
                credential = await resolve_session(tx, secret, self.idle_seconds)
        if credential is not None:
            self.cache.put(credential)
        return credential
