"""The websocket protocol of API.md with real sockets and real commits."""

from __future__ import annotations

import asyncio
import json
import time

import psycopg
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from collabadmin.changelog.position import Position
from tests.conftest import ClientFor, taught_courses
from tests.helpers import ok, patch_record
from tests.hub.conftest import Served, SocketFor


async def test_without_credentials_the_socket_closes_with_4401(served: Served) -> None:
    async with connect(served.ws) as conn:
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(conn.recv(), 10)
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 4401


async def test_query_token_authenticates_browsers(
    served: Served, socket_for: SocketFor, client_for: ClientFor
) -> None:
    editor = await client_for("editor")
    token = ok(await editor.post("/api/auth/tokens", json={"name": "browser"}), 201)["token"]
    async with connect(f"{served.ws}?token={token}") as conn:
        await conn.send(json.dumps({"type": "ping"}))
        assert json.loads(await asyncio.wait_for(conn.recv(), 10)) == {"type": "pong"}


async def test_changes_arrive_live_with_actor_version_and_diff(
    socket_for: SocketFor, client_for: ClientFor
) -> None:
    ws = await socket_for("viewer")
    cursor = await ws.subscribe("r/courses")
    assert cursor
    editor = await client_for("editor")
    ok(await patch_record(editor, "courses", 3, {"title": "Live one"}, if_match=1))
    ok(await patch_record(editor, "courses", 4, {"description": "Live two"}, if_match=1))
    first, second = await ws.changes(2)
    assert first["topic"] == "r/courses"
    assert first["change"]["pk"] == "3"
    assert first["change"]["version"] == 2
    assert first["change"]["actor"]["name"] == "Editor"
    assert first["change"]["diff"]["title"]["new"] == "Live one"
    assert second["change"]["diff"] == {
        "description": {"old": second["change"]["diff"]["description"]["old"], "new": "Live two"}
    }
    assert first["cursor"] != second["cursor"]
    await ws.quiet()


async def test_record_topic_gets_only_that_record(
    socket_for: SocketFor, client_for: ClientFor
) -> None:
    ws = await socket_for("viewer")
    await ws.subscribe("r/courses/5")
    editor = await client_for("editor")
    ok(await patch_record(editor, "courses", 6, {"title": "Other"}, if_match=1))
    ok(await patch_record(editor, "courses", 5, {"title": "Mine"}, if_match=1))
    [change] = await ws.changes(1)
    assert (change["topic"], change["change"]["pk"]) == ("r/courses/5", "5")
    await ws.quiet()


async def test_resume_with_since_gets_every_missed_change_once_in_order(
    socket_for: SocketFor, client_for: ClientFor, conninfo: str
) -> None:
    editor = await client_for("editor")
    ws = await socket_for("viewer")
    await ws.subscribe("r/courses")
    ok(await patch_record(editor, "courses", 7, {"title": "v2"}, if_match=1))
    [seen] = await ws.changes(1)
    await ws.conn.close()

    ok(await patch_record(editor, "courses", 7, {"title": "v3"}, if_match=2))
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("UPDATE courses SET title = 'v4 from psql' WHERE id = 7")
    ok(await patch_record(editor, "courses", 8, {"title": "other"}, if_match=1))

    again = await socket_for("viewer")
    assert await again.subscribe("r/courses", since=seen["cursor"]) == seen["cursor"]
    missed = await again.changes(3)
    assert [(c["change"]["pk"], c["change"]["version"]) for c in missed] == [
        ("7", 3),
        ("7", 4),
        ("8", 2),
    ]
    assert missed[1]["change"]["source"] == "db"
    # ... and then live, with nothing repeated.
    ok(await patch_record(editor, "courses", 7, {"title": "v5"}, if_match=4))
    [live] = await again.changes(1)
    assert live["change"]["version"] == 5
    await again.quiet()
    # Resuming from the middle of the replay gives exactly the rest.
    third = await socket_for("viewer")
    await third.subscribe("r/courses", since=missed[0]["cursor"])
    rest = await third.changes(3)
    assert [c["change"]["version"] for c in rest] == [4, 2, 5]
    await third.quiet()


