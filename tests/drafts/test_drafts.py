"""Drafts: staging, review transitions, preview, publish, conflicts and rebase."""

from __future__ import annotations

from typing import Any

import httpx
import psycopg
import pytest

from tests.conftest import ClientFor, taught_courses
from tests.helpers import field_errors, get_record, history, ok, patch_record, problem


async def start_draft(
    client: httpx.AsyncClient, resource: str, pk: Any, data: dict[str, Any]
) -> dict[str, Any]:
    response = await client.post(f"/api/r/{resource}/{pk}/drafts", json={"data": data})
    body: dict[str, Any] = ok(response, 201)
    assert response.headers["location"] == f"/api/drafts/{body['id']}"
    return body


async def step(
    client: httpx.AsyncClient, draft: dict[str, Any], action: str, **body: Any
) -> httpx.Response:
    return await client.post(f"/api/drafts/{draft['id']}/{action}", json=body)


async def approved(
    author: httpx.AsyncClient, reviewer: httpx.AsyncClient, draft: dict[str, Any]
) -> dict[str, Any]:
    ok(await step(author, draft, "submit"))
    body: dict[str, Any] = ok(await step(reviewer, draft, "approve", comment="Looks good"))
    assert body["status"] == "approved"
    return body


async def test_draft_leaves_the_live_record_alone_until_published(client_for: ClientFor) -> None:
    editor, reviewer = await client_for("editor"), await client_for("reviewer")
    before = await get_record(editor, "courses", 1)
    draft = await start_draft(editor, "courses", 1, {"title": "Drafted title"})
    assert draft["status"] == "draft"
    assert draft["base_version"] == before["_version"]
    assert draft["data"] == {"title": "Drafted title"}
    assert draft["author"]["name"] == "Editor"
    assert await get_record(editor, "courses", 1) == before

    shown = ok(await editor.get(f"/api/drafts/{draft['id']}"))
    assert shown["diff"] == {"title": {"live": before["title"], "draft": "Drafted title"}}

    preview = ok(await reviewer.get(f"/api/drafts/{draft['id']}/preview"))
    assert preview["title"] == "Drafted title"
    assert preview["short_name"] == before["short_name"]
    assert preview["_draft"]["id"] == draft["id"]

    await approved(editor, reviewer, draft)
    published = ok(await step(reviewer, draft, "publish", comment="Ship it"))
    assert published["status"] == "published"
    assert published["record"]["title"] == "Drafted title"
    assert published["published_version"] == before["_version"] + 1
    live = await get_record(editor, "courses", 1)
    assert live["title"] == "Drafted title"
    assert live["_version"] == before["_version"] + 1
    change = (await history(editor, "courses", 1))[0]
    assert change["source"] == "draft"
    assert change["actor"]["name"] == "Reviewer"
    assert change["diff"] == {"title": {"old": before["title"], "new": "Drafted title"}}


async def test_every_transition_is_recorded_with_who_and_comment(client_for: ClientFor) -> None:
    editor, reviewer = await client_for("editor"), await client_for("reviewer")
    draft = await start_draft(editor, "courses", 2, {"description": "New text"})
    ok(await step(editor, draft, "submit", comment="Please review"))
    rejected = ok(await step(reviewer, draft, "reject", comment="Too short"))
    assert rejected["status"] == "rejected"
    patched = await editor.patch(
        f"/api/drafts/{draft['id']}",
        json={"data": {"description": "Much longer text"}},
        headers={"If-Match": f'"{rejected["_version"]}"'},
    )
    assert ok(patched)["data"] == {"description": "Much longer text"}
    ok(await step(editor, draft, "submit"))
    ok(await step(reviewer, draft, "approve"))
    ok(await step(reviewer, draft, "publish"))
    ok(await reviewer.post(f"/api/drafts/{draft['id']}/comments", json={"comment": "Thanks"}), 201)

    trail = ok(await editor.get(f"/api/drafts/{draft['id']}/comments"))["items"]
    assert [(e["action"], e["from_status"], e["to_status"], e["actor"]["name"]) for e in trail] == [
        ("created", "draft", "draft", "Editor"),
        ("submit", "draft", "submitted", "Editor"),
        ("reject", "submitted", "rejected", "Reviewer"),
        ("submit", "rejected", "submitted", "Editor"),
        ("approve", "submitted", "approved", "Reviewer"),
        ("published", "approved", "published", "Reviewer"),
        ("commented", "published", "published", "Reviewer"),
    ]
    assert trail[1]["comment"] == "Please review"
    assert trail[2]["comment"] == "Too short"
    assert all(e["at"] for e in trail)


