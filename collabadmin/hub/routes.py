"""The websocket endpoint ``/api/ws``.

Authentication happened in the middleware (cookie, bearer token or
``?token=``). Without a credential the socket is accepted and then closed
with 4401, because a refusal before ``accept`` reaches browsers as a bare
HTTP 403 with no close code. A cookie-authenticated socket must come from
this origin, scheme included (browsers send cookies on cross-site websocket
requests too): a page on ``http://`` may not open the ``wss://`` socket of the
same host, nor the reverse.

A socket lives no longer than the credential that opened it: when the
credential ends (logout, revoked token, expired or idle session, password
changed, user deactivated) the hub ends the client and the socket is closed
with 4401 ("credentials ended"); no frame is sent after that point.

Every bad frame gets an ``error`` frame and the socket stays open; frames
over 1 MiB are refused by the server with close code 1009.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from dataclasses import dataclass
from typing import Any, Union, cast
from urllib.parse import urlsplit

import msgspec
from litestar import WebSocket, websocket
from litestar.exceptions import WebSocketDisconnect

from collabadmin.auth.credentials import Credential
from collabadmin.context import Injected
from collabadmin.db.engine import Actor
from collabadmin.hub.clients import CLOSE_NOTICE, Client
from collabadmin.hub.frames import (
    CLIENT_MESSAGES,
    PingMessage,
    PresenceMessage,
    SubscribeMessage,
    UnsubscribeMessage,
)
from collabadmin.hub.hub import Hub, SubscribeError
from collabadmin.hub.list_presence import ListPresence
from collabadmin.hub.presence import Presence
from collabadmin.hub.wire import wire_of
from collabadmin.settings import Settings

__all__ = ["ws_endpoint"]

log = logging.getLogger("collabadmin.hub.ws")

ClientMessage = SubscribeMessage | UnsubscribeMessage | PresenceMessage | PingMessage

CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN_ORIGIN = 4403


# The page's scheme that goes with each socket scheme.
_PAGE_SCHEME = {"ws": "http", "wss": "https"}


def _same_origin(socket: WebSocket[Any, Any, Any], served_over_tls: bool) -> bool:
    """The browser page that opens the socket is on this host, with the matching scheme.

    The socket's scheme is the ASGI scope's (``wss`` when uvicorn terminates
    TLS or a trusted proxy says ``X-Forwarded-Proto: https``); a server
    configured with secure cookies is served over TLS, whatever hop ends it.
    """
    origin = socket.headers.get("origin")
    if not origin:
        return True  # not a browser
    parts = urlsplit(origin)
    scheme = "https" if served_over_tls else _PAGE_SCHEME.get(socket.scope.get("scheme", "ws"))
    return parts.scheme == scheme and parts.netloc == socket.headers.get("host", "")


async def _pump(client: Client, socket: WebSocket[Any, Any, Any]) -> None:
    """Write the client's queue to the socket, in order (see hub/clients.py)."""
    wire = client.wire
    while True:
        frame = await client.queue.get()
        if frame == CLOSE_NOTICE:
            await socket.close(code=CLOSE_UNAUTHENTICATED, reason=client.ended or "ended")
            return
        if wire is None:
            await socket.send_text(frame)
            continue
        if not wire.ready():
            # Until this frame is written, the fan-out queues behind it.
            client.sending = True
            try:
                await wire.writable()
            finally:
                client.sending = False
            if not wire.open:
                return  # the connection is gone: the receive loop ends the client
        wire.write(frame)


@dataclass(frozen=True, slots=True)
class _Live:
    """What a socket's frames are handled with."""

    hub: Hub
    presence: Presence
    list_presence: ListPresence


