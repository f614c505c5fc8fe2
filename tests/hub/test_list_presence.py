"""Presence on the list topic ``r/{resource}``: who is on which row, within the reader's scope."""

from __future__ import annotations

import json
from typing import Any

from tests.conftest import taught_courses
from tests.hub.conftest import Socket, SocketFor


async def row_presence(ws: Socket, pk: int) -> list[dict[str, Any]]:
    """The users of the next list presence frame for record ``pk``.

    Presence of other records (sockets of earlier tests still leaving the
    shared server) is skipped; any other frame fails the test.
    """
    while True:
        frame = await ws.expect("presence", topic="r/courses")
        if frame["pk"] == str(pk):
            users: list[dict[str, Any]] = frame["users"]
            return users


async def drain(ws: Socket) -> None:
    """Read what is queued for ``ws``: a ping is answered after it, and only presence precedes."""
    await ws.send({"type": "ping"})
    while (frame := await ws.next())["type"] != "pong":
        assert frame["type"] == "presence", frame


async def enter(ws: Socket, pk: int, state: str = "viewing", field: str | None = None) -> None:
    """``ws`` is on course ``pk``, and the server has taken it in."""
    topic = f"r/courses/{pk}"
    await ws.subscribe(topic)
    await ws.send({"type": "presence", "topic": topic, "state": state, "field": field})
    await ws.expect("presence", topic=topic)


async def test_a_list_sees_an_editor_enter_and_leave_a_row(socket_for: SocketFor) -> None:
    viewer = await socket_for("viewer")
    await viewer.subscribe("r/courses")
    editor = await socket_for("editor")
    await enter(editor, 5, "editing", "title")
    users = await row_presence(viewer, 5)
    assert [(u["name"], u["state"], u["field"]) for u in users] == [("Editor", "editing", "title")]
    await editor.send({"type": "unsubscribe", "topic": "r/courses/5"})
    await editor.expect("unsubscribed")
    assert await row_presence(viewer, 5) == []


async def test_a_closed_socket_leaves_the_row(socket_for: SocketFor) -> None:
    viewer = await socket_for("viewer")
    await viewer.subscribe("r/courses")
    editor = await socket_for("editor")
    await enter(editor, 11)
    assert [u["name"] for u in await row_presence(viewer, 11)] == ["Editor"]
    await editor.conn.close()
    assert await row_presence(viewer, 11) == []


async def test_an_instructor_sees_presence_only_on_courses_it_teaches(
    socket_for: SocketFor, conninfo: str
) -> None:
    taught = taught_courses(conninfo)
    other = next(pk for pk in range(1, 61) if pk not in taught)
    instructor = await socket_for("instructor")
    await instructor.subscribe("r/courses")
    admin = await socket_for("admin")
    await admin.subscribe("r/courses")
    editor = await socket_for("editor")
    await enter(editor, other, "editing", "title")
    # The admin's frame proves the change was fanned out before the next one.
    assert [u["name"] for u in await row_presence(admin, other)] == ["Editor"]
    await editor.send(
        {"type": "presence", "topic": f"r/courses/{other}", "state": "left", "field": None}
    )
    await editor.expect("presence", topic=f"r/courses/{other}", users=[])
    await enter(editor, taught[0], "editing", "internal_notes")
    users = await row_presence(instructor, taught[0])
    # It may not read internal_notes, so it is not told which field is edited.
    assert [(u["name"], u["state"], u["field"]) for u in users] == [("Editor", "editing", None)]
    await drain(instructor)
    assert str(other) not in [f.get("pk") for f in instructor.seen]
    assert "internal_notes" not in json.dumps(instructor.seen)


async def test_subscribing_to_a_list_sends_who_is_where_now(
    socket_for: SocketFor, conninfo: str
) -> None:
    taught = taught_courses(conninfo)
    other = next(pk for pk in range(1, 61) if pk not in taught)
    editor = await socket_for("editor")
    await enter(editor, 5, "editing", "title")
    await enter(editor, other)
    await enter(editor, taught[0])

    viewer = await socket_for("viewer")
    await viewer.subscribe("r/courses")
    assert [(u["name"], u["state"]) for u in await row_presence(viewer, 5)] == [
        ("Editor", "editing")
    ]

    instructor = await socket_for("instructor")
    await instructor.subscribe("r/courses")
    assert [u["name"] for u in await row_presence(instructor, taught[0])] == ["Editor"]
    await drain(instructor)
    assert str(other) not in [f.get("pk") for f in instructor.seen]
    # Nobody on a list: no snapshot frames at all.
    nobody = await socket_for("viewer")
    await nobody.subscribe("r/sessions")
    await nobody.quiet()  # (no record of sessions has anyone on it)