async def test_a_transaction_that_took_its_id_first_but_committed_last(
    socket_for: SocketFor, conninfo: str
) -> None:
    """Change-log ids are not commit order; the stream is."""
    ws = await socket_for("viewer")
    start = await ws.subscribe("r/courses")
    slow = psycopg.connect(conninfo)
    try:
        slow.execute("UPDATE courses SET title = 'slow' WHERE id = 9")  # takes the lower id
        with psycopg.connect(conninfo, autocommit=True) as fast:
            fast.execute("UPDATE courses SET title = 'fast' WHERE id = 10")  # commits first
        [first] = await ws.changes(1)
        assert first["change"]["pk"] == "10"
        slow.commit()
    finally:
        slow.close()
    [second] = await ws.changes(1)
    assert second["change"]["pk"] == "9"
    assert second["change"]["id"] < first["change"]["id"]
    # A client whose cursor is past the later-committed, higher id still gets the lower one.
    late = await socket_for("viewer")
    await late.subscribe("r/courses", since=first["cursor"])
    [missed] = await late.changes(1)
    assert missed["change"]["id"] == second["change"]["id"]
    await late.quiet()
    # And from the very start, both, in commit order.
    replay = await socket_for("viewer")
    await replay.subscribe("r/courses", since=start)
    assert [c["change"]["pk"] for c in await replay.changes(2)] == ["10", "9"]
    await replay.quiet()


async def test_hidden_fields_and_out_of_scope_rows_never_appear_in_frames(
    socket_for: SocketFor, client_for: ClientFor, conninfo: str
) -> None:
    marker = "WS-MARKER-7f3a"
    taught = taught_courses(conninfo)
    other = next(pk for pk in range(1, 61) if pk not in taught)
    ws = await socket_for("instructor")
    await ws.subscribe("r/courses")
    audit = await socket_for("admin")
    await audit.subscribe("r/courses")
    admin = await client_for("admin")
    ok(await patch_record(admin, "courses", other, {"internal_notes": marker}, base=1))
    ok(await patch_record(admin, "courses", taught[0], {"internal_notes": marker}, base=1))
    ok(await patch_record(admin, "courses", taught[0], {"description": "seen"}, base=2))
    # The admin sees all three; the instructor only the visible part of its own course.
    assert len(await audit.changes(3)) == 3
    frames = [await ws.expect("change") for _ in range(2)]
    await ws.quiet()
    raw = json.dumps(ws.seen)
    assert marker not in raw
    assert "internal_notes" not in raw
    assert [f["change"]["pk"] for f in frames] == [str(taught[0])] * 2
    assert frames[0]["change"]["diff"] == {}  # only the hidden field changed
    assert frames[1]["change"]["diff"]["description"]["new"] == "seen"
    # A record topic outside the scope cannot be followed at all.
    await ws.send({"type": "subscribe", "topic": f"r/courses/{other}"})
    await ws.expect("error", code="not_found")
    await ws.send({"type": "subscribe", "topic": "r/universities"})
    await ws.expect("error", code="forbidden")


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ("{not json", "bad_frame"),
        ("[1, 2]", "bad_frame"),
        ('{"type": "dance"}', "unknown_type"),
        ('{"type": 5}', "unknown_type"),
        ('{"topic": "r/courses"}', "unknown_type"),
        ("null", "bad_frame"),
        ('"subscribe"', "bad_frame"),
        ('{"type": "subscribe", "topic": 5}', "bad_topic"),
        ('{"type": "subscribe", "topic": ["r/courses"]}', "bad_topic"),
        ('{"type": "presence", "topic": "r/courses/1", "state": "dancing"}', "bad_frame"),
        ('{"type": "presence", "topic": "r/courses/1", "state": "left", "field": 3}', "bad_frame"),
        ('{"type": "unsubscribe"}', "bad_topic"),
        ('{"type": "subscribe"}', "bad_topic"),
        ('{"type": "subscribe", "topic": "r/../etc"}', "bad_topic"),
        ('{"type": "subscribe", "topic": "r/nothing"}', "not_found"),
        ('{"type": "subscribe", "topic": "r/courses", "since": "garbage"}', "bad_cursor"),
        ('{"type": "subscribe", "topic": "r/courses", "since": 42}', "bad_cursor"),
        ('{"type": "subscribe", "topic": "audit"}', "forbidden"),
        ('{"type": "unsubscribe", "topic": "r/courses"}', "not_subscribed"),
        ('{"type": "presence", "topic": "r/courses/1", "state": "editing"}', "not_subscribed"),
    ],
)
async def test_bad_frames_get_error_frames_and_the_socket_stays(
    socket_for: SocketFor, frame: str, code: str
) -> None:
    ws = await socket_for("viewer")
    await ws.send(frame)
    error = await ws.expect("error", code=code)
    assert error["message"]
    await ws.quiet()


async def test_forged_cursor_is_refused(socket_for: SocketFor) -> None:
    ws = await socket_for("viewer")
    future = Position("999999999:999999999:", "999999999:999999999:", 0, 1e12).encode()
    await ws.send({"type": "subscribe", "topic": "r/courses", "since": future})
    await ws.expect("error", code="bad_cursor")
    await ws.quiet()