@websocket("/api/ws")
async def ws_endpoint(
    socket: WebSocket[Any, Any, Any],
    *,
    settings: Injected[Settings],
    hub: Injected[Hub],
    presence: Injected[Presence],
    list_presence: Injected[ListPresence],
) -> None:
    await socket.accept()
    actor = socket.scope.get("user")
    credential = socket.scope.get("auth")
    if not isinstance(actor, Actor):
        await socket.close(code=CLOSE_UNAUTHENTICATED, reason="authentication required")
        return
    if (
        isinstance(credential, Credential)
        and credential.kind == "session"
        and not _same_origin(socket, settings.secure_cookies)
    ):
        await socket.close(code=CLOSE_FORBIDDEN_ORIGIN, reason="cross-origin socket refused")
        return
    live = _Live(hub, presence, list_presence)
    client = hub.connect(
        actor,
        credential if isinstance(credential, Credential) else None,
        batch=socket.query_params.get("batch") in ("1", "true"),
    )
    client.wire = wire_of(socket.send)
    sender = asyncio.create_task(_pump(client, socket))
    try:
        with contextlib.suppress(WebSocketDisconnect):
            while True:
                message = await socket.receive()
                if message["type"] == "websocket.disconnect":
                    break
                text = message.get("text")
                if not isinstance(text, str):
                    _error(client, "bad_frame", "Send JSON text frames.")
                    continue
                await _handle(client, text, live)
    finally:
        sender.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await sender
        hub.disconnect(client)
        await presence.leave_all(client)


def _error(client: Client, code: str, message: str) -> None:
    client.send({"type": "error", "code": code, "message": message})


# What a client sends, decoded into its typed message at the edge (hub/frames.py).
_CLIENT_MESSAGE: Any = Union[CLIENT_MESSAGES]  # noqa: UP007  # a runtime tuple of types
_DECODER = msgspec.json.Decoder(_CLIENT_MESSAGE)
_KNOWN_TYPES = frozenset(message.__struct_config__.tag for message in CLIENT_MESSAGES)
# A member at fault, and the error code its clients already know it by.
_MEMBER_CODES = {"topic": "bad_topic", "since": "bad_cursor"}
_MEMBER = re.compile(r"`\$\.(\w+)`|required field `(\w+)`")


def _decode(text: str) -> ClientMessage | tuple[str, str]:
    """The client's typed message, or the error frame's code and message."""
    try:
        return cast(ClientMessage, _DECODER.decode(text))
    except msgspec.ValidationError as exc:
        return _refusal(text, str(exc))
    except msgspec.DecodeError:
        return "bad_frame", "The frame is not valid JSON."


def _refusal(text: str, reason: str) -> tuple[str, str]:
    """Why a well-formed JSON frame is not a client message, with the code for it."""
    raw = msgspec.json.decode(text)
    if not isinstance(raw, dict):
        return "bad_frame", "A frame is a JSON object with a type."
    if raw.get("type") not in _KNOWN_TYPES:
        return "unknown_type", "type must be subscribe, unsubscribe, presence or ping."
    found = _MEMBER.search(reason)
    member = next((m for m in found.groups() if m), None) if found else None
    return _MEMBER_CODES.get(member or "", "bad_frame"), reason


async def _handle(client: Client, text: str, live: _Live) -> None:
    message = _decode(text)
    if isinstance(message, tuple):
        _error(client, *message)
        return
    hub = live.hub
    if isinstance(message, PingMessage):
        client.send({"type": "pong"})
    elif isinstance(message, SubscribeMessage):
        since = None if message.since is msgspec.UNSET else message.since
        try:
            await hub.subscribe(client, message.topic, since)
        except SubscribeError as exc:
            _error(client, exc.code, str(exc))
            return
        except Exception:
            # Whatever went wrong, the client gets an answer and the socket stays.
            log.exception("subscribe failed")
            _error(client, "internal", "The subscription failed; try again.")
            return
        topic = client.topics.get(message.topic)
        if topic is not None and topic.kind == "resource" and topic.resource is not None:
            live.list_presence.snapshot(client, topic.resource)
    elif isinstance(message, UnsubscribeMessage):
        if not hub.unsubscribe(client, message.topic):
            _error(client, "not_subscribed", "Not subscribed to that topic.")
            return
        await live.presence.announce(client, message.topic, "left", None)
        client.send({"type": "unsubscribed", "topic": message.topic})
    else:
        await _presence(client, message, live)


async def _presence(client: Client, message: PresenceMessage, live: _Live) -> None:
    subscribed = client.topics.get(message.topic)
    if subscribed is None or subscribed.kind != "record":
        _error(client, "not_subscribed", "Subscribe to a record topic before announcing presence.")
        return
    field = message.field
    if field is not None:
        assert subscribed.resource is not None  # a record topic names its resource
        resource = live.hub.registry.get(subscribed.resource)
        readable = live.hub.policy.readable_fields(client.actor, resource)
        if field not in readable:
            _error(client, "bad_frame", "field must be one of the record's fields.")
            return
    await live.presence.announce(client, subscribed.name, message.state, field)
