"""Running ``collabadmin serve`` as a separate process, as a deployment would."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Sequence
from dataclasses import dataclass

import httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class ServerProcess:
    process: subprocess.Popen[str]
    port: int

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws(self) -> str:
        return f"ws://127.0.0.1:{self.port}/api/ws"

    def kill(self) -> None:
        """SIGKILL: no shutdown, no goodbyes, as a crashed instance."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)
        self._close()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)
        self._close()

    def _close(self) -> None:
        if self.process.stderr:
            self.process.stderr.close()


DEMO_APP = "collabadmin.demo.app:create_demo_app"


def start_server(
    database_url: str, app: str | None = DEMO_APP, *, schemas: Sequence[str] = (), **env: str
) -> ServerProcess:
    """Start an app (the demo's by default) with ``collabadmin serve``; wait for /health.

    ``app=None`` serves the database itself (no ``--app``), over ``schemas``
    (``--schema``, repeated; none: the command's default).
    """
    port = free_port()
    serve = ["serve", "--port", str(port)]
    serve += ["--app", app] if app else [arg for s in schemas for arg in ("--schema", s)]
    process = subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "collabadmin.cli", *serve],
        env={**os.environ, "DATABASE_URL": database_url, **env},
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    server = ServerProcess(process, port)
    waiter = threading.Event()
    for _ in range(300):  # up to 30 s
        try:
            if httpx.get(f"{server.http}/health", timeout=1).status_code == 200:
                return server
        except httpx.TransportError:
            pass
        if process.poll() is not None:
            break
        waiter.wait(0.1)
    error = process.stderr.read() if process.stderr and process.poll() is not None else ""
    server.stop()
    raise RuntimeError(f"server did not start: {error}")


# The background process a server command starts beside itself
# (collabadmin.cli.background), seen from outside as an operator would.


def children(pid: int) -> list[int]:
    found = []
    for task in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{task}/children") as listing:
            found += [int(child) for child in listing.read().split()]
    return found


def command_of(pid: int) -> list[str]:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
            return [part.decode() for part in cmdline.read().split(b"\0") if part]
    except FileNotFoundError:  # it ended meanwhile
        return []


def is_running(pid: int) -> bool:
    """``pid`` is a process that has not ended (an exited one may linger unreaped)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def background_processes(pid: int) -> list[int]:
    """The running background processes among ``pid``'s children."""
    return [c for c in children(pid) if is_running(c) and "background" in command_of(c)]


def log_reads(metrics: str, reader: str) -> float | None:
    """``collabadmin_log_reads_total`` of ``reader`` in a ``/metrics`` answer."""
    for line in metrics.splitlines():
        if line.startswith(f'collabadmin_log_reads_total{{reader="{reader}"}} '):
            return float(line.rsplit(" ", 1)[1])
    return None


def until_log_reads(url: str, token: str, reader: str) -> float:
    """Poll the ``/metrics`` at ``url`` (up, eventually) until ``reader`` has read the log."""
    waiter = threading.Event()
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(timeout=5) as client:
        for _ in range(300):  # up to 30 s: the background process starts after its server
            try:
                answer = client.get(url, headers=headers)
            except httpx.TransportError:
                waiter.wait(0.1)  # sleep-ok: polling another process's start, bounded
                continue
            assert answer.status_code == 200, answer.text
            value = log_reads(answer.text, reader) or 0.0
            if value > 0:
                return value
            waiter.wait(0.1)  # sleep-ok: polling another process's work, bounded
    raise AssertionError(f"{url} never counted a {reader} read")
