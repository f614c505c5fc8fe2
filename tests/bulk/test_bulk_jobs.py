"""Bulk edits over real websockets: job progress on ``jobs/{id}``, change frames per row."""

from __future__ import annotations

import asyncio
import json
import time

import msgspec
import psycopg

from collabadmin.openapi import Frame
from tests.bulk.conftest import BATCH, SmallBatches, changes
from tests.bulk.test_bulk_demo import _wait_for_lock
from tests.conftest import ClientFor
from tests.helpers import ok, problem
from tests.hub.conftest import SocketFor


async def test_a_job_pushes_progress_per_batch_then_its_result_to_its_owner(
    small_batches: SmallBatches, socket_for: SocketFor, conninfo: str
) -> None:
    """60 courses in batches of 10; a row of the 4th batch is held by another session.

    The job stops at that row's lock, so the socket subscribes while it runs
    (no sleeping, no racing): it is told where the job is (30 of 60), then
    gets a progress frame per batch once the row is released, then the result.
    """
    editor = await small_batches.client("editor")
    with psycopg.connect(conninfo) as other:
        other.execute("SELECT 1 FROM courses WHERE id = 35 FOR UPDATE")
        response = await editor.post(
            "/api/r/courses/bulk",
            json={"op": "update", "filter": {"id": {"lte": 60}}, "patch": {"description": "Job"}},
        )
        job = ok(response, 202)["job"]
        await asyncio.to_thread(
            _wait_for_lock, conninfo, time.monotonic() + 30, other.info.backend_pid
        )
        ws = await socket_for("editor", small_batches.served.ws)
        await ws.subscribe(f"jobs/{job}")
        now = await ws.expect("job", event="progress", topic=f"jobs/{job}")
        assert (now["done"], now["total"]) == (3 * BATCH, 60)
        state = ok(await editor.get(f"/api/jobs/{job}"))
        assert (state["state"], state["done"], state["result"]) == ("running", 3 * BATCH, None)
        # Nobody else may follow it.
        intruder = await socket_for("admin", small_batches.served.ws)
        await intruder.send({"type": "subscribe", "topic": f"jobs/{job}"})
        await intruder.expect("error", code="not_found")
        other.rollback()
    for done in (40, 50, 60):
        frame = await ws.expect("job", event="progress")
        assert (frame["done"], frame["total"]) == (done, 60)
    final = await ws.expect("job", event="result", state="done")
    assert len(final["result"]["done"]) == 60
    assert final["result"]["error"] is None
    # Each is the documented frame.
    job_frames = [f for f in ws.seen if f["type"] == "job"]
    assert len(job_frames) == 5
    for seen in job_frames:
        msgspec.json.decode(json.dumps(seen), type=Frame, strict=True)
    body = ok(await editor.get(f"/api/jobs/{job}"))
    assert (body["state"], body["done"], body["finished_at"] is not None) == ("done", 60, True)
    assert body["result"] == final["result"]
    # Each row one change, source bulk, its own version.
    logged = [c for c in changes(conninfo, "courses") if c["source"] == "bulk"]
    assert sorted(int(c["pk"]) for c in logged) == list(range(1, 61))
    assert {c["version"] for c in logged} == {2}
    # A subscriber that comes after the end gets the result at once.
    late = await socket_for("editor", small_batches.served.ws)
    await late.subscribe(f"jobs/{job}")
    again = await late.expect("job", event="result")
    assert again["result"] == final["result"]
    await editor.aclose()


