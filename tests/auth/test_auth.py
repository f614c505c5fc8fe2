"""Authentication: login, sessions with CSRF, API tokens, and 401 everywhere else."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from litestar import Litestar

from tests.conftest import PASSWORD, ClientFor, anonymous_client
from tests.helpers import field_errors, ok, problem

PUBLIC = {"/health", "/api/auth/login"}


async def login(client: httpx.AsyncClient, username: str, password: str = PASSWORD) -> str:
    body = ok(
        await client.post("/api/auth/login", json={"username": username, "password": password})
    )
    assert body["user"]["username"] == username
    return str(body["csrf_token"])


async def test_login_sets_an_httponly_lax_cookie(anon: httpx.AsyncClient) -> None:
    response = await anon.post("/api/auth/login", json={"username": "editor", "password": PASSWORD})
    body = ok(response)
    assert body["user"]["roles"] == ["editor"]
    cookie = response.headers["set-cookie"]
    assert "collabadmin_session=" in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie or "samesite=lax" in cookie.lower()
    me = ok(await anon.get("/api/auth/me"))
    assert me["user"]["username"] == "editor"
    assert me["csrf_token"] == body["csrf_token"]


async def test_unknown_user_and_wrong_password_look_the_same(anon: httpx.AsyncClient) -> None:
    wrong = await anon.post("/api/auth/login", json={"username": "editor", "password": "nope"})
    unknown = await anon.post("/api/auth/login", json={"username": "ghost", "password": "nope"})
    assert problem(wrong, 401) == problem(unknown, 401)
    assert "set-cookie" not in wrong.headers
    errors = field_errors(await anon.post("/api/auth/login", json={"username": 3}))
    assert set(errors) == {"username", "password"}


async def test_cookie_writes_need_the_csrf_header(
    anon: httpx.AsyncClient, fresh_data: None
) -> None:
    csrf = await login(anon, "editor")
    patch = {"description": "csrf"}
    problem(await anon.patch("/api/r/courses/1", json=patch, headers={"If-Match": '"1"'}), 403)
    problem(
        await anon.patch(
            "/api/r/courses/1", json=patch, headers={"If-Match": '"1"', "X-CSRF-Token": "bad"}
        ),
        403,
    )
    ok(
        await anon.patch(
            "/api/r/courses/1", json=patch, headers={"If-Match": '"1"', "X-CSRF-Token": csrf}
        )
    )
    ok(await anon.get("/api/r/courses/1"))  # safe methods need no header


async def test_logout_ends_the_session_on_the_server(app: Litestar) -> None:
    async with anonymous_client(app) as client:
        csrf = await login(client, "viewer")
        stolen = client.cookies.get("collabadmin_session")
        ok(await client.post("/api/auth/logout", headers={"X-CSRF-Token": csrf}))
        problem(await client.get("/api/auth/me"), 401)
    async with anonymous_client(app) as attacker:
        attacker.cookies.set("collabadmin_session", stolen or "")
        problem(await attacker.get("/api/auth/me"), 401)


async def test_login_again_gives_a_new_session(app: Litestar) -> None:
    async with anonymous_client(app) as client:
        await login(client, "viewer")
        first = client.cookies.get("collabadmin_session")
        await login(client, "viewer")
        assert client.cookies.get("collabadmin_session") != first


async def test_api_tokens_work_and_can_be_revoked(app: Litestar, fresh_data: None) -> None:
    async with anonymous_client(app) as browser:
        csrf = await login(browser, "editor")
        created = ok(
            await browser.post(
                "/api/auth/tokens", json={"name": "script"}, headers={"X-CSRF-Token": csrf}
            ),
            201,
        )
        assert created["token"].startswith("ca_")
        listed = ok(await browser.get("/api/auth/tokens"))["items"]
        [mine] = [t for t in listed if t["id"] == created["id"]]
        assert mine["name"] == "script"
        assert "token" not in mine
        async with anonymous_client(
            app, headers={"Authorization": f"Bearer {created['token']}"}
        ) as script:
            assert ok(await script.get("/api/auth/me"))["user"]["username"] == "editor"
            # Bearer requests need no CSRF header.
            ok(
                await script.patch(
                    "/api/r/courses/2", json={"description": "x"}, headers={"If-Match": '"1"'}
                )
            )
            response = await browser.delete(
                f"/api/auth/tokens/{created['id']}", headers={"X-CSRF-Token": csrf}
            )
            assert response.status_code == 204
            problem(await script.get("/api/auth/me"), 401)
        problem(
            await browser.delete(
                f"/api/auth/tokens/{created['id']}", headers={"X-CSRF-Token": csrf}
            ),
            404,
        )


async def test_token_validation(client_for: ClientFor) -> None:
    editor = await client_for("editor")
    errors = field_errors(
        await editor.post("/api/auth/tokens", json={"name": "", "expires_in": -1, "x": 1})
    )
    assert errors == {
        "name": "Expected text that is not empty.",
        "expires_in": "Expected an integer >= 1.",
        "x": "Unknown field.",
    }
    assert field_errors(
        await editor.post("/api/auth/tokens", json={"name": "n" * 101, "expires_in": True})
    ) == {
        "expires_in": "Expected an integer or null, got true or false.",
        "name": "Expected text of at most 100 characters.",
    }
    expiring = ok(await editor.post("/api/auth/tokens", json={"name": "n", "expires_in": 60}), 201)
    assert expiring["id"] > 0


async def test_a_token_id_is_ascii_digits(client_for: ClientFor) -> None:
    """``int("٣")`` is 3 in Python: a token's id in a path must be ASCII digits."""
    editor = await client_for("editor")
    created = ok(await editor.post("/api/auth/tokens", json={"name": "digits"}), 201)
    arabic = str(created["id"]).translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))
    for text in (arabic, f"+{created['id']}", f"{created['id']}.0", "0", "9" * 30):
        problem(await editor.delete(f"/api/auth/tokens/{text}"), 404)
    listed = ok(await editor.get("/api/auth/tokens"))["items"]
    assert created["id"] in [t["id"] for t in listed]
    assert (await editor.delete(f"/api/auth/tokens/{created['id']}")).status_code == 204


