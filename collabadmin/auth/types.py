"""The bodies of ``/api/auth`` as msgspec Structs, for the OpenAPI document.

The handlers take their request bodies as these types (converted at the
edge: a body of the wrong shape is one 422 listing each field at fault) and
return these types; the Schemathesis suite (tests/fuzz) checks each real
response against them.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import msgspec

__all__ = [
    "MAX_TOKEN_SECONDS",
    "ActorRef",
    "CreateTokenRequest",
    "CreatedToken",
    "LoginRequest",
    "LoginResponse",
    "MeResponse",
    "OkResponse",
    "TokenItem",
    "TokenList",
    "UserBody",
]


MAX_TOKEN_SECONDS = 10 * 365 * 24 * 3600


class UserBody(msgspec.Struct, kw_only=True):
    """A signed-in user as the API shows it."""

    id: int
    username: str
    name: str
    roles: list[str]


class ActorRef(msgspec.Struct, kw_only=True):
    """Who did something: a user's id (null for a database role) and display name."""

    id: int | None
    name: str


class LoginRequest(msgspec.Struct, kw_only=True):
    username: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    password: Annotated[str, msgspec.Meta(min_length=1, max_length=1024)]


class LoginResponse(msgspec.Struct, kw_only=True):
    user: UserBody
    csrf_token: str


class MeResponse(msgspec.Struct, kw_only=True):
    user: UserBody
    # Only for a session (a bearer token needs no CSRF token).
    csrf_token: str | msgspec.UnsetType = msgspec.UNSET


class OkResponse(msgspec.Struct, kw_only=True):
    ok: bool


class TokenItem(msgspec.Struct, kw_only=True):
    id: int
    name: str
    created_at: dt.datetime
    expires_at: dt.datetime | None
    last_used_at: dt.datetime | None


class TokenList(msgspec.Struct, kw_only=True):
    items: list[TokenItem]


class CreateTokenRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    # Seconds until it expires; none: it never does.
    expires_in: Annotated[int, msgspec.Meta(ge=1, le=MAX_TOKEN_SECONDS)] | None = None


class CreatedToken(msgspec.Struct, kw_only=True):
    """The one time the token's secret is shown."""

    id: int
    name: str
    token: str
