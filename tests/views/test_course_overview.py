"""course_overview, live: every way a session arrives moves its row once, in order."""

from __future__ import annotations

from typing import Any

import httpx
import psycopg

from tests.conftest import ClientFor, taught_courses
from tests.helpers import ok, patch_record, problem
from tests.views.conftest import Socket, SocketFor

COURSE = 7


async def overview(client: httpx.AsyncClient, pk: int) -> dict[str, Any]:
    body: dict[str, Any] = ok(await client.get(f"/api/r/course_overview/{pk}"))
    return body


async def add_session(client: httpx.AsyncClient, course: int, day: str) -> dict[str, Any]:
    body = {"course_id": course, "starts_on": day, "ends_on": day, "enrollment_open": True}
    created: dict[str, Any] = ok(await client.post("/api/r/sessions", json=body), 201)
    return created


async def only_change(ws: Socket, client: httpx.AsyncClient, marker: int) -> dict[str, Any]:
    """The next change frame, and proof that it came once: the next one is the marker's.

    The marker is a title change of the same course, made after the change
    under test; in commit order nothing can come between them but a repeat.
    """
    frame = await ws.expect("change")
    version = ok(await client.get(f"/api/r/courses/{marker}"))["_version"]
    title = f"Marker {frame['cursor'][-8:]}"
    ok(await patch_record(client, "courses", marker, {"title": title}, base=version))
    following = await ws.expect("change")
    assert set(following["change"]["diff"]) == {"title"}, following
    return frame


async def test_a_session_added_through_the_api_moves_the_row_once(
    client_for: ClientFor, socket_for: SocketFor
) -> None:
    editor, viewer = await client_for("editor"), await client_for("viewer")
    before = await overview(viewer, COURSE)
    ws = await socket_for("viewer")
    await ws.subscribe(f"r/course_overview/{COURSE}")
    await add_session(editor, COURSE, "2031-03-02")
    frame = await only_change(ws, editor, COURSE)
    change = frame["change"]
    assert frame["topic"] == f"r/course_overview/{COURSE}"
    assert (change["resource"], change["pk"], change["op"]) == ("course_overview", "7", "update")
    assert change["source"] == "view"
    assert change["actor"] is None
    assert change["version"] == before["_version"] + 1
    assert change["diff"]["sessions"] == {"old": before["sessions"], "new": before["sessions"] + 1}
    assert change["diff"]["open_sessions"] == {
        "old": before["open_sessions"],
        "new": before["open_sessions"] + 1,
    }
    assert "title" not in change["diff"]


async def test_a_read_right_after_the_write_sees_it(client_for: ClientFor) -> None:
    editor = await client_for("editor")
    before = await overview(editor, COURSE)
    await add_session(editor, COURSE, "2031-03-03")
    after = await overview(editor, COURSE)
    assert after["sessions"] == before["sessions"] + 1
    listed = ok(await editor.get("/api/r/course_overview", params={"filter[id]": str(COURSE)}))
    assert [r["sessions"] for r in listed["items"]] == [before["sessions"] + 1]


async def test_a_session_inserted_with_psql_moves_the_row_once(
    client_for: ClientFor, socket_for: SocketFor, conninfo: str
) -> None:
    editor = await client_for("editor")
    before = await overview(editor, COURSE)
    ws = await socket_for("viewer")
    await ws.subscribe("r/course_overview")
    with psycopg.connect(conninfo) as conn:
        conn.execute(
            "INSERT INTO sessions (course_id, starts_on, ends_on, enrollment_open)"
            " VALUES (%s, '2031-04-01', '2031-04-02', false)",
            (COURSE,),
        )
    frame = await only_change(ws, editor, COURSE)
    assert frame["change"]["pk"] == str(COURSE)
    assert frame["change"]["diff"] == {
        "sessions": {"old": before["sessions"], "new": before["sessions"] + 1}
    }


async def test_a_session_published_from_a_draft_moves_the_row_once(
    client_for: ClientFor, socket_for: SocketFor
) -> None:
    editor, reviewer = await client_for("editor"), await client_for("reviewer")
    before = await overview(editor, COURSE)
    data = {"course_id": COURSE, "starts_on": "2031-05-04", "ends_on": "2031-05-05"}
    draft = ok(await editor.post("/api/r/sessions/drafts", json={"data": data}), 201)
    ok(await editor.post(f"/api/drafts/{draft['id']}/submit", json={}))
    ok(await reviewer.post(f"/api/drafts/{draft['id']}/approve", json={}))
    ws = await socket_for("viewer")
    await ws.subscribe(f"r/course_overview/{COURSE}")
    ok(await reviewer.post(f"/api/drafts/{draft['id']}/publish", json={}))
    frame = await only_change(ws, editor, COURSE)
    assert frame["change"]["diff"] == {
        "sessions": {"old": before["sessions"], "new": before["sessions"] + 1}
    }