@pytest.mark.parametrize(
    ("action", "status"),
    [("approve", "draft"), ("publish", "draft"), ("reject", "draft"), ("submit", "submitted")],
)
async def test_invalid_transitions_are_409_with_the_current_status(
    client_for: ClientFor, action: str, status: str
) -> None:
    editor, admin = await client_for("editor"), await client_for("admin")
    draft = await start_draft(editor, "courses", 3, {"title": "T"})
    if status == "submitted":
        ok(await step(editor, draft, "submit"))
    body = problem(await step(admin, draft, action), 409)
    assert body["draft_status"] == status
    assert body["detail"]
    assert ok(await admin.get(f"/api/drafts/{draft['id']}"))["status"] == status


async def test_published_and_discarded_drafts_are_final(client_for: ClientFor) -> None:
    editor, admin = await client_for("editor"), await client_for("admin")
    draft = await start_draft(editor, "courses", 4, {"title": "Gone"})
    assert ok(await step(editor, draft, "discard"))["status"] == "discarded"
    for action in ("submit", "approve", "publish", "discard"):
        problem(await step(admin, draft, action), 409)
    edit = await editor.patch(
        f"/api/drafts/{draft['id']}", json={"data": {"title": "x"}}, headers={"If-Match": '"2"'}
    )
    problem(edit, 409)


async def test_publish_conflict_is_three_way_and_writes_nothing(client_for: ClientFor) -> None:
    editor, admin, reviewer = (
        await client_for("editor"),
        await client_for("admin"),
        await client_for("reviewer"),
    )
    base = await get_record(editor, "courses", 5)
    draft = await start_draft(editor, "courses", 5, {"title": "Draft title", "status": "open"})
    await approved(editor, reviewer, draft)
    ok(await patch_record(admin, "courses", 5, {"title": "Live title"}, base=base["_version"]))

    body = problem(await step(reviewer, draft, "publish"), 409)
    assert body["conflicts"] == [
        {"field": "title", "base": base["title"], "theirs": "Live title", "yours": "Draft title"}
    ]
    assert body["current"]["title"] == "Live title"
    live = await get_record(editor, "courses", 5)
    assert live["title"] == "Live title"
    assert live["status"] == base["status"]
    assert ok(await editor.get(f"/api/drafts/{draft['id']}"))["status"] == "approved"

    # The author rebases: takes theirs for the title, keeps the status, resubmits.
    missing = await editor.post(f"/api/drafts/{draft['id']}/rebase", json={"resolutions": {}})
    assert field_errors(missing) == {"title": "Choose theirs or yours."}
    rebased = ok(
        await editor.post(
            f"/api/drafts/{draft['id']}/rebase", json={"resolutions": {"title": "theirs"}}
        )
    )
    assert rebased["status"] == "draft"
    assert rebased["base_version"] == live["_version"]
    assert rebased["data"] == {"status": "open"}
    await approved(editor, reviewer, rebased)
    published = ok(await step(reviewer, draft, "publish"))
    assert published["record"]["title"] == "Live title"
    assert published["record"]["status"] == "open"


