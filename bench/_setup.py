"""Shared set-up for benchmarks: a fresh database, a running server, a token."""

from __future__ import annotations

import contextlib
import os
import platform
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass

import psycopg
from sqlalchemy.engine import make_url

from collabadmin.db.engine import libpq_url, normalise_url
from collabadmin.db.migrate import EVERYTHING, upgrade
from collabadmin.demo.seed import seed_demo

SERVER_URL = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1/postgres")


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return f"{os.cpu_count()} cores, {cpu}, Python {platform.python_version()}"


def fresh_database(name: str) -> str:
    """Create (or recreate) database ``name`` on the server, migrate and seed it."""
    admin = libpq_url(normalise_url(SERVER_URL))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
        version = conn.execute("SHOW server_version").fetchone()
    url = (
        make_url(normalise_url(SERVER_URL)).set(database=name).render_as_string(hide_password=False)
    )
    upgrade(url, EVERYTHING)
    seed_demo(libpq_url(url))
    print(f"# database {name} on PostgreSQL {version[0] if version else '?'}", flush=True)
    return url


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    port: int
    token: str
    process: subprocess.Popen[bytes]


DEMO_APP = "collabadmin.demo.app:create_demo_app"


def server_command(asgi_server: str, port: int, *, workers: int = 1) -> list[str]:
    """The command serving the demo app with ``uvicorn`` (``collabadmin serve``) or granian."""
    if asgi_server == "granian":
        # granian imports the factory named by COLLABADMIN_APP (see collabadmin.asgi).
        return [sys.executable, "-m", "granian", "--interface", "asgi", "--host", "127.0.0.1",
                "--port", str(port), "--workers", str(workers), "--log-level", "warning",
                "--factory", "collabadmin.asgi:app_from_env"]  # fmt: skip
    return [sys.executable, "-m", "collabadmin.cli", "serve", "--app", DEMO_APP,
            "--port", str(port), "--workers", str(workers)]  # fmt: skip


@contextlib.contextmanager
def running_server(
    url: str,
    *,
    workers: int = 1,
    extra_env: dict[str, str] | None = None,
    asgi_server: str = "uvicorn",
) -> Iterator[Server]:
    """The demo app served by ``collabadmin serve`` (or granian), with an admin API token."""
    env = {**os.environ, "DATABASE_URL": url, "COLLABADMIN_APP": DEMO_APP, **(extra_env or {})}
    subprocess.run(
        [sys.executable, "-m", "collabadmin.cli", "user", "create", "bench", "--role", "admin",
         "--password-stdin"],
        input=b"bench-password\n", env=env, check=True, capture_output=True,
    )  # fmt: skip
    port = free_port()
    command = server_command(asgi_server, port, workers=workers)
    cpus = os.environ.get("COLLABADMIN_BENCH_SERVER_CPUS")
    if cpus:  # e.g. "0": keep the server off the load generator's core (taskset -c 1 ...)
        command = ["taskset", "-c", cpus, *command]
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL)
    try:
        wait_healthy([port], seconds=30)
        token = admin_token(port)
        yield Server(port, token, process)
    finally:
        process.terminate()
        process.wait(timeout=30)


def wait_healthy(ports: list[int], *, seconds: float) -> None:
    """Wait until every server on ``ports`` answers ``/health`` with 200."""
    import httpx

    deadline = time.monotonic() + seconds
    for port in ports:
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"the server on port {port} did not start")
            time.sleep(0.1)


def admin_token(port: int) -> str:
    """An API token of the ``bench`` admin, made through the server on ``port``."""
    import httpx

    with httpx.Client(base_url=f"http://127.0.0.1:{port}") as client:
        login = client.post(
            "/api/auth/login", json={"username": "bench", "password": "bench-password"}
        ).json()
        token: str = client.post(
            "/api/auth/tokens",
            json={"name": "bench"},
            headers={"X-CSRF-Token": login["csrf_token"]},
        ).json()["token"]
    return token


def process_tree_cpu(pid: int) -> float:
    """CPU seconds (user + system) used so far by ``pid`` and its live descendants (Linux).

    Read from ``/proc``: the server may fork workers, and a live child's time
    is not in its parent's ``cutime`` until it exits.
    """
    tick = os.sysconf("SC_CLK_TCK")
    parents: dict[int, int] = {}
    times: dict[int, float] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                # The command name (field 2) may hold spaces: split after its ")".
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue  # exited meanwhile
        parents[int(entry)] = int(fields[1])
        times[int(entry)] = (int(fields[11]) + int(fields[12])) / tick
    total, stack = 0.0, [pid]
    while stack:
        current = stack.pop()
        total += times.get(current, 0.0)
        stack.extend(child for child, parent in parents.items() if parent == current)
    return total


def process_cpu(pids: list[int]) -> dict[int, float]:
    """CPU seconds (user + system) used so far by each live process of ``pids`` (Linux)."""
    tick = os.sysconf("SC_CLK_TCK")
    times: dict[int, float] = {}
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue  # exited
        times[pid] = (int(fields[11]) + int(fields[12])) / tick
    return times


def backends_of(url: str) -> list[int]:
    """The process ids of PostgreSQL's backends connected to ``url``'s database now."""
    database = make_url(normalise_url(url)).database
    with psycopg.connect(libpq_url(url), autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            (database,),
        ).fetchall()
    return [int(r[0]) for r in rows]


def cpu_between(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU seconds the processes alive at both samples used between them."""
    return sum(after[pid] - spent for pid, spent in before.items() if pid in after)


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[index]
