"""What the commands share: one-line failures, the database they work on, serving.

Failures a user can fix (no PostgreSQL, a bad URL, a taken port) are raised
as :class:`CliError` and end with one line on stderr and exit code 1, never
a traceback. Heavy modules are imported inside the functions that need them,
so ``collabadmin --help`` stays quick.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

from collabadmin.ops.logs import LOG_FORMATS
from collabadmin.settings import Settings

__all__ = [
    "CliError",
    "check_port",
    "check_server_role",
    "database",
    "load_config",
    "log_format_option",
    "migrate",
    "serve",
    "serve_workers",
    "sqlalchemy_url",
]


class CliError(Exception):
    """A failure explained in one line."""


@contextmanager
def database(settings: Settings) -> Iterator[Settings]:
    """Settings with a database URL: the configured one, or an embedded server's."""
    if settings.database_url:
        yield settings
        return
    from collabadmin.db.embedded import EmbeddedPostgres, EmbeddedPostgresError

    server = EmbeddedPostgres(settings.data_dir)
    try:
        url = server.start()
    except EmbeddedPostgresError as exc:
        raise CliError(str(exc)) from None
    print(f"embedded PostgreSQL running in {settings.data_dir}", flush=True)
    try:
        yield replace(settings, database_url=url)
    finally:
        server.stop()
        print("embedded PostgreSQL stopped", flush=True)


def migrate(url: str, target: str, app_role: str | None = None) -> None:
    from sqlalchemy.exc import OperationalError, ProgrammingError

    from collabadmin.db.migrate import upgrade
    from collabadmin.db.roles import DatabaseRoleError

    try:
        upgrade(url, target, app_role=app_role)
    except OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else "connection failed"
        raise CliError(f"cannot reach PostgreSQL: {reason}") from None
    except ProgrammingError as exc:  # e.g. the owner may not create the server role
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise CliError(f"cannot migrate: {reason}") from None
    except DatabaseRoleError as exc:
        raise CliError(str(exc)) from None


def check_port(host: str, port: int) -> None:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            raise CliError(f"cannot listen on {host}:{port}: {exc.strerror}") from None


def serve(app: Any, host: str, port: int, log_format: str = "text") -> None:
    """Run uvicorn until SIGINT/SIGTERM, then return so callers can clean up.

    uvicorn re-raises a captured signal after shutting down, which would kill
    the process before the embedded PostgreSQL is stopped; this server keeps
    the signal to itself.
    """
    import uvicorn

    class Server(uvicorn.Server):
        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            wanted = (signal.SIGINT, signal.SIGTERM)
            previous = {sig: signal.signal(sig, self.handle_exit) for sig in wanted}
            try:
                yield
            finally:
                for sig, handler in previous.items():
                    signal.signal(sig, handler)

    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level="warning",
        lifespan="on",
        ws_max_size=1 << 20,
        # Change frames are small and sent to many sockets; compressing each
        # one per socket cost 30% of the server's CPU under fan-out load.
        ws_per_message_deflate=False,
        # uvicorn would believe X-Forwarded-For from any peer on 127.0.0.1;
        # the app believes it only from COLLABADMIN_TRUSTED_PROXIES.
        proxy_headers=False,
        # JSON logs: uvicorn's records go to the root handler like everyone's.
        **uvicorn_logging(log_format),
    )
    Server(config).run()


def uvicorn_logging(log_format: str) -> dict[str, Any]:
    return {"log_config": None} if log_format == "json" else {}


def sqlalchemy_url(url: str) -> str:
    from collabadmin.db.engine import normalise_url

    return normalise_url(url)


def load_config(path: str | None) -> Any:
    """The config file, checked: ``--config``, else COLLABADMIN_CONFIG, else
    ``collabadmin.toml`` here if present.

    The chosen path is put in COLLABADMIN_CONFIG so that the app factory and
    worker processes read the same file.
    """
    from collabadmin.config import ConfigError
    from collabadmin.config import load_config as read

    chosen = path or os.environ.get("COLLABADMIN_CONFIG") or None
    try:
        config = read(chosen)
    except ConfigError as exc:
        raise CliError(str(exc)) from None
    if chosen is None and os.path.isfile("collabadmin.toml"):
        chosen = "collabadmin.toml"
    os.environ["COLLABADMIN_CONFIG"] = os.path.abspath(chosen) if chosen else ""
    return config


def check_server_role(url: str) -> None:
    """Fail in one line, before serving, if the server could not work as its role."""
    import psycopg

    from collabadmin.db.engine import libpq_url
    from collabadmin.db.roles import DatabaseRoleError, server_role

    try:
        asyncio.run(server_role(libpq_url(url)))
    except DatabaseRoleError as exc:
        raise CliError(str(exc)) from None
    except psycopg.OperationalError as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc) else "connection failed"
        raise CliError(f"cannot reach PostgreSQL: {reason}") from None


def serve_workers(
    spec: str, database_url: str, host: str, port: int, workers: int, *, log_format: str
) -> None:
    """Several worker processes on one socket, each a full server with its own pool."""
    import uvicorn
    from uvicorn.supervisors import Multiprocess

    os.environ["COLLABADMIN_APP"] = spec
    os.environ["DATABASE_URL"] = database_url
    os.environ["COLLABADMIN_LOG_FORMAT"] = log_format  # workers configure their own logging
    config = uvicorn.Config(
        "collabadmin.asgi:app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="warning",
        lifespan="on",
        ws_max_size=1 << 20,
        ws_per_message_deflate=False,
        proxy_headers=False,  # see serve
        **uvicorn_logging(log_format),
    )
    Multiprocess(config, sockets=[config.bind_socket()]).run()


def log_format_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--log-format",
        choices=LOG_FORMATS,
        default=os.environ.get("COLLABADMIN_LOG_FORMAT") or "text",
        help="text (default) or json: one JSON object a line, with request ids and access lines",
    )
