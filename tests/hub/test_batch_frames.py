"""``/api/ws?batch=1``: the frames one batch of the log makes for a socket come as one message."""

from __future__ import annotations

import json

import msgspec
import psycopg

from collabadmin.db.engine import SYSTEM
from collabadmin.hub.clients import Client
from collabadmin.openapi import Frame
from tests.conftest import Served
from tests.hub.conftest import SocketFor


def _one_transaction(conninfo: str, *statements: str) -> None:
    with psycopg.connect(conninfo, autocommit=True) as conn, conn.transaction():
        for statement in statements:
            conn.execute(statement)  # type: ignore[arg-type]


async def test_a_batch_of_several_changes_is_one_message_when_asked_for(
    served: Served, socket_for: SocketFor, conninfo: str
) -> None:
    batched = await socket_for("viewer", url=f"{served.ws}?batch=1")
    plain = await socket_for("viewer")
    for ws in (batched, plain):
        await ws.subscribe("r/courses")
    _one_transaction(
        conninfo,
        "UPDATE courses SET title = 'one of two' WHERE id = 21",
        "UPDATE courses SET title = 'two of two' WHERE id = 22",
    )
    message = await batched.expect("batch")
    frames = message["frames"]
    assert [f["type"] for f in frames] == ["change", "change"]
    assert [f["change"]["diff"]["title"]["new"] for f in frames] == ["one of two", "two of two"]
    # The same frames, in the same order, as a socket that did not ask gets one by one.
    assert frames == await plain.changes(2)
    # Every frame in it is a documented frame, and so is the batch itself.
    for frame in [message, *frames]:
        msgspec.json.decode(json.dumps(frame), type=Frame, strict=True)
    # A batch that makes one frame for the socket comes as that frame.
    _one_transaction(conninfo, "UPDATE courses SET title = 'alone' WHERE id = 23")
    [alone] = await batched.changes(1)
    assert alone["change"]["diff"]["title"]["new"] == "alone"
    assert await plain.changes(1) == [alone]
    for ws in (batched, plain):
        await ws.quiet()


def test_the_queue_of_a_batching_client_counts_frames_not_messages() -> None:
    client = Client(SYSTEM, capacity=3, batching=True)
    client.topics["r/courses"] = None  # type: ignore[assignment]
    client.gather()
    assert client.offer('{"n":1}', "r/courses")
    assert client.offer('{"n":2}', "r/courses")
    client.release_gathered()
    assert (client.queue.qsize(), client.queue.frames) == (1, 2)
    client.gather()
    assert client.offer('{"n":3}', "r/courses")
    # A fourth frame waiting would be over the capacity: emptied, told to resync.
    assert not client.offer('{"n":4}', "r/courses")
    client.release_gathered()
    assert [json.loads(client.queue.get_nowait()) for _ in range(client.queue.qsize())] == [
        {"type": "resync", "topic": "r/courses"}
    ]
    assert client.queue.frames == 0
