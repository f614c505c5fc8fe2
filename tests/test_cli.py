"""The ``collabadmin`` command, run as a user would run it."""

from __future__ import annotations

import os
import queue
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from litestar import Litestar

from collabadmin.db.embedded import EmbeddedPostgres
from tests.conftest import anonymous_client
from tests.servers import (
    background_processes,
    free_port,
    is_running,
    log_reads,
    until_log_reads,
)

CLI = [sys.executable, "-m", "collabadmin.cli"]


class Running:
    """A CLI process whose output lines can be awaited with a timeout."""

    def __init__(self, args: list[str], env: dict[str, str]) -> None:
        self.process = subprocess.Popen(  # noqa: S603
            args,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def wait_for(self, text: str, timeout: float = 120) -> str:
        while True:
            line = self.lines.get(timeout=timeout)
            if line is None:
                raise AssertionError(f"exited before {text!r}: {self.seen}")
            self.seen.append(line)
            if text in line:
                return line

    def stop(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(timeout=60)
        while (line := self.lines.get(timeout=10)) is not None:
            self.seen.append(line)
        assert self.process.stdout is not None
        self.process.stdout.close()
        return code


@pytest.fixture
def data_dir() -> Iterator[Path]:
    folder = Path(tempfile.mkdtemp(prefix="collabadmin-cli-"))
    yield folder
    EmbeddedPostgres(folder).stop()
    shutil.rmtree(folder, ignore_errors=True)


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(extra)
    return env


def test_demo_on_embedded_postgres_starts_seeds_serves_and_stops(data_dir: Path) -> None:
    port, metrics_port = free_port(), free_port()
    env = _env(
        COLLABADMIN_DATA_DIR=str(data_dir),
        COLLABADMIN_DEMO_PASSWORD="demo-pass",
        COLLABADMIN_METRICS_TOKEN="metrics-secret",
        COLLABADMIN_BACKGROUND_METRICS=str(metrics_port),
    )
    demo = Running([*CLI, "demo", "--port", str(port)], env)
    try:
        demo.wait_for("demo data loaded")
        demo.wait_for(f"collabadmin demo at http://localhost:{port}/")
        base = f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=base, timeout=10) as client:
            health = _wait_healthy(client)
            assert health == {"status": "ok", "database": "ok", "hub": "listening"}
            login = client.post(
                "/api/auth/login", json={"username": "admin", "password": "demo-pass"}
            )
            assert login.status_code == 200
            client.headers["X-CSRF-Token"] = login.json()["csrf_token"]
            # Live views are evaluated beside the server, in a process of its own.
            [background] = background_processes(demo.process.pid)
            day = "2031-05-04"
            session = {"course_id": 7, "starts_on": day, "ends_on": day, "enrollment_open": True}
            assert client.post("/api/r/sessions", json=session).status_code == 201
            at = f"http://127.0.0.1:{metrics_port}/metrics"
            assert until_log_reads(at, "metrics-secret", "views") > 0
            served = client.get("/metrics", headers={"Authorization": "Bearer metrics-secret"})
            assert log_reads(served.text, "views") == 0
            page = client.get("/api/r/courses", params={"limit": "1"}).json()
            assert page["total"] is None or page["total"] == 5000
            counts = {
                name: client.get(f"/api/r/{name}", params={"limit": "1"}).json()["total"]
                for name in ("universities", "categories", "instructors")
            }
            assert counts == {"universities": 50, "categories": 20, "instructors": 300}
    finally:
        code = demo.stop()
    assert code == 0, demo.seen
    assert "embedded PostgreSQL stopped" in demo.seen
    assert not is_running(background)
    assert not EmbeddedPostgres(data_dir).is_running()

    # The next start reuses the data folder and does not seed twice.
    again = Running([*CLI, "demo", "--port", str(port)], env)
    try:
        again.wait_for("collabadmin demo at")
        assert not any("demo data loaded" in line for line in again.seen)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
            _wait_healthy(client)
    finally:
        assert again.stop() == 0


@pytest.mark.skipif(os.geteuid() != 0, reason="as root the server runs as a user of its own")
def test_a_data_folder_the_server_user_cannot_reach_is_one_line(tmp_path: Path) -> None:
    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    tmp_path.chmod(0o755)
    result = subprocess.run(  # noqa: S603
        [*CLI, "demo", "--port", str(free_port())],
        env=_env(COLLABADMIN_DATA_DIR=str(private / "data")),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 1
    assert result.stderr.startswith("collabadmin: user collabadmin-pg may not run ")
    assert f"every folder above {private / 'data'} must be open to it" in result.stderr
    assert "Traceback" not in result.stderr


def _wait_healthy(client: httpx.Client) -> object:
    # The "demo at" line is printed before uvicorn binds; poll with a bounded budget.
    last: Exception | None = None
    for _ in range(200):
        try:
            response = client.get("/health", timeout=0.5)
            if response.status_code == 200:
                return response.json()
        except httpx.TransportError as exc:
            last = exc
        threading.Event().wait(0.05)
    raise AssertionError(f"server never became healthy: {last}")


def test_unreachable_database_is_one_line_not_a_traceback() -> None:
    result = subprocess.run(  # noqa: S603
        [*CLI, "db", "upgrade"],
        env=_env(DATABASE_URL="postgresql://nobody@127.0.0.1:1/none"),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("collabadmin: cannot reach PostgreSQL")


def test_bad_app_spec_is_one_line() -> None:
    result = subprocess.run(  # noqa: S603
        [*CLI, "serve", "--app", "no.such.module:factory", "--port", str(free_port())],
        env=_env(DATABASE_URL="postgresql://nobody@127.0.0.1:1/none"),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert result.stderr.strip().startswith("collabadmin: cannot import no.such.module")


def test_serve_refuses_to_be_the_background_only_process() -> None:
    app = "collabadmin.demo.app:create_demo_app"
    result = subprocess.run(  # noqa: S603
        [*CLI, "serve", "--app", app, "--port", str(free_port())],
        env=_env(
            DATABASE_URL="postgresql://nobody@127.0.0.1:1/none", COLLABADMIN_BACKGROUND="only"
        ),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "collabadmin: COLLABADMIN_BACKGROUND=only is for collabadmin background, not serve"
    )


def test_background_needs_a_database_and_refuses_broker_mode() -> None:
    app = "collabadmin.demo.app:create_demo_app"
    without = subprocess.run(  # noqa: S603
        [*CLI, "background", "--app", app],
        env=_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert without.returncode == 1
    assert "set DATABASE_URL" in without.stderr
    broker = subprocess.run(  # noqa: S603
        [*CLI, "background", "--app", app],
        env=_env(
            DATABASE_URL="postgresql://nobody@127.0.0.1:1/none", COLLABADMIN_BROKER="nats://x"
        ),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert broker.returncode == 1
    assert "broker mode" in broker.stderr


@pytest.mark.parametrize(
    ("metrics", "token", "said"),
    [
        ("127.0.0.1:9464", None, "set COLLABADMIN_METRICS_TOKEN"),
        ("127.0.0.1:http", "t", "give HOST:PORT or PORT"),
        ("70000", "t", "give HOST:PORT or PORT"),
    ],
)
def test_background_metrics_need_a_token_and_an_address(
    metrics: str, token: str | None, said: str
) -> None:
    refused = _background(["--metrics", metrics], COLLABADMIN_METRICS_TOKEN=token)
    assert refused.returncode == 1
    assert said in refused.stderr


def _background(args: list[str], **env: str | None) -> subprocess.CompletedProcess[str]:
    """``collabadmin background`` of the demo app on a database that is never reached."""
    given = {name: value for name, value in env.items() if value is not None}
    return subprocess.run(  # noqa: S603
        [*CLI, "background", "--app", "collabadmin.demo.app:create_demo_app", *args],
        env=_env(DATABASE_URL="postgresql://nobody@127.0.0.1:1/none", **given),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    ("args", "variable", "said"),
    [
        (["--nice", "20"], None, "collabadmin: --nice: give a niceness from 0 to 19, not '20'"),
        ([], "-3", "COLLABADMIN_BACKGROUND_NICE: give a niceness from 0 to 19, not '-3'"),
        ([], "low", "COLLABADMIN_BACKGROUND_NICE: give a niceness from 0 to 19, not 'low'"),
    ],
)
def test_the_background_niceness_is_checked(
    args: list[str], variable: str | None, said: str
) -> None:
    refused = _background(args, COLLABADMIN_BACKGROUND_NICE=variable)
    assert refused.returncode == 1
    assert said in refused.stderr
    assert "Traceback" not in refused.stderr


def test_serve_refuses_a_bad_background_niceness_before_serving(database_url: str) -> None:
    port = free_port()
    refused = subprocess.run(  # noqa: S603
        [*CLI, "serve", "--app", "collabadmin.demo.app:create_demo_app", "--port", str(port)],
        env=_env(DATABASE_URL=database_url, COLLABADMIN_BACKGROUND_NICE="99"),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert refused.returncode == 1
    assert refused.stderr == (
        "collabadmin: COLLABADMIN_BACKGROUND_NICE: give a niceness from 0 to 19, not '99'\n"
    )
    assert "serving" not in refused.stdout


async def test_user_create_reads_the_password_from_stdin(database_url: str, app: Litestar) -> None:
    result = subprocess.run(  # noqa: S603, ASYNC221
        [*CLI, "user", "create", "ops-jane", "--role", "editor", "--password-stdin"],
        env=_env(DATABASE_URL=database_url),
        input="s3cret-pass\n",
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    async with anonymous_client(app) as client:
        response = await client.post(
            "/api/auth/login", json={"username": "ops-jane", "password": "s3cret-pass"}
        )
        assert response.status_code == 200
        assert response.json()["user"]["roles"] == ["editor"]
