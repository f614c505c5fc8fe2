"""``collabadmin background``, and the background process ``serve`` starts next to its servers.

The work an instance runs once per cluster (live view and workflow
evaluation, sealing the audit chain) does not have to share an event loop
with the sockets. ``collabadmin serve`` (without a broker, and unless
``COLLABADMIN_BACKGROUND`` says otherwise) runs it in a process of its own,
and its server processes run none of it
(``Settings.background``: ``elsewhere``). A change's frames then go out as
soon as the hub has read it, whatever the evaluators are doing; when the
machine is busy the evaluators fall behind instead, and each of their next
steps covers everything committed meanwhile. Reads never see that lag: a
read of a live view or of workflow runs catches them up itself first
(read-your-writes, from positions kept in the database).

``collabadmin background --app module:factory`` runs that work alone, for a
deployment that runs it as a service of its own (with its server processes
started with ``COLLABADMIN_BACKGROUND=elsewhere``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

from collabadmin.cli.common import CliError, log_format_option
from collabadmin.settings import Settings

__all__ = ["BackgroundProcess", "add_parsers", "background_beside", "beside", "run_background"]

log = logging.getLogger("collabadmin.background")

RESTART_BACKOFF = 30.0  # seconds at most between restarts of a process that keeps failing


METRICS_VARIABLE = "COLLABADMIN_BACKGROUND_METRICS"
NICE_VARIABLE = "COLLABADMIN_BACKGROUND_NICE"


# How much lower than its servers' the CPU priority of the background process
# that serve starts beside them is: frames first. Its work falls behind
# instead when the cores are short, and catches up in one step (each
# evaluator keeps its position in the database).
NICE_BESIDE = 5


def nice_level(given: int | None, variable: str | None, default: int) -> int:
    """The niceness asked for (``--nice``, else ``COLLABADMIN_BACKGROUND_NICE``), 0 to 19."""
    text = str(given) if given is not None else variable
    if not text:
        return default
    try:
        level = int(text)
    except ValueError:
        level = -1
    if not 0 <= level <= 19:
        source = "--nice" if given is not None else NICE_VARIABLE
        raise CliError(f"{source}: give a niceness from 0 to 19, not {text!r}")
    return level


def metrics_address(text: str) -> tuple[str, int]:
    """``HOST:PORT`` or ``PORT`` (on 127.0.0.1) for the background process's ``/metrics``."""
    host, _, port = text.rpartition(":")
    try:
        number = int(port)
    except ValueError:
        number = -1
    if not 0 < number < 65536:
        raise CliError(f"{METRICS_VARIABLE}: give HOST:PORT or PORT, not {text!r}")
    return (host.strip("[]") or "127.0.0.1", number)


def metrics_app(app: Any, token: str | None) -> Any:
    """An app serving only ``app``'s ``GET /metrics``, behind the same token as a server's."""
    from litestar import Litestar

    from collabadmin.context import services_of
    from collabadmin.errors import problem_response
    from collabadmin.ops.http import metrics_handler
    from collabadmin.ops.metrics import Metrics

    metrics = services_of(app).get(Metrics)
    return Litestar(
        [metrics_handler(metrics, token)],
        exception_handlers={Exception: problem_response},
        openapi_config=None,
    )


async def run_background(
    app: Any,
    *,
    with_parent: bool = False,
    metrics_at: tuple[str, int] | None = None,
    metrics_token: str | None = None,
) -> None:
    """Run ``app``'s lifespan (its background work) until SIGTERM or SIGINT.

    ``with_parent``: also until standard input closes, which it does when the
    process that started this one ends, however it ended (even SIGKILL).
    ``metrics_at``: also serve the process's ``/metrics`` there (its
    evaluators' log reads, its connection pool), as a server does its own.
    """
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    if with_parent:

        def watch_parent() -> None:
            # The file descriptor, not sys.stdin: a daemon thread must hold no
            # lock of the interpreter's when it exits.
            with contextlib.suppress(OSError):
                while os.read(0, 4096):
                    pass
            loop.call_soon_threadsafe(stop.set)

        threading.Thread(target=watch_parent, name="collabadmin-parent", daemon=True).start()
    async with app.lifespan():
        if metrics_at is None:
            await stop.wait()
            return
        import uvicorn

        class MetricsServer(uvicorn.Server):
            @contextlib.contextmanager
            def capture_signals(self) -> Iterator[None]:
                yield  # the signals are this process's (stop), not the server's

        host, port = metrics_at
        config = uvicorn.Config(
            metrics_app(app, metrics_token), host=host, port=port, log_level="warning",
            lifespan="off", proxy_headers=False,
        )  # fmt: skip
        server = MetricsServer(config)
        serving = asyncio.create_task(server.serve())
        stopping = asyncio.create_task(stop.wait())
        await asyncio.wait({serving, stopping}, return_when=asyncio.FIRST_COMPLETED)
        server.should_exit = True
        stopping.cancel()
        await serving


