"""Frames written straight to a uvicorn socket's transport (hub/wire.py), in order."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
from collections.abc import AsyncIterator
from typing import Any

import pytest
import uvicorn
from litestar import Litestar, WebSocket, websocket
from websockets.asyncio.client import connect

from collabadmin.db.engine import SYSTEM
from collabadmin.hub.clients import Client, encode_frame, new_delivery
from collabadmin.hub.wire import corked, message_bytes, wire_of

# The server side's client of each socket the tests open, in order.
offered: asyncio.Queue[Client] = asyncio.Queue()


@websocket("/ws")
async def handler(socket: WebSocket[Any, Any, Any]) -> None:
    await socket.accept()
    client = Client(SYSTEM, capacity=5)
    client.wire = wire_of(socket.send)
    client.topics["t"] = None  # type: ignore[assignment]  # only the name matters here
    await offered.put(client)
    with contextlib.suppress(Exception):
        while (await socket.receive())["type"] != "websocket.disconnect":
            pass


@pytest.fixture
async def url() -> AsyncIterator[str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = uvicorn.Config(
        Litestar([handler]), host="127.0.0.1", port=port, log_level="warning", lifespan="off"
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)  # sleep-ok: polling uvicorn's start flag, bounded by the task
    yield f"ws://127.0.0.1:{port}/ws"
    server.should_exit = True
    await asyncio.wait_for(task, 30)


def test_message_bytes_use_each_length_encoding() -> None:
    for size, header in ((125, b"\x81\x7d"), (126, b"\x81\x7e\x00\x7e"), (1 << 16, b"\x81\x7f")):
        message = message_bytes(b"x" * size)
        assert message.startswith(header)
        assert len(message) - size == {125: 2, 126: 4, 1 << 16: 10}[size]


async def test_frames_of_every_size_go_straight_to_the_socket_in_order(url: str) -> None:
    async with connect(url, max_size=None) as ws:
        client = await asyncio.wait_for(offered.get(), 10)
        assert client.wire is not None
        assert client.wire.ready()
        sizes = [10, 200, 70_000, 3]
        for n, size in enumerate(sizes):
            assert client.offer(encode_frame({"n": n, "pad": "é" * size}), "t")
            # Written to the transport at once: nothing was queued for the sender.
            assert client.queue.empty()
        got = [json.loads(await asyncio.wait_for(ws.recv(), 10)) for _ in sizes]
        assert [(f["n"], len(f["pad"])) for f in got] == list(enumerate(sizes))


async def test_a_reader_that_stops_reading_is_queued_for_then_resynced(url: str) -> None:
    async with connect(url, max_size=None, max_queue=1) as ws:
        client = await asyncio.wait_for(offered.get(), 10)
        assert client.wire is not None
        # The client reads nothing: the transport fills past its high water
        # mark, then frames wait in the queue, then the queue overflows.
        # (One frame per delivery, as a trickle of single-change batches.)
        big = encode_frame({"pad": "x" * 60_000})
        offered_count = 0
        while client.overflows == 0 and offered_count < 10_000:
            new_delivery()
            client.offer(big, "t")
            offered_count += 1
        assert client.overflows == 1
        assert not client.wire.ready()  # the transport was past its high water mark
        # The topic is dropped (the fan-out offers it no more frames) and the
        # queue holds only the resync notice.
        assert client.topics == {}
        assert [json.loads(client.queue.get_nowait())] == [{"type": "resync", "topic": "t"}]
        await ws.close()


async def test_one_delivery_writes_no_more_than_the_capacity_to_a_socket(url: str) -> None:
    async with connect(url, max_size=None) as ws:
        client = await asyncio.wait_for(offered.get(), 10)
        new_delivery()
        accepted = [client.offer(encode_frame({"n": n}), "t") for n in range(6)]
        # The capacity is 5: the sixth frame of the same batch asks for a resync,
        # as if the five had been queued, and the topic is dropped (the fan-out
        # offers it no more); the socket reads the five in order, then resync.
        assert accepted == [True] * 5 + [False]
        assert client.overflows == 1
        assert client.topics == {}
        got = [json.loads(await asyncio.wait_for(ws.recv(), 10)) for _ in range(5)]
        assert [f["n"] for f in got] == list(range(5))
        assert [json.loads(client.queue.get_nowait())] == [{"type": "resync", "topic": "t"}]


async def test_a_batchs_frames_to_one_socket_go_out_in_one_write_each_a_message(
    url: str,
) -> None:
    async with connect(url, max_size=None) as ws:
        client = await asyncio.wait_for(offered.get(), 10)
        assert client.wire is not None
        transport = client.wire._protocol.transport
        writes: list[bytes] = []
        write = transport.write

        def counted(data: bytes) -> None:
            writes.append(bytes(data))
            write(data)

        transport.write = counted
        new_delivery()
        with corked():
            for n in range(4):
                assert client.offer(encode_frame({"n": n}), "t")
            # Kept until the fan-out ends; nothing was queued for the sender either.
            assert writes == []
            assert client.queue.empty()
        assert len(writes) == 1
        # Still one websocket message per frame, in order.
        got = [json.loads(await asyncio.wait_for(ws.recv(), 10)) for _ in range(4)]
        assert [f["n"] for f in got] == [0, 1, 2, 3]
        # Outside a fan-out, each frame is written at once.
        assert client.offer(encode_frame({"n": 4}), "t")
        assert len(writes) == 2
        assert json.loads(await asyncio.wait_for(ws.recv(), 10)) == {"n": 4}