async def test_rebase_keeping_yours_overrides_on_publish(client_for: ClientFor) -> None:
    editor, admin, reviewer = (
        await client_for("editor"),
        await client_for("admin"),
        await client_for("reviewer"),
    )
    draft = await start_draft(editor, "courses", 6, {"title": "Mine"})
    ok(await patch_record(admin, "courses", 6, {"title": "Theirs"}, if_match=1))
    ok(
        await editor.post(
            f"/api/drafts/{draft['id']}/rebase", json={"resolutions": {"title": "yours"}}
        )
    )
    await approved(editor, reviewer, draft)
    assert ok(await step(reviewer, draft, "publish"))["record"]["title"] == "Mine"


async def test_disjoint_live_change_does_not_block_publish(client_for: ClientFor) -> None:
    editor, admin, reviewer = (
        await client_for("editor"),
        await client_for("admin"),
        await client_for("reviewer"),
    )
    draft = await start_draft(editor, "courses", 7, {"title": "Draft"})
    ok(await patch_record(admin, "courses", 7, {"description": "Live edit"}, if_match=1))
    await approved(editor, reviewer, draft)
    record = ok(await step(reviewer, draft, "publish"))["record"]
    assert (record["title"], record["description"], record["_version"]) == ("Draft", "Live edit", 3)


async def test_draft_of_a_new_record_is_validated_on_publish(client_for: ClientFor) -> None:
    editor, reviewer = await client_for("editor"), await client_for("reviewer")
    response = await editor.post("/api/r/courses/drafts", json={"data": {"title": "Brand new"}})
    draft = ok(response, 201)
    assert (draft["pk"], draft["base_version"]) == (None, None)
    preview = ok(await reviewer.get(f"/api/drafts/{draft['id']}/preview"))
    assert preview["title"] == "Brand new"
    await approved(editor, reviewer, draft)
    # short_name is required: publishing fails as a 422 and writes nothing.
    assert "short_name" in field_errors(await step(reviewer, draft, "publish"))
    assert ok(await reviewer.get(f"/api/drafts/{draft['id']}"))["status"] == "approved"
    ok(await step(reviewer, draft, "reject", comment="needs a short name"))
    current = ok(await editor.get(f"/api/drafts/{draft['id']}"))
    ok(
        await editor.patch(
            f"/api/drafts/{draft['id']}",
            json={"data": {"short_name": "brand-new"}},
            headers={"If-Match": f'"{current["_version"]}"'},
        )
    )
    await approved(editor, reviewer, draft)
    published = ok(await step(reviewer, draft, "publish"))
    pk = published["record"]["id"]
    assert published["pk"] == str(pk)
    created = await get_record(editor, "courses", pk)
    assert (created["title"], created["short_name"], created["_version"]) == (
        "Brand new",
        "brand-new",
        1,
    )
    assert (await history(editor, "courses", pk))[0]["source"] == "draft"


async def test_bad_draft_input_is_4xx(client_for: ClientFor) -> None:
    editor = await client_for("editor")
    long_title = await editor.post("/api/r/courses/1/drafts", json={"data": {"title": "x" * 201}})
    assert set(field_errors(long_title)) == {"title"}
    errors = field_errors(await editor.post("/api/r/courses/1/drafts", json={"data": {"nope": 1}}))
    assert errors == {"nope": "Unknown field."}
    assert "data" in field_errors(await editor.post("/api/r/courses/1/drafts", json={"data": []}))
    assert "extra" in field_errors(await editor.post("/api/r/courses/1/drafts", json={"extra": 1}))
    problem(await editor.post("/api/r/courses/999999/drafts", json={"data": {}}), 404)
    problem(await editor.post("/api/r/nothing/drafts", json={"data": {}}), 404)
    problem(await editor.get("/api/drafts/abc"), 404)
    problem(await editor.get("/api/drafts/99999999"), 404)
    problem(await editor.get("/api/drafts", params={"status": "weird"}), 400)
    problem(await editor.get("/api/drafts", params={"bogus": "1"}), 400)
    draft = await start_draft(editor, "courses", 8, {"title": "T"})
    problem(await editor.patch(f"/api/drafts/{draft['id']}", json={"data": {}}), 428)
    assert "comment" in field_errors(await step(editor, draft, "submit", comment=5))
    too_long = await editor.post(
        f"/api/drafts/{draft['id']}/comments", json={"comment": "x" * 5000}
    )
    assert "comment" in field_errors(too_long)
    when = await step(editor, draft, "publish", publish_at="tomorrow")
    assert "publish_at" in field_errors(when)
    problem(await step(editor, draft, "publish"), 403)  # an editor may not publish


