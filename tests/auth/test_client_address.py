"""X-Forwarded-For is believed only from trusted proxies, and then only its right end."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from litestar import Litestar, Request, get

from collabadmin.auth.client_address import ClientAddressMiddleware, forwarded_client
from collabadmin.demo.app import create_demo_app
from collabadmin.settings import Settings, parse_networks
from tests.conftest import PASSWORD
from tests.helpers import ok, problem, running
from tests.servers import start_server

PROXIES = parse_networks("10.9.0.0/16, 2001:db8:9::1")


@pytest.mark.parametrize(
    ("peer", "header", "client"),
    [
        ("203.0.113.9", "1.2.3.4", "203.0.113.9"),  # untrusted peer: header ignored
        ("10.9.0.1", None, "10.9.0.1"),
        ("10.9.0.1", "198.51.100.7", "198.51.100.7"),
        ("10.9.0.1", "6.6.6.6, 198.51.100.7", "198.51.100.7"),  # left part is the client's
        ("10.9.0.1", "6.6.6.6, 198.51.100.7, 10.9.3.3", "198.51.100.7"),  # proxy chain
        ("10.9.0.1", "10.9.2.2, 10.9.3.3", "10.9.2.2"),  # only proxies: the farthest
        ("10.9.0.1", "198.51.100.7:5555", "198.51.100.7"),
        ("10.9.0.1", "[2001:db8::7]:443", "2001:db8::7"),
        ("2001:db8:9::1", "2001:db8::7", "2001:db8::7"),
        ("10.9.0.1", "not-an-address", "10.9.0.1"),  # nonsense: the nearest trusted hop
        ("10.9.0.1", "198.51.100.7, evil\x00", "10.9.0.1"),
        ("10.9.0.1", "::ffff:198.51.100.7", "198.51.100.7"),
    ],
)
def test_forwarded_client(peer: str, header: str | None, client: str) -> None:
    assert forwarded_client(peer, header, PROXIES) == client


def test_trusted_proxies_setting_is_parsed_and_checked() -> None:
    settings = Settings.from_env({"COLLABADMIN_TRUSTED_PROXIES": "10.0.0.1 192.168.0.0/24,::1"})
    assert [str(n) for n in settings.trusted_proxies] == [
        "10.0.0.1/32",
        "192.168.0.0/24",
        "::1/128",
    ]
    assert Settings.from_env({}).trusted_proxies == ()
    with pytest.raises(ValueError, match=r"'proxy\.local'"):
        Settings.from_env({"COLLABADMIN_TRUSTED_PROXIES": "proxy.local"})


@get("/whoami", sync_to_thread=False)
def whoami(request: Request[Any, Any, Any]) -> dict[str, Any]:
    assert request.client is not None
    return {"client": request.client.host, "scheme": request.url.scheme}


async def _whoami(proxies: str, peer: str, headers: dict[str, str]) -> dict[str, Any]:
    app = Litestar([whoami], middleware=[ClientAddressMiddleware(parse_networks(proxies))])
    transport = httpx.ASGITransport(app=app, client=(peer, 1234))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        body: dict[str, Any] = ok(await client.get("/whoami", headers=headers))
    return body


async def test_the_middleware_sets_client_and_scheme_only_for_a_trusted_peer() -> None:
    spoof = {"X-Forwarded-For": "1.2.3.4", "X-Forwarded-Proto": "https"}
    assert await _whoami("", "127.0.0.1", spoof) == {"client": "127.0.0.1", "scheme": "http"}
    assert await _whoami("10.0.0.0/8", "127.0.0.1", spoof) == {
        "client": "127.0.0.1",
        "scheme": "http",
    }
    assert await _whoami("10.0.0.0/8", "10.0.0.5", spoof) == {
        "client": "1.2.3.4",
        "scheme": "https",
    }


@pytest.fixture(scope="module")
async def proxied_app(database_url: str, demo_users: None) -> AsyncIterator[Litestar]:
    """The demo app behind a proxy at 10.9.0.1 (trusted)."""
    app = create_demo_app(Settings(database_url=database_url, pool_size=4, trusted_proxies=PROXIES))
    async with running(app):
        yield app


def _client(app: Litestar, peer: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, client=(peer, 4321)),
        base_url="http://testserver",
    )


async def _login(
    client: httpx.AsyncClient, password: str, forwarded_for: str | None = None
) -> httpx.Response:
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    return await client.post(
        "/api/auth/login", json={"username": "editor", "password": password}, headers=headers
    )


@pytest.mark.usefixtures("fresh_data")
async def test_a_spoofed_forwarded_for_from_an_untrusted_peer_is_ignored(
    anon: httpx.AsyncClient,
) -> None:
    # The default app trusts no proxy: a new X-Forwarded-For per attempt is no new address.
    for n in range(5):
        problem(await _login(anon, "wrong", f"192.0.2.{n}"), 401)
    problem(await _login(anon, PASSWORD, "192.0.2.200"), 429)


@pytest.mark.usefixtures("fresh_data")
async def test_behind_a_trusted_proxy_each_client_is_throttled_on_its_own(
    proxied_app: Litestar,
) -> None:
    async with (
        _client(proxied_app, "10.9.0.1") as proxy,
        _client(proxied_app, "203.0.113.77") as direct,
    ):
        for _ in range(5):
            problem(await _login(proxy, "wrong", "198.51.100.66"), 401)
        # The attacker cannot leave its pair by prepending addresses of its choosing.
        problem(await _login(proxy, PASSWORD, "192.0.2.1, 198.51.100.66"), 429)
        # Another client behind the same proxy is another address.
        ok(await _login(proxy, PASSWORD, "198.51.100.67"))
        # A peer that is not a trusted proxy cannot claim to be that other client.
        for _ in range(5):
            problem(await _login(direct, "wrong", "198.51.100.67"), 401)
        problem(await _login(direct, PASSWORD, "198.51.100.67"), 429)
        ok(await _login(proxy, PASSWORD, "198.51.100.67"))


def _served_login(client: httpx.Client, password: str, forwarded_for: str) -> httpx.Response:
    return client.post(
        "/api/auth/login",
        json={"username": "reviewer", "password": password},
        headers={"X-Forwarded-For": forwarded_for},
    )


@pytest.mark.usefixtures("fresh_data")
def test_collabadmin_serve_believes_forwarded_for_only_from_configured_proxies(
    database_url: str, demo_users: None
) -> None:
    # uvicorn by itself believes X-Forwarded-For from any peer on 127.0.0.1.
    server = start_server(database_url)
    try:
        with httpx.Client(base_url=server.http, timeout=30) as client:
            for n in range(5):
                problem(_served_login(client, "wrong", f"192.0.2.{n}"), 401)
            problem(_served_login(client, PASSWORD, "192.0.2.200"), 429)
    finally:
        server.stop()
    server = start_server(database_url, COLLABADMIN_TRUSTED_PROXIES="127.0.0.1")
    try:
        with httpx.Client(base_url=server.http, timeout=30) as client:
            for _ in range(5):
                problem(_served_login(client, "wrong", "198.51.100.1"), 401)
            problem(_served_login(client, PASSWORD, "198.51.100.1"), 429)
            ok(_served_login(client, PASSWORD, "198.51.100.2"))
    finally:
        server.stop()
