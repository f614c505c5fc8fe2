"""The once-per-cluster work in a process of its own (``Settings.background``).

``collabadmin serve`` runs live view and workflow evaluation (and the audit
sealer) in a background process, so that it never shares an event loop
with the sockets. Its server processes run none of it, yet a read made
after a write still sees that write's effect on derived state, and live
view subscribers still get their frames, from the background process.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from litestar import Litestar
from websockets.asyncio.client import connect

from collabadmin.context import services_of
from collabadmin.db.engine import Database
from collabadmin.demo.app import create_demo_app
from collabadmin.hub.cluster import Cluster
from collabadmin.settings import Settings
from tests.conftest import anonymous_client
from tests.helpers import ok, patch_record, running, token_for
from tests.hub.conftest import FRAME_TIMEOUT, Socket
from tests.servers import (
    ServerProcess,
    background_processes,
    free_port,
    is_running,
    log_reads,
    start_server,
    until_log_reads,
)

COURSE = 7


async def _token(database_url: str, username: str) -> str:
    db = Database(database_url, pool_size=1)
    try:
        async with db.connection() as tx:
            return await token_for(tx, username, "background-tests")
    finally:
        await db.dispose()


@pytest.fixture
async def elsewhere(
    database_url: str, demo_users: None, fresh_data: None
) -> AsyncIterator[Litestar]:
    """The demo app as ``serve`` runs it next to a background process: evaluating nothing."""
    app = create_demo_app(Settings(database_url=database_url, pool_size=4, background="elsewhere"))
    async with running(app):
        yield app


def _add_session(day: str) -> dict[str, object]:
    return {"course_id": COURSE, "starts_on": day, "ends_on": day, "enrollment_open": True}


async def test_a_server_without_background_work_still_reads_its_writes(
    elsewhere: Litestar, database_url: str
) -> None:
    token = await _token(database_url, "editor")
    cluster = services_of(elsewhere)[Cluster]
    async with anonymous_client(elsewhere, {"Authorization": f"Bearer {token}"}) as editor:
        # A live view: the row read right after the write counts the new session.
        before = ok(await editor.get(f"/api/r/course_overview/{COURSE}"))
        ok(await editor.post("/api/r/sessions", json=_add_session("2031-04-01")), 201)
        after = ok(await editor.get(f"/api/r/course_overview/{COURSE}"))
        assert after["sessions"] == before["sessions"] + 1
        # A workflow run: its step is done when read right after the write.
        course = ok(
            await editor.post("/api/r/courses", json={"title": "Placed", "short_name": "bg-1"}),
            201,
        )
        run = ok(
            await editor.post(
                "/api/workflows/launch-course/runs",
                json={"subject": {"resource": "courses", "pk": course["id"]}},
            ),
            201,
        )
        ok(await patch_record(editor, "courses", course["id"], {"description": "Set."}, base=1))
        read = await editor.get(f"/api/workflow-runs/{run['id']}")
        assert {s["key"] for s in ok(read)["steps"] if s["done"]} == {"description"}
        assert "x-derived-stale" not in read.headers
    # The reads caught the derived state up themselves: no loop of this
    # process followed the log for views, workflows or the audit chain.
    reads = cluster.log_reads()
    assert (reads["views"], reads["workflows"], reads["sealer"]) == (0, 0, 0)


def _background_of(server: ServerProcess) -> int:
    [pid] = background_processes(server.process.pid)
    return pid


def _niceness(pid: int) -> int:
    with open(f"/proc/{pid}/stat") as stat:
        return int(stat.read().rsplit(")", 1)[1].split()[16])


@pytest.fixture
def server(database_url: str, demo_users: None, fresh_data: None) -> Iterator[ServerProcess]:
    started = start_server(database_url)
    yield started
    started.stop()


async def test_serve_evaluates_live_views_in_its_background_process(
    server: ServerProcess, database_url: str
) -> None:
    background = _background_of(server)
    assert is_running(background)
    # Below its server's CPU priority (frames first), as soon as it has started.
    waiter = threading.Event()
    for _ in range(300):  # up to 30 s
        if _niceness(background) - _niceness(server.process.pid) == 5:
            break
        waiter.wait(0.1)  # sleep-ok: polling another process's start, bounded
    assert _niceness(background) - _niceness(server.process.pid) == 5
    token = await _token(database_url, "viewer")
    headers = {"Authorization": f"Bearer {await _token(database_url, 'editor')}"}
    async with httpx.AsyncClient(base_url=server.http, headers=headers, timeout=10) as editor:
        # The data was just reset: a read fills the view's copy (read-your-writes).
        before = ok(await editor.get(f"/api/r/course_overview/{COURSE}"))
        async with connect(
            server.ws, additional_headers={"Authorization": f"Bearer {token}"}
        ) as conn:
            ws = Socket(conn)
            await ws.subscribe(f"r/course_overview/{COURSE}")
            ok(await editor.post("/api/r/sessions", json=_add_session("2031-04-02")), 201)
            frame = await ws.expect("change", FRAME_TIMEOUT)
            change = frame["change"]
            assert (change["resource"], change["pk"], change["source"]) == (
                "course_overview",
                str(COURSE),
                "view",
            )
            assert change["diff"]["sessions"] == {
                "old": before["sessions"],
                "new": before["sessions"] + 1,
            }
            await ws.quiet()


def test_the_background_process_ends_with_its_server_even_when_killed(
    server: ServerProcess,
) -> None:
    background = _background_of(server)
    server.kill()  # SIGKILL: the server cannot stop it
    waiter = threading.Event()
    for _ in range(300):  # up to 30 s
        if not is_running(background):
            break
        waiter.wait(0.1)  # sleep-ok: polling another process's end, bounded
    else:
        os.kill(background, signal.SIGKILL)
        pytest.fail("the background process outlived its killed server")


def test_a_background_process_that_ends_is_started_again(server: ServerProcess) -> None:
    first = _background_of(server)
    os.kill(first, signal.SIGKILL)
    waiter = threading.Event()
    again: list[int] = []
    for _ in range(300):  # up to 30 s (the first restart comes after 1 s)
        again = [c for c in background_processes(server.process.pid) if c != first]
        if again:
            break
        waiter.wait(0.1)  # sleep-ok: polling for the new process, bounded
    assert len(again) == 1
    assert server.process.poll() is None  # the server itself went on serving


async def test_the_background_process_serves_its_own_metrics(
    database_url: str, demo_users: None, fresh_data: None
) -> None:
    port = free_port()
    server = start_server(
        database_url,
        COLLABADMIN_BACKGROUND_METRICS=f"127.0.0.1:{port}",
        COLLABADMIN_METRICS_TOKEN="metrics-secret",
    )
    try:
        at = f"http://127.0.0.1:{port}/metrics"
        token = {"Authorization": "Bearer metrics-secret"}
        headers = {"Authorization": f"Bearer {await _token(database_url, 'editor')}"}
        async with (
            httpx.AsyncClient(timeout=5) as scraper,
            httpx.AsyncClient(base_url=server.http, headers=headers, timeout=10) as editor,
        ):
            assert until_log_reads(at, "metrics-secret", "sealer") > 0  # it listens
            # The same token as a server's /metrics, or nothing.
            for sent in ({}, {"Authorization": "Bearer wrong"}):
                refused = await scraper.get(at, headers=sent)
                assert refused.status_code == 401
                assert refused.headers["content-type"].startswith("application/problem+json")
            ok(await editor.post("/api/r/sessions", json=_add_session("2031-04-03")), 201)
            # The view's evaluator reads the log in the background process, not in the server.
            assert until_log_reads(at, "metrics-secret", "views") > 0
            served = (await editor.get("/metrics", headers=token)).text
            assert log_reads(served, "views") == 0
    finally:
        server.stop()
