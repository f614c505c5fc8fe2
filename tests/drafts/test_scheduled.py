"""Scheduled publish: due drafts are published exactly once across server instances."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import psycopg
import pytest

from tests.conftest import ClientFor
from tests.drafts.conftest import SocketFor
from tests.drafts.test_drafts import approved, start_draft, step
from tests.helpers import ok, patch_record, problem
from tests.servers import ServerProcess, start_server

# Both instances (and the in-process app of the test clients) look for due
# drafts every 50 ms, so they really do race for the same rows.
EAGER = {"COLLABADMIN_DRAFT_SCHEDULE_INTERVAL": "0.05"}
COURSES = list(range(21, 31))
DELAY = dt.timedelta(seconds=2)


@pytest.fixture
def pair(database_url: str, demo_users: None, fresh_data: None) -> Iterator[list[ServerProcess]]:
    servers = [start_server(database_url, **EAGER)]
    try:
        servers.append(start_server(database_url, **EAGER))
        yield servers
    finally:
        for server in servers:
            server.stop()


def _db_now(conninfo: str) -> dt.datetime:
    with psycopg.connect(conninfo) as conn:
        row = conn.execute("SELECT now()").fetchone()
    assert row is not None
    return row[0]  # type: ignore[no-any-return]


async def test_scheduled_drafts_publish_once_with_two_instances(
    pair: list[ServerProcess], socket_for: SocketFor, client_for: ClientFor, conninfo: str
) -> None:
    editor, reviewer, admin = (
        await client_for("editor"),
        await client_for("reviewer"),
        await client_for("admin"),
    )
    ws = await socket_for("reviewer", url=pair[1].ws)
    await ws.subscribe("drafts")
    drafts = []
    for pk in COURSES:
        draft = await start_draft(editor, "courses", pk, {"title": f"Scheduled {pk}"})
        drafts.append(await approved(editor, reviewer, draft))
    failing = await approved(
        editor, reviewer, await start_draft(editor, "courses", 31, {"title": "Will clash"})
    )
    when = (_db_now(conninfo) + DELAY).isoformat()
    for draft in [*drafts, failing]:
        scheduled = ok(await step(reviewer, draft, "publish", publish_at=when))
        assert scheduled["status"] == "approved"
        assert scheduled["publish_at"] is not None
    # Someone changes the same field of course 31 before the schedule comes due.
    ok(await patch_record(admin, "courses", 31, {"title": "Changed live"}, if_match=1))

    published: set[int] = set()
    failed = False
    while len(published) < len(drafts) or not failed:
        frame = await ws.expect("draft", timeout=15)
        if frame["event"] == "published":
            published.add(frame["draft"]["id"])
        elif frame["draft"]["id"] == failing["id"]:
            diff = frame["change"]["diff"]
            failed = failed or ("publish_at" in diff and diff["publish_at"]["new"] is None)
    assert published == {d["id"] for d in drafts}

    with psycopg.connect(conninfo) as conn:
        per_course = dict(
            conn.execute(
                "SELECT pk::int, count(*) FROM collabadmin.collabadmin_change"
                " WHERE resource = 'courses' AND source = 'draft' GROUP BY pk"
            ).fetchall()
        )
        events = dict(
            conn.execute(
                "SELECT draft_id, count(*) FROM collabadmin.collabadmin_draft_event"
                " WHERE action = 'published' GROUP BY draft_id"
            ).fetchall()
        )
    assert per_course == dict.fromkeys(COURSES, 1)
    assert events == {d["id"]: 1 for d in drafts}
    for pk in COURSES:
        assert ok(await editor.get(f"/api/r/courses/{pk}"))["title"] == f"Scheduled {pk}"

    # The failure is recorded on the draft and in its trail, not lost.
    shown = ok(await reviewer.get(f"/api/drafts/{failing['id']}"))
    assert shown["status"] == "approved"
    assert shown["publish_at"] is None
    assert shown["publish_error"]["status"] == 409
    assert [c["field"] for c in shown["publish_error"]["conflicts"]] == ["title"]
    trail = ok(await reviewer.get(f"/api/drafts/{failing['id']}/comments"))["items"]
    assert trail[-1]["action"] == "publish_failed"
    assert ok(await editor.get("/api/r/courses/31"))["title"] == "Changed live"


async def test_only_approved_drafts_can_be_scheduled(client_for: ClientFor) -> None:
    editor, reviewer = await client_for("editor"), await client_for("reviewer")
    draft = await start_draft(editor, "courses", 40, {"title": "Not yet"})
    later = (dt.datetime.now(dt.UTC) + dt.timedelta(days=1)).isoformat()
    problem(await step(reviewer, draft, "publish", publish_at=later), 409)
    ok(await step(editor, draft, "submit"))
    problem(await step(reviewer, draft, "publish", publish_at=later), 409)
    ok(await step(reviewer, draft, "approve"))
    scheduled = ok(await step(reviewer, draft, "publish", publish_at=later))
    assert scheduled["publish_at"] is not None
    # Rejecting an approved draft cancels its schedule.
    rejected = ok(await step(reviewer, draft, "reject", comment="hold on"))
    assert (rejected["status"], rejected["publish_at"]) == ("rejected", None)