async def test_more_keys_than_a_request_does_run_as_a_job(
    small_batches: SmallBatches, socket_for: SocketFor, conninfo: str
) -> None:
    editor = await small_batches.client("editor")
    keys = [str(pk) for pk in range(1, 2 * BATCH + 2)]  # one more than the request does
    with psycopg.connect(conninfo) as other:
        other.execute("SELECT 1 FROM courses WHERE id = 1 FOR UPDATE")
        job = ok(
            await editor.post("/api/r/courses/bulk", json={"op": "delete", "pks": [*keys, "9999"]}),
            202,
        )["job"]
        await asyncio.to_thread(
            _wait_for_lock, conninfo, time.monotonic() + 30, other.info.backend_pid
        )
        ws = await socket_for("editor", small_batches.served.ws)
        await ws.subscribe(f"jobs/{job}")
        first = await ws.expect("job", event="progress")
        assert (first["done"], first["total"]) == (0, len(keys) + 1)
        other.rollback()
    progress = []
    frame = await ws.expect("job")
    while frame["event"] == "progress":
        progress.append(frame["done"])
        frame = await ws.expect("job")
    final = frame
    assert final["state"] == "done"
    # One progress frame per batch, as each committed.
    assert progress == [BATCH, 2 * BATCH, 2 * BATCH + 2]
    assert sorted(final["result"]["done"], key=int) == keys
    assert final["result"]["not_found"] == ["9999"]
    await editor.aclose()


async def test_a_live_subscriber_gets_one_change_frame_per_row(
    small_batches: SmallBatches, socket_for: SocketFor, client_for: ClientFor
) -> None:
    viewer = await socket_for("viewer", small_batches.served.ws)
    await viewer.subscribe("r/courses")
    editor = await small_batches.client("editor")
    result = ok(
        await editor.post(
            "/api/r/courses/bulk",
            json={"op": "update", "pks": ["7", "8", "9"], "patch": {"description": "Live bulk"}},
        )
    )
    assert sorted(result["done"]) == ["7", "8", "9"], result
    frames = await viewer.changes(3)
    assert sorted(f["change"]["pk"] for f in frames) == ["7", "8", "9"]
    for frame in frames:
        assert frame["change"]["source"] == "bulk"
        assert frame["change"]["diff"]["description"]["new"] == "Live bulk"
        assert frame["change"]["version"] == 2
    await viewer.quiet()  # and no more than one per row
    await editor.aclose()


async def test_a_job_of_another_user_is_not_found(
    small_batches: SmallBatches, client_for: ClientFor
) -> None:
    editor = await small_batches.client("editor")
    job = ok(
        await editor.post(
            "/api/r/courses/bulk",
            json={"op": "update", "filter": {"id": 1}, "patch": {"status": "open"}},
        ),
        202,
    )["job"]
    admin = await small_batches.client("admin")
    problem(await admin.get(f"/api/jobs/{job}"), 404)
    problem(await admin.get("/api/jobs/abc"), 404)
    await admin.aclose()
    await editor.aclose()


async def test_a_failing_batch_leaves_the_batches_before_it_written_and_itself_not(
    small_batches: SmallBatches, conninfo: str, fresh_data: None
) -> None:
    """Batches of 10; the second deadlocks with another session and is rolled back whole.

    The other session holds row 15. The bulk edit writes batch 1, then locks
    11 to 14 and waits for 15; the other session then asks for 12: a
    deadlock, which PostgreSQL breaks by aborting the bulk's transaction
    (it waited first, so its check runs first). Batch 1 stays written;
    nothing of batch 2 is, and the rows after it are not done either.
    """
    editor = await small_batches.client("editor")
    keys = [str(pk) for pk in range(1, 2 * BATCH + 1)]
    with psycopg.connect(conninfo) as other:
        other.execute("SELECT 1 FROM courses WHERE id = 15 FOR UPDATE")
        task = asyncio.create_task(
            editor.post(
                "/api/r/courses/bulk",
                json={"op": "update", "pks": keys, "patch": {"description": "Batched"}},
            )
        )
        held_by = other.info.backend_pid
        await asyncio.to_thread(_wait_for_lock, conninfo, time.monotonic() + 30, held_by)
        # Blocks until the deadlock is broken (the bulk's batch aborted), then gets row 12.
        await asyncio.to_thread(other.execute, "SELECT 1 FROM courses WHERE id = 12 FOR UPDATE")
        other.rollback()
    result = ok(await task)
    await editor.aclose()
    assert sorted(result["done"], key=int) == keys[:BATCH]
    assert result["not_done"] == keys[BATCH:]
    assert (result["error"]["status"], result["error"]["title"]) == (409, "Conflict")
    logged = sorted(int(c["pk"]) for c in changes(conninfo, "courses") if c["source"] == "bulk")
    assert logged == list(range(1, BATCH + 1))
