"""Fixtures of broker-mode tests: a NATS server, a stream of the test's own."""

from __future__ import annotations

import secrets
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import nats
import nats.js.errors
import pytest

from tests.broker.nats import SHARED, NatsServer, answers, nats_server_binary
from tests.hub.conftest import socket_for

__all__ = ["socket_for"]


@pytest.fixture(scope="session")
def nats_url() -> Iterator[str]:
    """The machine's NATS (CI starts one), or one of this run's own if none answers."""
    if answers("127.0.0.1", 4222):
        yield SHARED
        return
    if nats_server_binary() is None:
        pytest.skip("no NATS server answers on 4222 and nats-server is not installed")
    with tempfile.TemporaryDirectory(prefix="collabadmin-nats-") as folder:
        server = NatsServer(Path(folder))
        server.start()
        try:
            yield server.url
        finally:
            server.stop()


async def delete_stream(url: str, stream: str) -> None:
    nc = await nats.connect(url)
    try:
        await nc.jetstream().delete_stream(stream)
    except nats.js.errors.NotFoundError:
        pass
    finally:
        await nc.close()


@pytest.fixture
async def stream(nats_url: str) -> AsyncIterator[str]:
    """A stream name of this test's own, deleted afterwards."""
    name = "TEST_" + secrets.token_hex(6)
    yield name
    await delete_stream(nats_url, name)


@pytest.fixture
def own_nats() -> Iterator[NatsServer]:
    """A nats-server of the test's own, which the test may restart or kill."""
    if nats_server_binary() is None:
        pytest.skip("nats-server is not installed")
    with tempfile.TemporaryDirectory(prefix="collabadmin-nats-") as folder:
        server = NatsServer(Path(folder))
        server.start()
        try:
            yield server
        finally:
            server.stop()
