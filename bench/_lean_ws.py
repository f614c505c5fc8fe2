"""A lean websocket client for the load generator: each message handed over as text, at once.

The load generator reads as many frames as the server sends, on the same
machine. Through the websockets library's client each message costs a
reader task's wake-up, a queue and the library's own bookkeeping, so at
fan-out rates the load generator runs out of CPU before the server does,
and the figures measure the client. This client parses the server's frames
straight from its protocol's ``data_received`` and calls a function per
text message, with the time the bytes arrived (every message of one read
arrived together).

It speaks just what the benchmarks need: the opening handshake (with extra
headers, no extensions), unfragmented text and binary messages from the
server, masked text messages to it, pings answered, and a close.
"""

from __future__ import annotations

import asyncio
import base64
import os
import time
from collections import deque
from collections.abc import Callable
from typing import cast
from urllib.parse import urlsplit

__all__ = ["LeanSocket", "connect", "use_uvloop"]

TextReceiver = Callable[[str, float], None]

_TEXT, _BINARY, _CLOSE, _PING, _PONG = 0x1, 0x2, 0x8, 0x9, 0xA


def _masked(opcode: int, payload: bytes) -> bytes:
    """A client's frame: final, masked (RFC 6455, 5.3)."""
    size = len(payload)
    if size < 126:
        head = bytes((0x80 | opcode, 0x80 | size))
    elif size < 1 << 16:
        head = bytes((0x80 | opcode, 0x80 | 126)) + size.to_bytes(2, "big")
    else:
        head = bytes((0x80 | opcode, 0x80 | 127)) + size.to_bytes(8, "big")
    key = os.urandom(4)
    mask = (key * (size // 4 + 1))[:size]
    body = (int.from_bytes(payload, "big") ^ int.from_bytes(mask, "big")).to_bytes(size, "big")
    return head + key + body


class LeanSocket(asyncio.Protocol):
    """One client connection; set :attr:`on_text` to take its messages as they come."""

    def __init__(self, request: bytes) -> None:
        self._request = request
        self._buffer = bytearray()
        self._open = False
        self._opened: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._kept: deque[str] = deque()  # messages before on_text is set, for recv()
        self._waiting: asyncio.Future[None] | None = None
        self.transport: asyncio.Transport | None = None
        self.on_text: TextReceiver | None = None
        self.closed = False

    # asyncio.Protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # A stream transport: asyncio's own is an asyncio.Transport, uvloop's is not.
        self.transport = cast("asyncio.Transport", transport)
        self.transport.write(self._request)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if not self._opened.done():
            self._opened.set_exception(exc or ConnectionError("closed during the handshake"))
        self._wake()

    def data_received(self, data: bytes) -> None:
        at = time.time()
        buffer = self._buffer
        buffer += data
        if not self._open and not self._handshake(buffer):
            return
        start, size = 0, len(buffer)
        while size - start >= 2:
            first, length = buffer[start], buffer[start + 1] & 0x7F
            head = 2
            if length == 126:
                if size - start < 4:
                    break
                length, head = int.from_bytes(buffer[start + 2 : start + 4], "big"), 4
            elif length == 127:
                if size - start < 10:
                    break
                length, head = int.from_bytes(buffer[start + 2 : start + 10], "big"), 10
            end = start + head + length
            if end > size:
                break
            if not first & 0x80:
                raise ValueError("a fragmented message: this client takes whole ones only")
            opcode = first & 0x0F
            payload = bytes(buffer[start + head : end])
            start = end
            if opcode in (_TEXT, _BINARY):
                self._deliver(payload.decode(), at)
            elif opcode == _PING:
                self._write(_masked(_PONG, payload))
            elif opcode == _CLOSE:
                self._close()
                break
        del buffer[:start]

    # Use

    async def opened(self) -> LeanSocket:
        await self._opened
        return self

    async def send(self, text: str) -> None:
        self._write(_masked(_TEXT, text.encode()))

    async def recv(self) -> str:
        """The next message not taken by :attr:`on_text`."""
        while not self._kept:
            if self.closed:
                raise ConnectionError("the connection is closed")
            self._waiting = asyncio.get_running_loop().create_future()
            await self._waiting
        return self._kept.popleft()

    async def close(self) -> None:
        self._close()

    # Inside

    def _close(self) -> None:
        if self.transport is not None and not self.closed:
            self._write(_masked(_CLOSE, (1000).to_bytes(2, "big")))
            self.transport.close()
        self.closed = True

    def _handshake(self, buffer: bytearray) -> bool:
        end = buffer.find(b"\r\n\r\n")
        if end < 0:
            return False
        status = bytes(buffer[: buffer.find(b"\r\n")])
        if b" 101 " not in status:
            assert self.transport is not None
            self.transport.close()
            self._opened.set_exception(ConnectionError(f"refused: {status.decode()}"))
            return False
        del buffer[: end + 4]
        self._open = True
        self._opened.set_result(None)
        return True

    def _deliver(self, text: str, at: float) -> None:
        if self.on_text is not None:
            self.on_text(text, at)
            return
        self._kept.append(text)
        self._wake()

    def _wake(self) -> None:
        if self._waiting is not None and not self._waiting.done():
            self._waiting.set_result(None)

    def _write(self, data: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(data)


async def connect(url: str, headers: dict[str, str] | None = None) -> LeanSocket:
    """Open ``url`` (``ws://host:port/path?query``) with ``headers`` on the request."""
    parts = urlsplit(url)
    if parts.scheme != "ws" or parts.hostname is None:
        raise ValueError(f"a ws:// URL with a host, not {url!r}")
    port = parts.port or 80
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    key = base64.b64encode(os.urandom(16)).decode()
    lines = [
        f"GET {target} HTTP/1.1",
        f"Host: {parts.hostname}:{port}",
        "Upgrade: websocket",
        "Connection: Upgrade",
        f"Sec-WebSocket-Key: {key}",
        "Sec-WebSocket-Version: 13",
        *(f"{name}: {value}" for name, value in (headers or {}).items()),
    ]
    request = ("\r\n".join(lines) + "\r\n\r\n").encode()
    loop = asyncio.get_running_loop()
    _, protocol = await loop.create_connection(lambda: LeanSocket(request), parts.hostname, port)
    return await protocol.opened()


def use_uvloop() -> None:
    """Run the load generator's event loops on uvloop (as the server's are), where installed.

    With asyncio's own loop each socket's read costs the load generator
    several times as much CPU.
    """
    try:
        import uvloop
    except ImportError:
        return
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
