"""What the sign-in routes read from the connection, as dependencies.

The auth routes take no request: ``credential`` (how the caller
authenticated, set by :class:`~collabadmin.auth.middleware.AuthMiddleware`),
``client_host`` (the client's address, after a trusted proxy's
``X-Forwarded-For``, see :mod:`collabadmin.auth.client_address`) and
``over_https`` (so a session cookie is ``Secure`` when it travels over TLS).
"""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.di import Provide

from collabadmin.auth.credentials import Credential

__all__ = ["auth_dependencies"]


def credential_of(request: Request[Any, Any, Any]) -> Credential | None:
    credential = request.scope.get("auth")
    return credential if isinstance(credential, Credential) else None


def client_host_of(request: Request[Any, Any, Any]) -> str | None:
    return request.client.host if request.client else None


def over_https(request: Request[Any, Any, Any]) -> bool:
    return request.url.scheme == "https"


def auth_dependencies() -> dict[str, Provide]:
    return {
        "credential": Provide(credential_of, sync_to_thread=False),
        "client_host": Provide(client_host_of, sync_to_thread=False),
        "over_https": Provide(over_https, sync_to_thread=False),
    }
