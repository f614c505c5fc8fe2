"""Routes of ``/api/auth``: login, logout, me and personal API tokens."""

from __future__ import annotations

import re
from typing import Annotated

import msgspec
from litestar import Controller, delete, get, post
from litestar.datastructures import Cookie
from litestar.params import CookieParameter, FromPath, JSONBody
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
from collabadmin.auth.edge import auth_dependencies
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
    TokenItem,
    TokenList,
)
from collabadmin.auth.users import actor_from_row, find_user, user_body
from collabadmin.context import Injected
from collabadmin.db.engine import Actor, Database
from collabadmin.errors import BadRequest, NotFound, TooManyRequests, Unauthorized
from collabadmin.inputs import ascii_int
from collabadmin.settings import Settings
from collabadmin.web import JsonResponse, strict_query

__all__ = ["AuthController"]

PASSWORD_BUSY_RETRY_SECONDS = 1
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
PreviousSession = Annotated[
    str | None,
    CookieParameter(
        name=SESSION_COOKIE,
        description="A session from before this sign-in: it is ended, never reused",
    ),
]


class AuthController(Controller):
    path = "/api/auth"
    tags = ["auth"]
    # A plain function here; Litestar unbinds it (mypy sees a method).
    before_request = strict_query  # type: ignore[assignment]
    response_class = JsonResponse
    dependencies = auth_dependencies()

    @post(
        "/login",
        operation_id="login",
        summary="Sign in with a password",
        status_code=200,
    )
    async def login(
        self,
        data: JSONBody[LoginRequest],
        *,
        previous_session: PreviousSession = None,
        client_host: Injected[str | None],
        over_https: Injected[bool],
        settings: Injected[Settings],
        db: Injected[Database],
        credentials: Injected[CredentialCache],
        login_guard: Injected[LoginGuard],
    ) -> JsonResponse[LoginResponse]:
        """Sign in. The order is the defence, see collabadmin.auth.throttle.

        Count the attempt (committed before anything else), then take a
        password slot, then check the password with no database connection
        held. An unknown username goes through exactly the same steps (a
        dummy hash is checked) and gets the same 401 body.
        """
        guard = login_guard
        username, password = data.username, data.password
        if _CONTROL.search(username):
            # No account has such a name; PostgreSQL text cannot even hold a NUL.
            raise BadRequest("The username contains a control character.")
        address = client_host  # after a trusted proxy's X-Forwarded-For
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
            if previous_session:
                await revoke_session(tx, digest(previous_session))
                credentials.forget(digest(previous_session))
            secret, csrf = await create_session(tx, row["id"], settings.session_ttl_seconds)
        cookie = Cookie(
            key=SESSION_COOKIE,
            value=secret,
            httponly=True,
            samesite="lax",
            secure=settings.secure_cookies or over_https,
            path="/",
            max_age=settings.session_ttl_seconds,
        )
        body = LoginResponse(user=user_body(actor_from_row(row)), csrf_token=csrf)
        return JsonResponse(body, cookies=[cookie])

    @post("/logout", operation_id="logout", summary="Sign out (ends the session)", status_code=200)
    async def logout(
        self,
        *,
        actor: Injected[Actor],
        credential: Injected[Credential | None],
        db: Injected[Database],
        credentials: Injected[CredentialCache],
    ) -> JsonResponse[OkResponse]:
        del actor  # asked for so that only a signed-in caller gets here (401 otherwise)
        if credential is not None and credential.kind == "session":
            async with db.connection() as tx:
                await revoke_session(tx, credential.key)
            # Its sockets close now (other instances hear it from the trigger).
            credentials.end(credential.key)
        response = JsonResponse(OkResponse(ok=True))
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response

    @get("/me", operation_id="me", summary="The signed-in user")
    async def me(
        self, *, actor: Injected[Actor], credential: Injected[Credential | None]
    ) -> MeResponse:
        body = MeResponse(user=user_body(actor))
        if credential is not None and credential.csrf_token:
            body.csrf_token = credential.csrf_token
        return body

    @get("/tokens", operation_id="listTokens", summary="My API tokens (never their secrets)")
    async def list_tokens(self, *, actor: Injected[Actor], db: Injected[Database]) -> TokenList:
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
        return TokenList(items=msgspec.convert(rows, list[TokenItem]))

    @post("/tokens", operation_id="createToken", summary="Create a personal API token")
    async def create_token(
        self, data: JSONBody[CreateTokenRequest], *, actor: Injected[Actor], db: Injected[Database]
    ) -> CreatedToken:
        assert actor.id is not None
        async with db.connection() as tx:
            token_id, secret = await create_token(tx, actor.id, data.name, data.expires_in)
        return CreatedToken(id=token_id, name=data.name, token=secret)

    @delete(
        "/tokens/{token_id:str}",
        operation_id="revokeToken",
        summary="Revoke one of my API tokens",
        status_code=204,
    )
    async def revoke_token(
        self,
        token_id: FromPath[str],
        *,
        actor: Injected[Actor],
        db: Injected[Database],
        credentials: Injected[CredentialCache],
    ) -> None:
        assert actor.id is not None
        key = None
        number = ascii_int(token_id)  # ASCII digits only: "٣" is not token 3
        if number is not None and 0 < number < 2**63:  # beyond bigint no token exists
            async with db.connection() as tx:
                key = await revoke_token(tx, actor.id, number)
        if key is None:
            raise NotFound(f"No token {token_id!r}.")
        # Its sockets close now (other instances hear it from the trigger).
        credentials.end(key)
