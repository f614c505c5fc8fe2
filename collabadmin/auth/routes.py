"""Routes of ``/api/auth``: login, logout, me and personal API tokens."""

from __future__ import annotations

import re
from typing import Any

from litestar import Controller, Request, Response, delete, get, post
from litestar.datastructures import Cookie
from litestar.params import FromPath
from sqlalchemy import select

from collabadmin.auth.credentials import (
    Credential,
    CredentialCache,
    create_session,
    create_token,
    digest,
    revoke_session,
    revoke_token,
)
from collabadmin.auth.login_guard import LoginGuard
from collabadmin.auth.middleware import SESSION_COOKIE
from collabadmin.auth.passwords import verify_password
from collabadmin.auth.tables import API_TOKENS
from collabadmin.auth.types import (
    CreatedToken,
    CreateTokenRequest,
    LoginRequest,
    LoginResponse,
    MeResponse,
    OkResponse,
    TokenList,
)
from collabadmin.auth.users import actor_from_row, find_user, user_body
from collabadmin.context import Injected
from collabadmin.db.engine import Database
from collabadmin.errors import (
    BadRequest,
    FieldError,
    NotFound,
    TooManyRequests,
    Unauthorized,
    ValidationFailed,
)
from collabadmin.settings import Settings
from collabadmin.web import actor_of, json_response, read_json_object

__all__ = ["AuthController"]

MAX_TOKEN_SECONDS = 10 * 365 * 24 * 3600
PASSWORD_BUSY_RETRY_SECONDS = 1
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _string(body: dict[str, Any], name: str, errors: list[FieldError], max_len: int) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value:
        errors.append(FieldError(name, "Required, as a string."))
        return ""
    if len(value) > max_len:
        errors.append(FieldError(name, f"At most {max_len} characters."))
    return value


def _session_cookie(request: Request[Any, Any, Any]) -> str | None:
    value = request.cookies.get(SESSION_COOKIE)
    return value if value else None


