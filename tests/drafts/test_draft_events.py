"""Draft events on the websocket: the drafts topic, the record's topic, resume, permissions."""

from __future__ import annotations

import psycopg

from tests.conftest import ClientFor, taught_courses
from tests.drafts.conftest import SocketFor
from tests.drafts.test_drafts import approved, start_draft, step
from tests.helpers import ok


async def test_draft_lifecycle_is_pushed_on_drafts_and_record_topics(
    socket_for: SocketFor, client_for: ClientFor
) -> None:
    reviewer_ws, record_ws = await socket_for("reviewer"), await socket_for("viewer")
    await reviewer_ws.subscribe("drafts")
    await record_ws.subscribe("r/courses/11")
    editor, reviewer = await client_for("editor"), await client_for("reviewer")

    draft = await start_draft(editor, "courses", 11, {"title": "Live draft"})
    await approved(editor, reviewer, draft)
    ok(await step(reviewer, draft, "publish"))

    events = [await reviewer_ws.expect("draft", topic="drafts") for _ in range(4)]
    assert [e["event"] for e in events] == ["created", "submitted", "approved", "published"]
    assert all(e["draft"] == {"id": draft["id"], "resource": "courses", "pk": "11"} for e in events)
    assert events[0]["change"]["diff"]["data"]["new"] == {"title": "Live draft"}
    assert events[0]["change"]["actor"]["name"] == "Editor"

    # On the record's topic the draft events and the published change come in commit order.
    seen = [await record_ws.next() for _ in range(5)]
    kinds = [(f["type"], f.get("event")) for f in seen]
    assert kinds == [
        ("draft", "created"),
        ("draft", "submitted"),
        ("draft", "approved"),
        ("change", None),
        ("draft", "published"),
    ]
    assert seen[3]["change"]["source"] == "draft"
    assert seen[3]["change"]["diff"]["title"]["new"] == "Live draft"
    assert len({f["cursor"] for f in seen}) == 5
    await record_ws.quiet()


async def test_resume_replays_missed_draft_events(
    socket_for: SocketFor, client_for: ClientFor
) -> None:
    ws = await socket_for("reviewer")
    cursor = await ws.subscribe("drafts")
    await ws.conn.close()
    editor = await client_for("editor")
    draft = await start_draft(editor, "courses", 12, {"title": "While away"})
    ok(await step(editor, draft, "submit"))

    again = await socket_for("reviewer")
    await again.subscribe("drafts", since=cursor)
    missed = [await again.expect("draft") for _ in range(2)]
    assert [m["event"] for m in missed] == ["created", "submitted"]
    await again.quiet()


async def test_draft_frames_respect_scope_and_hidden_fields(
    socket_for: SocketFor, client_for: ClientFor, conninfo: str
) -> None:
    instructor_ws = await socket_for("instructor")
    await instructor_ws.subscribe("drafts")
    editor = await client_for("editor")
    taught = taught_courses(conninfo)
    other = next(pk for pk in range(1, 61) if pk not in taught)
    marker = "HIDDEN-IN-FRAMES"
    await start_draft(editor, "courses", other, {"title": "Not yours"})
    mine = await start_draft(
        editor, "courses", taught[0], {"internal_notes": marker, "description": "For you"}
    )
    frame = await instructor_ws.expect("draft")
    assert frame["draft"]["id"] == mine["id"]
    assert frame["change"]["diff"]["data"]["new"] == {"description": "For you"}
    assert marker not in str(frame)
    await instructor_ws.quiet()
    with psycopg.connect(conninfo) as conn:
        count = conn.execute(
            "SELECT count(*) FROM collabadmin.collabadmin_change WHERE resource = 'drafts'"
        ).fetchone()
    assert count == (2,)


async def test_unknown_topics_still_refused(socket_for: SocketFor) -> None:
    ws = await socket_for("viewer")
    await ws.send({"type": "subscribe", "topic": "workflow-runs/abc"})
    error = await ws.expect("error")
    assert error["code"] == "bad_topic"