async def test_draft_edits_are_versioned_like_records(client_for: ClientFor) -> None:
    alice, bob = await client_for("editor"), await client_for("admin")
    draft = await start_draft(alice, "courses", 9, {"title": "First"})
    url = f"/api/drafts/{draft['id']}"
    first = await alice.patch(url, json={"data": {"title": "Alice"}}, headers={"If-Match": '"1"'})
    assert ok(first)["_version"] == 2
    assert first.headers["etag"] == '"2"'
    stale = await bob.patch(url, json={"data": {"title": "Bob"}}, headers={"If-Match": '"1"'})
    assert problem(stale, 412)["current"]["data"]["title"] == "Alice"
    merged = await bob.patch(
        url, json={"data": {"description": "Bob"}}, headers={"X-Base-Version": "1"}
    )
    assert ok(merged)["data"] == {"title": "Alice", "description": "Bob"}
    clash = await bob.patch(url, json={"data": {"title": "Bob"}}, headers={"X-Base-Version": "1"})
    assert problem(clash, 409)["conflicts"] == [
        {"field": "title", "base": "First", "theirs": "Alice", "yours": "Bob"}
    ]
    unset = await alice.patch(url, json={"unset": ["description"]}, headers={"If-Match": '"3"'})
    assert ok(unset)["data"] == {"title": "Alice"}


async def test_draft_edits_are_in_the_change_log(client_for: ClientFor, conninfo: str) -> None:
    editor = await client_for("editor")
    draft = await start_draft(editor, "courses", 10, {"title": "Logged"})
    ok(await step(editor, draft, "submit"))
    with psycopg.connect(conninfo) as conn:
        rows = conn.execute(
            "SELECT op, actor_name, source, diff FROM collabadmin.collabadmin_change"
            " WHERE resource = 'drafts' AND pk = %s ORDER BY id",
            (str(draft["id"]),),
        ).fetchall()
    assert [(r[0], r[1], r[2]) for r in rows] == [
        ("insert", "Editor", "api"),
        ("update", "Editor", "api"),
    ]
    assert rows[0][3]["data"]["new"] == {"title": "Logged"}
    assert rows[1][3]["status"] == {"old": "draft", "new": "submitted"}


async def test_permissions(client_for: ClientFor, conninfo: str) -> None:
    editor, reviewer = await client_for("editor"), await client_for("reviewer")
    instructor, viewer = await client_for("instructor"), await client_for("viewer")
    taught = taught_courses(conninfo)
    other = next(pk for pk in range(1, 61) if pk not in taught)

    # An instructor drafts only its own courses, and only the fields it may write.
    mine = await start_draft(instructor, "courses", taught[0], {"description": "Mine"})
    problem(await instructor.post(f"/api/r/courses/{other}/drafts", json={"data": {}}), 404)
    refused = await instructor.post(
        f"/api/r/courses/{taught[0]}/drafts", json={"data": {"title": "x"}}
    )
    assert field_errors(refused) == {"title": "This field is read-only."}
    problem(await instructor.post("/api/r/courses/drafts", json={"data": {}}), 403)
    problem(await viewer.post("/api/r/courses/1/drafts", json={"data": {}}), 403)

    # An author cannot approve or publish without the publish action.
    ok(await step(instructor, mine, "submit"))
    problem(await step(instructor, mine, "approve"), 403)
    problem(await step(editor, mine, "approve"), 403)
    ok(await step(reviewer, mine, "approve"))
    problem(await step(editor, mine, "publish"), 403)
    assert ok(await step(reviewer, mine, "publish"))["status"] == "published"

    # Drafts of courses outside the instructor's scope are invisible to it.
    theirs = await start_draft(editor, "courses", other, {"title": "Hidden from instructor"})
    problem(await instructor.get(f"/api/drafts/{theirs['id']}"), 404)
    problem(await instructor.get(f"/api/drafts/{theirs['id']}/preview"), 404)
    listed = ok(await instructor.get("/api/drafts"))["items"]
    assert [d["id"] for d in listed] == [mine["id"]]
    problem(await step(viewer, theirs, "submit"), 403)
    assert ok(await viewer.get("/api/drafts", params={"resource": "courses"}))["items"]


