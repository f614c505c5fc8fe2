"""Writing a socket's frames straight to its transport.

A server's websocket message is not masked, so the bytes of one text
message are the same for every socket: they are built once per frame
(:class:`Frame`, next to its text) and written as they are to each socket's
transport, without a task switch, an ASGI event or a per-socket encoding.

That is possible when the socket is served by uvicorn's sans-I/O websocket
protocol (``ws="auto"`` with ``websockets`` installed): :func:`wire_of`
finds that protocol behind the ASGI ``send`` callable. Under any other
server there is no :class:`Wire` and frames go through ``send`` as before.

Flow control is the protocol's: while its transport has more than its high
water mark waiting (a slow reader), :meth:`Wire.ready` is false and the
client queues frames instead, up to its capacity, then asks for a resync
(hub/clients.py).

While a batch is fanned out the wires are *corked* (:func:`corked`): each
socket's messages of that batch are kept, still one websocket message per
frame, and written to its transport in one piece when the fan-out ends. A
socket following a whole collection gets every change of a batch in one
write (one system call) instead of one per change.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["Frame", "Wire", "corked", "message_bytes", "wire_of"]

# The protocols whose transport and flow control this module knows.
_PROTOCOL_CLASSES = (
    "uvicorn.protocols.websockets.websockets_sansio_impl.WebSocketsSansIOProtocol",
)


def message_bytes(payload: bytes) -> bytes:
    """One unfragmented, unmasked websocket text message carrying ``payload``."""
    size = len(payload)
    if size < 126:
        return bytes((0x81, size)) + payload
    if size < 1 << 16:
        return bytes((0x81, 126)) + size.to_bytes(2, "big") + payload
    return bytes((0x81, 127)) + size.to_bytes(8, "big") + payload


class Frame(str):
    """A serialised frame's text, with its UTF-8 bytes and its websocket message."""

    __slots__ = ("data", "wire")
    data: bytes
    wire: bytes

    @classmethod
    def of(cls, data: bytes) -> Frame:
        frame = cls(data.decode())
        frame.data = data
        frame.wire = message_bytes(data)
        return frame


def payload(text: str) -> bytes:
    data = getattr(text, "data", None)
    return data if isinstance(data, bytes) else text.encode()


def wire_bytes(text: str) -> bytes:
    wire = getattr(text, "wire", None)
    return wire if isinstance(wire, bytes) else message_bytes(text.encode())


# The wires written to since corked() began (None: not corked), each once.
_corked: list[Wire] | None = None


@contextmanager
def corked() -> Iterator[None]:
    """Writes within are kept per wire and written out, in order, when it ends.

    For a stretch of code that does not await (one batch's fan-out): no
    other writer can come between a wire's kept messages and their write.
    """
    global _corked  # noqa: PLW0603 - one fan-out at a time: it never awaits
    if _corked is not None:  # already corked: the outer stretch writes
        yield
        return
    _corked = []
    try:
        yield
    finally:
        wires, _corked = _corked, None
        for wire in wires:
            wire.flush()


class Wire:
    """A socket's transport, written to directly (see the module's doc)."""

    __slots__ = ("_kept", "_protocol", "_writable")

    def __init__(self, protocol: Any) -> None:
        self._protocol = protocol
        self._writable = protocol.writable
        self._kept: list[bytes] | None = None

    @property
    def open(self) -> bool:
        """The handshake is done and no close was sent nor the connection lost."""
        protocol = self._protocol
        return bool(
            protocol.handshake_complete
            and not protocol.close_sent
            and not protocol.disconnected
            and protocol.initial_response is None
            and not protocol.transport.is_closing()
        )

    def ready(self) -> bool:
        """Open, and the transport takes more without exceeding its high water mark."""
        return self._writable.is_set() and self.open

    async def writable(self) -> None:
        await self._writable.wait()

    def write(self, text: str) -> None:
        data = wire_bytes(text)
        if _corked is None:
            self._protocol.transport.write(data)
        elif self._kept is None:
            self._kept = [data]
            _corked.append(self)
        else:
            self._kept.append(data)

    def flush(self) -> None:
        """Write what was kept while corked (one write for all of it)."""
        kept, self._kept = self._kept, None
        if kept:
            self._protocol.transport.write(kept[0] if len(kept) == 1 else b"".join(kept))

    def buffered(self) -> int:
        """Bytes written but not yet taken by the kernel."""
        size: int = self._protocol.transport.get_write_buffer_size()
        return size


def _inner(candidate: Any) -> list[Any]:
    found = []
    owner = getattr(candidate, "__self__", None)
    if owner is not None:
        found.append(owner)
    wrapped = getattr(candidate, "__wrapped__", None)
    if wrapped is not None:
        found.append(wrapped)
    for cell in getattr(candidate, "__closure__", None) or ():
        try:
            found.append(cell.cell_contents)
        except ValueError:  # an empty cell
            continue
    return [item for item in found if callable(item) or hasattr(item, "transport")]


def wire_of(send: Any, depth: int = 8) -> Wire | None:
    """The :class:`Wire` behind an ASGI ``send`` (unwrapping middleware), or None."""
    seen: set[int] = set()
    layer = [send]
    for _ in range(depth):
        following = []
        for candidate in layer:
            if id(candidate) in seen:
                continue
            seen.add(id(candidate))
            kind = type(candidate)
            if f"{kind.__module__}.{kind.__qualname__}" in _PROTOCOL_CLASSES:
                return Wire(candidate)
            following += _inner(candidate)
        if not following:
            return None
        layer = following
    return None
