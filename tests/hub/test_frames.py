"""Real websocket frames, captured from live sockets, are the documented ``Frame`` union.

One scenario makes the server send every kind of frame (subscribed, change,
presence of a record and of a list's row, draft, workflow progress, error,
unsubscribed, pong, resync); each frame received is then decoded strictly as
:data:`collabadmin.openapi.Frame` (the msgspec tagged union) and validated
against the ``Frame`` component of the OpenAPI document.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import jsonschema_rs
import msgspec
import pytest

from collabadmin.changelog.position import Position
from collabadmin.openapi import ClientMessage, Frame
from tests.conftest import ClientFor
from tests.helpers import get_record, ok, patch_record
from tests.hub.conftest import Socket, SocketFor

ALL_KINDS = {
    "subscribed",
    "change",
    "presence",
    "draft",
    "workflow",
    "error",
    "unsubscribed",
    "pong",
    "resync",
}


async def collect(ws: Socket, *wanted: tuple[str, str]) -> None:
    """Read frames until one of each (type, topic) has come, in whatever order."""
    missing = set(wanted)
    while missing:
        frame = await ws.next()
        missing.discard((frame["type"], frame.get("topic", "")))


async def test_every_frame_the_server_sends_is_a_documented_frame(
    socket_for: SocketFor, client_for: ClientFor, anon: httpx.AsyncClient
) -> None:
    editor = await client_for("editor")
    ws = await socket_for("editor")
    course = ok(
        await editor.post("/api/r/courses", json={"title": "Framed", "short_name": "framed-1"}),
        201,
    )
    pk = course["id"]
    run = ok(
        await editor.post(
            "/api/workflows/launch-course/runs",
            json={"subject": {"resource": "courses", "pk": pk}},
        ),
        201,
    )
    cursor = await ws.subscribe("r/courses")
    await ws.subscribe(f"r/courses/{pk}")
    await ws.subscribe("drafts")
    await ws.subscribe(f"workflow-runs/{run['id']}")

    await ws.send({"type": "presence", "topic": f"r/courses/{pk}", "state": "editing"})
    # The record's presence, and that of its row on the list's topic.
    await collect(ws, ("presence", f"r/courses/{pk}"), ("presence", "r/courses"))

    version = (await get_record(editor, "courses", pk))["_version"]
    ok(await patch_record(editor, "courses", pk, {"description": "Now"}, if_match=version))
    await collect(
        ws,
        ("change", "r/courses"),
        ("change", f"r/courses/{pk}"),
        ("workflow", f"workflow-runs/{run['id']}"),
    )
    ok(await editor.post(f"/api/r/courses/{pk}/drafts", json={"data": {"title": "Drafted"}}), 201)
    await collect(ws, ("draft", "drafts"), ("draft", f"r/courses/{pk}"))

    await ws.send({"type": "subscribe"})
    await ws.expect("error")
    await ws.send({"type": "unsubscribe", "topic": "drafts"})
    await ws.expect("unsubscribed", topic="drafts")
    old = Position.decode(cursor)
    stale = Position(old.lower, old.upper, 0, old.at - 3 * 24 * 3600).encode()
    again = await socket_for("editor")
    await again.send({"type": "subscribe", "topic": "r/courses", "since": stale})
    await again.expect("subscribed")
    await again.expect("resync", topic="r/courses")
    await again.quiet()
    await ws.quiet()

    frames: list[dict[str, Any]] = [*ws.seen, *again.seen]
    assert {f["type"] for f in frames} == ALL_KINDS
    document: dict[str, Any] = ok(await anon.get("/schema/openapi.json"))
    validator = jsonschema_rs.validator_for(
        {"$ref": "#/components/schemas/Frame", "components": document["components"]},
        validate_formats=True,
    )
    for frame in frames:
        decoded = msgspec.json.decode(json.dumps(frame), type=Frame)
        assert msgspec.to_builtins(decoded) == frame
        errors = [e.message for e in validator.iter_errors(frame)]
        assert not errors, (frame, errors)


# What the web app sends (frontend/src/live.ts), and what the server refuses.
CLIENT_MESSAGES: list[dict[str, Any]] = [
    {"type": "subscribe", "topic": "r/courses"},
    {"type": "subscribe", "topic": "r/courses", "since": "abc"},
    {"type": "unsubscribe", "topic": "r/courses"},
    {"type": "presence", "topic": "r/courses/1", "state": "viewing", "field": None},
    {"type": "presence", "topic": "r/courses/1", "state": "editing", "field": "title"},
    {"type": "presence", "topic": "r/courses/1", "state": "left"},
    {"type": "ping"},
]
BAD_MESSAGES: list[dict[str, Any]] = [
    {"type": "subscribe"},
    {"type": "subscribe", "topic": 7},
    {"type": "presence", "topic": "r/courses/1", "state": "away"},
    {"type": "hello"},
    {"topic": "r/courses"},
]


async def _client_message_validator(anon: httpx.AsyncClient) -> jsonschema_rs.Validator:
    document: dict[str, Any] = ok(await anon.get("/schema/openapi.json"))
    return jsonschema_rs.validator_for(
        {"$ref": "#/components/schemas/ClientMessage", "components": document["components"]}
    )


@pytest.mark.parametrize("message", CLIENT_MESSAGES)
async def test_the_messages_a_client_sends_are_documented(
    anon: httpx.AsyncClient, message: dict[str, Any]
) -> None:
    validator = await _client_message_validator(anon)
    assert not [e.message for e in validator.iter_errors(message)]
    decoded = msgspec.json.decode(json.dumps(message), type=ClientMessage)
    # A presence without a field means none (null).
    expected = {"field": None, **message} if message["type"] == "presence" else message
    assert msgspec.to_builtins(decoded) == expected


@pytest.mark.parametrize("message", BAD_MESSAGES)
async def test_the_document_refuses_what_the_server_refuses(
    anon: httpx.AsyncClient, message: dict[str, Any]
) -> None:
    validator = await _client_message_validator(anon)
    assert not validator.is_valid(message)
    with pytest.raises(msgspec.ValidationError):
        msgspec.json.decode(json.dumps(message), type=ClientMessage)