async def test_login_bodies_are_typed(anon: httpx.AsyncClient) -> None:
    assert field_errors(
        await anon.post("/api/auth/login", json={"username": "", "password": ""})
    ) == {
        "password": "Expected text that is not empty.",
        "username": "Expected text that is not empty.",
    }
    assert set(field_errors(await anon.post("/api/auth/login", json={"username": "a" * 65}))) == {
        "password",
        "username",
    }
    problem(await anon.post("/api/auth/login", json=["editor", PASSWORD]), 400)
    problem(
        await anon.post(
            "/api/auth/login",
            content=b"username=editor",
            headers={"content-type": "application/x-www-form-urlencoded"},
        ),
        415,
    )
    # A query string is no way to sign in.
    problem(
        await anon.post(
            "/api/auth/login?username=editor", json={"username": "editor", "password": PASSWORD}
        ),
        400,
    )


@pytest.mark.parametrize(
    "authorization", ["Bearer nope", "Basic dXNlcjpwYXNz", "Bearer", "Bearer " + "x" * 300]
)
async def test_bad_credentials_are_401(app: Litestar, authorization: str) -> None:
    async with anonymous_client(app, headers={"Authorization": authorization}) as client:
        problem(await client.get("/api/meta"), 401)


def _concrete(path: str) -> str:
    """A path with its parameters filled in: numbers where they are ids (or a batch)."""

    def value(match: re.Match[str]) -> str:
        return "1" if "id" in match.group(1) or match.group(1) == "batch" else "courses"

    return re.sub(r"\{(\w+)(?::\w+)?\}", value, path)


async def test_every_route_in_the_openapi_document_needs_credentials(
    anon: httpx.AsyncClient,
) -> None:
    """New routes are covered automatically: each operation without credentials is 401."""
    document: dict[str, Any] = ok(await anon.get("/schema/openapi.json"))
    checked = 0
    for path, operations in document["paths"].items():
        for method in operations:
            if method not in {"get", "post", "put", "patch", "delete", "options"}:
                continue
            response = await anon.request(method.upper(), _concrete(path))
            if path in PUBLIC:
                assert response.status_code != 401, (method, path)
                continue
            problem(response, 401)
            checked += 1
    assert checked >= 12


async def test_every_operation_has_an_explicit_id(anon: httpx.AsyncClient) -> None:
    document: dict[str, Any] = ok(await anon.get("/schema/openapi.json"))
    ids = [
        op["operationId"]
        for ops in document["paths"].values()
        for method, op in ops.items()
        if isinstance(op, dict) and "operationId" in op
    ]
    assert len(ids) == len(set(ids))
    for required in ("listRecords", "patchRecord", "login", "getMeta", "health"):
        assert required in ids
    assert all(re.fullmatch(r"[a-z][A-Za-z0-9]+", i) for i in ids)


async def test_public_endpoints(anon: httpx.AsyncClient) -> None:
    assert ok(await anon.get("/health")) == {"status": "ok", "database": "ok", "hub": "listening"}
    docs = await anon.get("/schema")
    assert docs.status_code == 200
    assert "text/html" in docs.headers["content-type"]
    spa = await anon.get("/courses/42")  # a client route of the web app
    assert spa.status_code == 200
    assert "text/html" in spa.headers["content-type"]
    problem(await anon.get("/api/nothing-here"), 404)  # no route: nothing to protect


async def test_unknown_api_route_is_a_404_problem(client_for: ClientFor) -> None:
    viewer = await client_for("viewer")
    problem(await viewer.get("/api/nothing-here"), 404)
    response = await viewer.put("/api/r/courses/1", json={})
    assert response.status_code == 405
    assert response.headers["content-type"].startswith("application/problem+json")