async def test_a_draft_of_the_course_counts_as_pending_until_published(
    client_for: ClientFor, socket_for: SocketFor
) -> None:
    editor, reviewer = await client_for("editor"), await client_for("reviewer")
    before = await overview(editor, COURSE)
    ws = await socket_for("viewer")
    await ws.subscribe(f"r/course_overview/{COURSE}")
    draft = ok(
        await editor.post(
            f"/api/r/courses/{COURSE}/drafts", json={"data": {"title": "Drafted overview"}}
        ),
        201,
    )
    started = await ws.expect("change")
    assert started["change"]["diff"] == {
        "pending_drafts": {"old": before["pending_drafts"], "new": before["pending_drafts"] + 1}
    }
    ok(await editor.post(f"/api/drafts/{draft['id']}/submit", json={}))
    ok(await reviewer.post(f"/api/drafts/{draft['id']}/approve", json={}))
    ok(await reviewer.post(f"/api/drafts/{draft['id']}/publish", json={}))
    # One commit published the title and ended the draft: one frame says both.
    published = await only_change(ws, editor, COURSE)
    assert published["change"]["diff"] == {
        "title": {"old": before["title"], "new": "Drafted overview"},
        "pending_drafts": {"old": before["pending_drafts"] + 1, "new": before["pending_drafts"]},
    }


async def test_sessions_inserted_in_bulk_move_the_row_once(
    client_for: ClientFor, socket_for: SocketFor, conninfo: str
) -> None:
    editor = await client_for("editor")
    before = await overview(editor, COURSE)
    ws = await socket_for("viewer")
    await ws.subscribe(f"r/course_overview/{COURSE}")
    with psycopg.connect(conninfo) as conn:
        conn.execute(
            "INSERT INTO sessions (course_id, starts_on, ends_on, enrollment_open)"
            " SELECT %s, d, d, true FROM generate_series(date '2031-06-01', '2031-06-03',"
            " interval '1 day') AS d",
            (COURSE,),
        )
    frame = await only_change(ws, editor, COURSE)
    diff = frame["change"]["diff"]
    assert diff["sessions"] == {"old": before["sessions"], "new": before["sessions"] + 3}
    assert diff["open_sessions"]["new"] == before["open_sessions"] + 3


async def test_a_session_inserted_through_an_import_moves_the_row_once(
    client_for: ClientFor, socket_for: SocketFor
) -> None:
    editor = await client_for("editor")
    before = await overview(editor, COURSE)
    ws = await socket_for("viewer")
    await ws.subscribe(f"r/course_overview/{COURSE}")
    body = (
        f"course_id,starts_on,ends_on,enrollment_open\r\n{COURSE},2031-09-01,2031-09-02,true\r\n"
    ).encode()
    applied = ok(
        await editor.post(
            "/api/r/sessions/import",
            params={"dry_run": "false"},
            content=body,
            headers={"Content-Type": "text/csv"},
        )
    )
    assert applied["summary"]["insert"] == 1
    frame = await only_change(ws, editor, COURSE)
    diff = frame["change"]["diff"]
    assert diff["sessions"] == {"old": before["sessions"], "new": before["sessions"] + 1}
    assert diff["open_sessions"]["new"] == before["open_sessions"] + 1


async def test_sessions_closed_by_a_bulk_edit_move_the_row_once(
    client_for: ClientFor, socket_for: SocketFor
) -> None:
    editor = await client_for("editor")
    added = [await add_session(editor, COURSE, day) for day in ("2031-10-01", "2031-10-08")]
    before = await overview(editor, COURSE)
    ws = await socket_for("viewer")
    await ws.subscribe(f"r/course_overview/{COURSE}")
    keys = [str(session["id"]) for session in added]
    result = ok(
        await editor.post(
            "/api/r/sessions/bulk",
            json={"op": "update", "pks": keys, "patch": {"enrollment_open": False}},
        )
    )
    assert sorted(result["done"]) == sorted(keys)
    frame = await only_change(ws, editor, COURSE)
    diff = frame["change"]["diff"]
    assert "sessions" not in diff
    assert diff["open_sessions"] == {
        "old": before["open_sessions"],
        "new": before["open_sessions"] - 2,
    }


async def test_a_resumed_subscriber_misses_nothing(
    client_for: ClientFor, socket_for: SocketFor
) -> None:
    editor = await client_for("editor")
    before = await overview(editor, COURSE)
    first = await socket_for("viewer")
    cursor = await first.subscribe("r/course_overview")
    await first.conn.close()
    for day in ("2031-07-01", "2031-07-02", "2031-07-03"):
        await add_session(editor, COURSE, day)
    # The three commits are evaluated before this read answers (read-your-writes).
    assert (await overview(editor, COURSE))["sessions"] == before["sessions"] + 3
    again = await socket_for("viewer")
    await again.subscribe("r/course_overview", since=cursor)
    seen: list[int] = []
    while not seen or seen[-1] < before["sessions"] + 3:
        frame = await again.expect("change")
        seen.append(frame["change"]["diff"]["sessions"]["new"])
    # In order, none repeated; evaluations may fold commits, never skip or reorder them.
    assert seen == sorted(set(seen))
    assert seen[0] > before["sessions"]
    await again.quiet()