async def test_frames_over_one_mebibyte_close_with_1009(socket_for: SocketFor) -> None:
    ws = await socket_for("viewer")
    await ws.send(json.dumps({"type": "ping", "pad": "x" * (1 << 20)}))
    with pytest.raises(ConnectionClosed) as closed:
        await ws.next()
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 1009


async def test_old_cursors_get_resync(socket_for: SocketFor) -> None:
    ws = await socket_for("viewer")
    cursor = await ws.subscribe("r/courses")
    old = Position.decode(cursor)
    stale = Position(old.lower, old.upper, 0, old.at - 3 * 24 * 3600).encode()
    again = await socket_for("viewer")
    await again.send({"type": "subscribe", "topic": "r/courses", "since": stale})
    await again.expect("subscribed")
    await again.expect("resync", topic="r/courses")


async def test_unsubscribe_stops_delivery(socket_for: SocketFor, client_for: ClientFor) -> None:
    ws = await socket_for("viewer")
    await ws.subscribe("r/sessions")
    await ws.send({"type": "unsubscribe", "topic": "r/sessions"})
    await ws.expect("unsubscribed", topic="r/sessions")
    editor = await client_for("editor")
    ok(await patch_record(editor, "sessions", 1, {"enrollment_open": True}, base=1))
    await ws.subscribe("r/courses")  # the hub has moved past that change: nothing queued for us
    await ws.quiet()


async def test_presence_join_field_and_leave(socket_for: SocketFor) -> None:
    alice = await socket_for("editor")
    bob = await socket_for("viewer")
    await alice.subscribe("r/courses/2")
    await bob.subscribe("r/courses/2")
    await alice.send(
        {"type": "presence", "topic": "r/courses/2", "state": "editing", "field": "title"}
    )
    for ws in (alice, bob):
        frame = await ws.expect("presence", topic="r/courses/2")
        assert frame["users"] == [
            {"id": frame["users"][0]["id"], "name": "Editor", "state": "editing", "field": "title"}
        ]
    await bob.send({"type": "presence", "topic": "r/courses/2", "state": "viewing"})
    for ws in (alice, bob):
        frame = await ws.expect("presence")
        assert [(u["name"], u["state"]) for u in frame["users"]] == [
            ("Editor", "editing"),
            ("Viewer", "viewing"),
        ]
    await alice.conn.close()
    frame = await bob.expect("presence")
    assert [u["name"] for u in frame["users"]] == ["Viewer"]
    await bob.send(
        {"type": "presence", "topic": "r/courses/2", "state": "editing", "field": "nope"}
    )
    await bob.expect("error", code="bad_frame")


async def test_presence_never_names_a_field_the_reader_may_not_read(
    socket_for: SocketFor, conninfo: str
) -> None:
    """An instructor sees that the editor is editing its course, not that it is the notes."""
    course = taught_courses(conninfo)[0]
    topic = f"r/courses/{course}"
    editor, instructor = await socket_for("editor"), await socket_for("instructor")
    await editor.subscribe(topic)
    await instructor.subscribe(topic)
    await editor.send(
        {"type": "presence", "topic": topic, "state": "editing", "field": "internal_notes"}
    )
    shown = await editor.expect("presence", topic=topic)
    assert shown["users"][0]["field"] == "internal_notes"
    hidden = await instructor.expect("presence", topic=topic)
    assert hidden["users"] == [{**shown["users"][0], "field": None}]


@pytest.mark.parametrize(
    "topic",
    [
        "r/courses/2147483648",  # beyond the integer key's range
        "r/courses/99999999999999999999",
        "r/courses/-0",
    ],
)
async def test_a_record_topic_whose_lookup_fails_oddly_answers_and_the_socket_stays(
    socket_for: SocketFor, topic: str
) -> None:
    ws = await socket_for("viewer")
    await ws.send({"type": "subscribe", "topic": topic})
    error = await ws.expect("error")
    assert error["code"] in {"not_found", "internal"}
    await ws.quiet()


@pytest.mark.parametrize(
    "lower_upper",
    [("10:5:", "10:5:"), ("5:10:12", "5:10:12"), ("20:30:", "10:15:"), ("0:0:", "0:0:")],
)
async def test_cursors_that_are_not_snapshots_get_error_frames(
    socket_for: SocketFor, lower_upper: tuple[str, str]
) -> None:
    ws = await socket_for("viewer")
    cursor = Position(*lower_upper, 0, time.time()).encode()
    await ws.send({"type": "subscribe", "topic": "r/courses", "since": cursor})
    await ws.expect("error", code="bad_cursor")
    await ws.quiet()
