"""The bodies of ``/api/auth`` as msgspec Structs, for the OpenAPI document.

The handlers still build their bodies as dicts and encode them once
(:func:`collabadmin.web.json_response`), so every response stays
byte-for-byte what it was; these types are what the handlers declare, and
the Schemathesis suite (tests/fuzz) checks each real response against them.
Request bodies are read by the handlers themselves (so their 4xx problems
keep their exact shapes) and documented from ``opt["request_body"]``
(:mod:`collabadmin.openapi`).
"""

from __future__ import annotations

import datetime as dt

import msgspec

__all__ = [
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
    username: str = msgspec.field()
    password: str = msgspec.field()


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
    name: str
    # Seconds until it expires; none: it never does.
    expires_in: int | None = None


class CreatedToken(msgspec.Struct, kw_only=True):
    """The one time the token's secret is shown."""

    id: int
    name: str
    token: str
