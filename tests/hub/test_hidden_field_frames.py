"""Change frames about fields a subscriber may not read: the version moves, nothing is named.

The websocket applies the same rule as history and the audit log (see
tests/auth/test_trust_leaks.py): the entry still arrives, its diff holds only
readable fields, and ``hidden_fields`` says something was left out.
"""

from __future__ import annotations

from tests.conftest import ClientFor, taught_courses
from tests.helpers import ok, patch_record
from tests.hub.conftest import SocketFor


async def test_websocket_change_of_a_hidden_field_says_hidden(
    client_for: ClientFor, socket_for: SocketFor, conninfo: str
) -> None:
    editor = await client_for("editor")
    mine = taught_courses(conninfo)[0]
    instructor_socket = await socket_for("instructor")
    editor_socket = await socket_for("editor")
    for ws in (instructor_socket, editor_socket):
        await ws.subscribe(f"r/courses/{mine}")
    ok(await patch_record(editor, "courses", mine, {"internal_notes": "secret"}, if_match=1))
    seen = (await instructor_socket.expect("change"))["change"]
    assert (seen["version"], seen["diff"], seen["hidden_fields"]) == (2, {}, True)
    full = (await editor_socket.expect("change"))["change"]
    assert full["hidden_fields"] is False
    assert full["diff"]["internal_notes"]["new"] == "secret"


async def test_draft_frame_of_a_hidden_field_edit_says_hidden(
    client_for: ClientFor, socket_for: SocketFor, conninfo: str
) -> None:
    editor, instructor = await client_for("editor"), await client_for("instructor")
    mine = taught_courses(conninfo)[0]
    draft = ok(
        await instructor.post(f"/api/r/courses/{mine}/drafts", json={"data": {"description": "d"}}),
        201,
    )
    instructor_socket = await socket_for("instructor")
    await instructor_socket.subscribe("drafts")
    ok(
        await editor.patch(
            f"/api/drafts/{draft['id']}",
            json={"data": {"internal_notes": "secret"}},
            headers={"If-Match": f'"{draft["_version"]}"'},
        )
    )
    frame = await instructor_socket.expect("draft")
    assert frame["change"]["hidden_fields"] is True
    assert frame["change"]["diff"]["data"]["old"] == frame["change"]["diff"]["data"]["new"]
    assert "secret" not in str(frame)
    assert "internal_notes" not in str(frame)