async def test_hidden_fields_never_leave_in_drafts(client_for: ClientFor, conninfo: str) -> None:
    editor, reviewer = await client_for("editor"), await client_for("reviewer")
    instructor, viewer = await client_for("instructor"), await client_for("viewer")
    taught = taught_courses(conninfo)[0]
    marker = "SECRET-DRAFT-MARKER"
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("UPDATE courses SET internal_notes = %s WHERE id = %s", (marker, taught))
    draft = await start_draft(
        editor, "courses", taught, {"internal_notes": marker + " v2", "description": "d"}
    )
    url = f"/api/drafts/{draft['id']}"
    responses = [
        await instructor.get(url),
        await instructor.get(f"{url}/preview"),
        await instructor.get("/api/drafts"),
        await viewer.get(url),
        await viewer.get(f"{url}/preview"),
    ]
    for response in responses:
        assert ok(response)
        assert marker not in response.text
        assert "internal_notes" not in response.text
    # An instructor's edit keeps the hidden field it cannot see, and cannot name it.
    hidden = await instructor.patch(
        url, json={"unset": ["internal_notes"]}, headers={"If-Match": '"1"'}
    )
    assert field_errors(hidden) == {"internal_notes": "Unknown field."}
    edited = await instructor.patch(
        url, json={"data": {"description": "by instructor"}}, headers={"If-Match": '"1"'}
    )
    assert marker not in edited.text
    assert ok(await editor.get(url))["data"]["internal_notes"] == marker + " v2"
    # A conflict on a hidden field is not shown to someone who cannot read it.
    ok(await patch_record(editor, "courses", taught, {"internal_notes": "live"}, if_match=2))
    await approved(instructor, reviewer, draft)
    ok(await instructor.post(f"{url}/comments", json={"comment": "ready"}), 201)
    for response in [await instructor.get(url), await instructor.get(f"{url}/comments")]:
        assert marker not in response.text


async def test_auditors_find_draft_edits_in_the_audit_log(client_for: ClientFor) -> None:
    editor, auditor = await client_for("editor"), await client_for("auditor")
    draft = await start_draft(editor, "courses", 13, {"title": "Audited"})
    ok(await step(editor, draft, "submit"))
    items = ok(await auditor.get("/api/audit", params={"resource": "drafts"}))["items"]
    assert [(i["op"], i["pk"]) for i in items] == [
        ("update", str(draft["id"])),
        ("insert", str(draft["id"])),
    ]
    assert items[0]["diff"]["status"] == {"old": "draft", "new": "submitted"}
    assert items[1]["diff"]["data"]["new"] == {"title": "Audited"}
    everything = ok(await auditor.get("/api/audit"))["items"]
    assert {i["resource"] for i in everything} >= {"drafts"}
    csv = await auditor.get("/api/audit.csv", params={"resource": "drafts"})
    assert "Audited" in csv.text
    problem(
        await (await client_for("viewer")).get("/api/audit", params={"resource": "drafts"}), 403
    )
