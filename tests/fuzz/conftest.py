"""Fuzz tests use the websocket clients of the hub tests."""

from tests.hub.conftest import Socket, SocketFor, socket_for

__all__ = ["Socket", "SocketFor", "socket_for"]