def cmd_background(args: argparse.Namespace) -> None:
    from collabadmin.asgi import AppSpecError, load_factory
    from collabadmin.config import ConfigError

    spec = args.app or os.environ.get("COLLABADMIN_APP")
    if not spec:
        raise CliError("name the application with --app module:factory (or COLLABADMIN_APP)")
    settings = Settings.from_env()
    if not settings.database_url:
        raise CliError("set DATABASE_URL to the database the servers serve")
    if settings.broker:
        raise CliError("in broker mode the leader runs the background work: run no process for it")
    nice = nice_level(args.nice, os.environ.get(NICE_VARIABLE), 0)
    metrics = args.metrics or os.environ.get(METRICS_VARIABLE)
    metrics_at = metrics_address(metrics) if metrics else None
    if metrics_at and not settings.metrics_token:
        raise CliError("set COLLABADMIN_METRICS_TOKEN to serve metrics, as a server's /metrics")
    if nice:
        os.nice(nice)  # before building the app, which takes a while
    try:
        factory = load_factory(spec)
        # Its few statements at a time need few connections.
        app = factory(replace(settings, background="only", pool_size=min(4, settings.pool_size)))
    except (AppSpecError, ConfigError, ValueError) as exc:
        raise CliError(str(exc)) from None
    # On uvloop where installed, as uvicorn runs the servers: the same work
    # costs this process less CPU, which it shares with them.
    with asyncio.Runner(loop_factory=uvloop_factory()) as runner:
        runner.run(
            run_background(
                app, with_parent=args.with_parent, metrics_at=metrics_at,
                metrics_token=settings.metrics_token,
            )
        )  # fmt: skip


def uvloop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


class BackgroundProcess:
    """The background process of ``serve``: started with it, restarted if it ends, then stopped.

    It reads nothing from its standard input, which is a pipe from this
    process: when this process ends, however it ends, the pipe closes and
    the background process stops too (no orphan evaluates on).
    """

    def __init__(self, spec: str, database_url: str, *, log_format: str = "text") -> None:
        env = {**os.environ, "COLLABADMIN_APP": spec, "DATABASE_URL": database_url}
        env["COLLABADMIN_BACKGROUND"] = "only"
        nice = nice_level(None, os.environ.get(NICE_VARIABLE), NICE_BESIDE)
        self.command = [sys.executable, "-m", "collabadmin.cli", "background", "--with-parent",
                        "--nice", str(nice), "--log-format", log_format]  # fmt: skip
        self.env = env
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0
        self._stopping = threading.Event()
        self._lock = threading.Lock()  # a restart and stop() never cross
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._spawn()
        self._thread = threading.Thread(
            target=self._supervise, name="collabadmin-background", daemon=True
        )
        self._thread.start()

    def _spawn(self) -> None:
        self.process = subprocess.Popen(self.command, env=self.env, stdin=subprocess.PIPE)  # noqa: S603
        self.starts += 1

    def _supervise(self) -> None:
        backoff = 1.0
        while True:
            process = self.process
            assert process is not None
            started = time.monotonic()
            code = process.wait()
            if self._stopping.is_set():
                return
            if time.monotonic() - started > RESTART_BACKOFF:
                backoff = 1.0  # it ran a good while: not failing at start
            # Ctrl-C reaches this process group whole: the background process
            # may end just before its server stops it. Say nothing then.
            if self._stopping.wait(backoff):
                return
            log.warning("the background process ended (exit code %s); starting it again", code)
            backoff = min(backoff * 2, RESTART_BACKOFF)
            with self._lock:
                if self._stopping.is_set():
                    return
                self._spawn()

    def stop(self) -> None:
        with self._lock:
            self._stopping.set()
            process = self.process
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if process is not None and process.stdin is not None:
            process.stdin.close()
        if self._thread is not None:
            self._thread.join(timeout=5)


def beside(settings: Settings) -> Settings:
    """The settings of servers whose background work will run beside them, in a process.

    Unchanged where ``COLLABADMIN_BACKGROUND`` places that work already (here,
    or in a service of its own) or the broker's leader runs it.
    """
    if os.environ.get("COLLABADMIN_BACKGROUND") or settings.broker:
        return settings
    nice_level(None, os.environ.get(NICE_VARIABLE), NICE_BESIDE)  # refused before anything starts
    return replace(settings, background="elsewhere")


@contextlib.contextmanager
def background_beside(spec: str, settings: Settings, *, log_format: str) -> Iterator[None]:
    """Run the background process beside servers of ``settings`` (from :func:`beside`).

    ``spec`` is the app's factory, which that process builds too. It is
    stopped on leaving, before the database (an embedded one) is.
    """
    if settings.background != "elsewhere" or os.environ.get("COLLABADMIN_BACKGROUND"):
        yield  # placed by the environment, or by the broker
        return
    assert settings.database_url is not None
    os.environ["COLLABADMIN_BACKGROUND"] = "elsewhere"  # for the workers too
    process = BackgroundProcess(spec, settings.database_url, log_format=log_format)
    process.start()
    try:
        yield
    finally:
        process.stop()
        del os.environ["COLLABADMIN_BACKGROUND"]


def add_parsers(sub: Any) -> None:
    command = sub.add_parser(
        "background",
        help="run an application's background work (live views, workflows, the audit sealer)"
        " without serving it",
    )
    command.add_argument("--app", help="module:factory, as for serve (default: COLLABADMIN_APP)")
    command.add_argument(
        "--nice",
        type=int,
        default=None,
        help="lower this process's CPU priority by this much, so that servers on the same"
        f" cores come first (default: {NICE_VARIABLE}, or 0); mind: a process kept off the"
        " CPU while in a transaction holds back every reader of the log",
    )
    command.add_argument(
        "--metrics",
        metavar="HOST:PORT",
        help="also serve this process's /metrics there, behind COLLABADMIN_METRICS_TOKEN"
        f" (default: {METRICS_VARIABLE}; none)",
    )
    command.add_argument(
        "--with-parent",
        action="store_true",
        help="also stop when standard input closes (serve starts it so)",
    )
    log_format_option(command)
    command.set_defaults(func=cmd_background)
