"""NATS servers for broker-mode tests: the machine's, or one of the test's own.

Tests that only need a NATS server use the one answering on 127.0.0.1:4222
(CI starts one when none answers), each with a stream of its own that is
deleted afterwards. Tests that restart or kill NATS start a ``nats-server``
of their own on a free port, with its own storage folder, so that nobody
else's server is touched.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import threading
from pathlib import Path

from tests.servers import free_port

SHARED = "nats://127.0.0.1:4222"


def answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def nats_server_binary() -> str | None:
    return shutil.which("nats-server") or (
        "/usr/sbin/nats-server" if Path("/usr/sbin/nats-server").exists() else None
    )


class NatsServer:
    """A ``nats-server -js`` of the test's own; its storage survives restarts."""

    def __init__(self, store: Path) -> None:
        binary = nats_server_binary()
        assert binary is not None, "nats-server is not installed (apt-get install nats-server)"
        self.binary = binary
        self.store = store
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.process = subprocess.Popen(  # noqa: S603
            [self.binary, "-a", "127.0.0.1", "-p", str(self.port), "-js", "-sd", str(self.store)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        waiter = threading.Event()
        for _ in range(200):  # up to 20 s
            if answers("127.0.0.1", self.port):
                return
            if self.process.poll() is not None:
                break
            waiter.wait(0.1)
        raise RuntimeError("nats-server did not start")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)
        self.process = None

    def kill(self) -> None:
        """SIGKILL, as a crash."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=30)
        self.process = None