class AuthController(Controller):
    path = "/api/auth"
    tags = ["auth"]

    @post(
        "/login",
        operation_id="login",
        summary="Sign in with a password",
        status_code=200,
        opt={"request_body": LoginRequest},
    )
    async def login(
        self,
        request: Request[Any, Any, Any],
        *,
        settings: Injected[Settings],
        db: Injected[Database],
        credentials: Injected[CredentialCache],
        login_guard: Injected[LoginGuard],
    ) -> Response[LoginResponse]:
        """Sign in. The order is the defence, see collabadmin.auth.throttle.

        Count the attempt (committed before anything else), then take a
        password slot, then check the password with no database connection
        held. An unknown username goes through exactly the same steps (a
        dummy hash is checked) and gets the same 401 body.
        """
        guard = login_guard
        body = await read_json_object(request)
        errors: list[FieldError] = []
        username = _string(body, "username", errors, 64)
        password = _string(body, "password", errors, 1024)
        if errors:
            raise ValidationFailed(errors)
        if _CONTROL.search(username):
            # No account has such a name; PostgreSQL text cannot even hold a NUL.
            raise BadRequest("The username contains a control character.")
        address = request.client.host if request.client else None
        async with db.connection() as tx:
            wait = await guard.throttle.admit(tx, username, address)
            row = None if wait else await find_user(tx, username)
        if wait:
            raise TooManyRequests(
                "Too many failed sign-ins; try again later.", headers={"Retry-After": str(wait)}
            )
        if not guard.slots.try_take():
            async with db.connection() as tx:
                await guard.throttle.refund(tx, username, address)
            # 429 rather than 503: shedding this load is deliberate, not a
            # server failure to log with a traceback at every refusal of a burst.
            raise TooManyRequests(
                "Too many sign-ins at once; try again in a moment.",
                headers={"Retry-After": str(PASSWORD_BUSY_RETRY_SECONDS)},
            )
        try:
            ok = await verify_password(row["password_hash"] if row else None, password)
        finally:
            guard.slots.give_back()
        if row is None or not ok:
            raise Unauthorized("Unknown username or wrong password.")
        async with db.connection() as tx:
            await guard.throttle.succeeded(tx, username, address)
            # Rotation: a session from before this sign-in is ended, never reused.
            old = _session_cookie(request)
            if old:
                await revoke_session(tx, digest(old))
                credentials.forget(digest(old))
            secret, csrf = await create_session(tx, row["id"], settings.session_ttl_seconds)
        response = json_response({"user": user_body(actor_from_row(row)), "csrf_token": csrf})
        response.set_cookie(
            Cookie(
                key=SESSION_COOKIE,
                value=secret,
                httponly=True,
                samesite="lax",
                secure=settings.secure_cookies or request.url.scheme == "https",
                path="/",
                max_age=settings.session_ttl_seconds,
            )
        )
        return response

    @post("/logout", operation_id="logout", summary="Sign out (ends the session)", status_code=200)
    async def logout(
        self,
        request: Request[Any, Any, Any],
        *,
        db: Injected[Database],
        credentials: Injected[CredentialCache],
    ) -> Response[OkResponse]:
        actor_of(request)
        credential = request.scope.get("auth")
        if isinstance(credential, Credential) and credential.kind == "session":
            async with db.connection() as tx:
                await revoke_session(tx, credential.key)
            # Its sockets close now (other instances hear it from the trigger).
            credentials.end(credential.key)
        response = json_response({"ok": True})
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response

    @get("/me", operation_id="me", summary="The signed-in user")
    async def me(self, request: Request[Any, Any, Any]) -> Response[MeResponse]:
        credential = request.scope.get("auth")
        body: dict[str, Any] = {"user": user_body(actor_of(request))}
        if isinstance(credential, Credential) and credential.csrf_token:
            body["csrf_token"] = credential.csrf_token
        return json_response(body)

    @get("/tokens", operation_id="listTokens", summary="My API tokens (never their secrets)")
    async def list_tokens(
        self, request: Request[Any, Any, Any], *, db: Injected[Database]
    ) -> Response[TokenList]:
        actor = actor_of(request)
        query = (
            select(
                API_TOKENS.c.id,
                API_TOKENS.c.name,
                API_TOKENS.c.created_at,
                API_TOKENS.c.expires_at,
                API_TOKENS.c.last_used_at,
            )
            .where(API_TOKENS.c.user_id == actor.id, API_TOKENS.c.revoked_at.is_(None))
            .order_by(API_TOKENS.c.id)
        )
        async with db.read() as tx:
            rows = await tx.rows(query)
        return json_response({"items": rows})

    @post(
        "/tokens",
        operation_id="createToken",
        summary="Create a personal API token",
        opt={"request_body": CreateTokenRequest},
    )
    async def create_token(
        self, request: Request[Any, Any, Any], *, db: Injected[Database]
    ) -> Response[CreatedToken]:
        actor = actor_of(request)
        body = await read_json_object(request)
        errors: list[FieldError] = []
        name = _string(body, "name", errors, 100)
        expires_in = body.get("expires_in")
        if expires_in is not None and (
            isinstance(expires_in, bool)
            or not isinstance(expires_in, int)
            or not 1 <= expires_in <= MAX_TOKEN_SECONDS
        ):
            errors.append(FieldError("expires_in", f"Seconds, between 1 and {MAX_TOKEN_SECONDS}."))
        unknown = set(body) - {"name", "expires_in"}
        errors.extend(FieldError(k, "Unknown field.") for k in sorted(unknown))
        if errors:
            raise ValidationFailed(errors)
        assert actor.id is not None
        async with db.connection() as tx:
            token_id, secret = await create_token(tx, actor.id, name, expires_in)
        return json_response({"id": token_id, "name": name, "token": secret}, 201)

    @delete(
        "/tokens/{token_id:int}",
        operation_id="revokeToken",
        summary="Revoke one of my API tokens",
        status_code=204,
    )
    async def revoke_token(
        self,
        request: Request[Any, Any, Any],
        token_id: FromPath[int],
        *,
        db: Injected[Database],
        credentials: Injected[CredentialCache],
    ) -> None:
        actor = actor_of(request)
        assert actor.id is not None
        key = None
        if 0 < token_id < 2**63:  # beyond bigint no token exists; do not ask the database
            async with db.connection() as tx:
                key = await revoke_token(tx, actor.id, token_id)
        if key is None:
            raise NotFound(f"No token {token_id}.")
        # Its sockets close now (other instances hear it from the trigger).
        credentials.end(key)