async def test_an_instructor_sees_only_the_rows_of_its_courses(
    client_for: ClientFor, socket_for: SocketFor, conninfo: str
) -> None:
    taught = taught_courses(conninfo)
    other = next(c for c in range(1, 61) if c not in taught)
    instructor, editor = await client_for("instructor"), await client_for("editor")
    listed = ok(await instructor.get("/api/r/course_overview", params={"limit": "100"}))
    assert sorted(r["id"] for r in listed["items"]) == taught
    problem(await instructor.get(f"/api/r/course_overview/{other}"), 404)
    ws = await socket_for("instructor")
    await ws.send({"type": "subscribe", "topic": f"r/course_overview/{other}"})
    await ws.expect("error", code="not_found")
    await ws.subscribe("r/course_overview")
    await add_session(editor, other, "2031-08-01")
    await add_session(editor, taught[0], "2031-08-02")
    frame = await ws.expect("change")
    assert frame["change"]["pk"] == str(taught[0])
    await ws.quiet()


async def test_a_course_deleted_and_restored_leaves_and_rejoins_the_view(
    client_for: ClientFor, socket_for: SocketFor
) -> None:
    editor = await client_for("editor")
    before = await overview(editor, COURSE)
    ws = await socket_for("viewer")
    await ws.subscribe("r/course_overview")
    course = ok(await editor.get(f"/api/r/courses/{COURSE}"))
    ok(
        await editor.delete(
            f"/api/r/courses/{COURSE}", headers={"If-Match": f'"{course["_version"]}"'}
        )
    )
    gone = await ws.expect("change")
    assert (gone["change"]["op"], gone["change"]["version"]) == ("delete", before["_version"] + 1)
    assert set(gone["change"]["diff"]) == {"deleted_at"}
    shown = ok(await editor.get(f"/api/r/course_overview/{COURSE}"))
    assert shown["_deleted_at"] is not None
    listed = ok(await editor.get("/api/r/course_overview", params={"filter[id]": str(COURSE)}))
    assert listed["items"] == []
    ok(
        await editor.post(
            f"/api/r/courses/{COURSE}/restore", headers={"If-Match": f'"{course["_version"] + 1}"'}
        )
    )
    back = await ws.expect("change")
    assert (back["change"]["op"], back["change"]["version"]) == ("insert", before["_version"] + 2)
    assert back["change"]["diff"]["title"] == {"old": None, "new": before["title"]}
    assert ok(await editor.get(f"/api/r/course_overview/{COURSE}"))["_deleted_at"] is None


async def test_view_rows_are_not_audit_entries(
    client_for: ClientFor, socket_for: SocketFor
) -> None:
    editor, auditor = await client_for("editor"), await client_for("auditor")
    ws = await socket_for("auditor")
    await ws.subscribe("audit")
    await ws.subscribe(f"r/course_overview/{COURSE}")
    session = await add_session(editor, COURSE, "2031-09-01")
    logged = await ws.expect("change", topic="audit")
    assert (logged["change"]["resource"], logged["change"]["pk"]) == (
        "sessions",
        str(session["id"]),
    )
    # The view moved; an audit frame of it would have come right after this one.
    await ws.expect("change", topic=f"r/course_overview/{COURSE}")
    await ws.quiet()
    audit = ok(await auditor.get("/api/audit", params={"resource": "course_overview"}))
    assert audit["items"] == []
    # The row's own history is kept apart: its moves, from the derived log.
    moves = ok(await editor.get(f"/api/r/course_overview/{COURSE}/history"))["items"]
    assert moves[0]["source"] == "view"
    assert moves[0]["actor"] is None
    assert set(moves[0]["diff"]) >= {"sessions"}
    assert (
        moves[0]["version"] == ok(await editor.get(f"/api/r/course_overview/{COURSE}"))["_version"]
    )


async def test_a_status_change_moves_two_catalogue_figures(
    client_for: ClientFor, socket_for: SocketFor
) -> None:
    """The dashboard's figures are a Python view model keyed by status (a text key)."""
    editor, viewer = await client_for("editor"), await client_for("viewer")
    figures = {r["status"]: r for r in ok(await viewer.get("/api/r/catalogue_figures"))["items"]}
    course = ok(await editor.get(f"/api/r/courses/{COURSE}"))
    old = course["status"]
    new = "closed" if old != "closed" else "open"
    ws = await socket_for("viewer")
    await ws.subscribe("r/catalogue_figures")
    ok(await patch_record(editor, "courses", COURSE, {"status": new}, base=course["_version"]))
    moved = {f["change"]["pk"]: f["change"] for f in await ws.changes(2)}
    assert set(moved) == {old, new}
    assert moved[old]["diff"]["courses"] == {
        "old": figures[old]["courses"],
        "new": figures[old]["courses"] - 1,
    }
    assert moved[new]["diff"]["courses"]["new"] == figures.get(new, {"courses": 0})["courses"] + 1
    assert (
        ok(await viewer.get(f"/api/r/catalogue_figures/{new}"))["courses"]
        == (moved[new]["diff"]["courses"]["new"])
    )
    problem(await (await client_for("instructor")).get("/api/r/catalogue_figures"), 403)
