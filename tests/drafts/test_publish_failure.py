"""A publish that fails reaches the draft's author, whether it was "publish now" or scheduled."""

from __future__ import annotations

from tests.conftest import ClientFor
from tests.drafts.conftest import SocketFor
from tests.drafts.test_drafts import approved, start_draft, step
from tests.helpers import get_record, ok, patch_record, problem


async def test_publish_now_conflict_is_recorded_for_the_author(
    client_for: ClientFor, socket_for: SocketFor
) -> None:
    editor, admin, reviewer = (
        await client_for("editor"),
        await client_for("admin"),
        await client_for("reviewer"),
    )
    author_socket = await socket_for("editor")
    await author_socket.subscribe("drafts")
    base = await get_record(editor, "courses", 7)
    draft = await start_draft(editor, "courses", 7, {"title": "Draft title"})
    await approved(editor, reviewer, draft)
    ok(await patch_record(admin, "courses", 7, {"title": "Live title"}, base=base["_version"]))

    # The reviewer is told at once (409, three-way) and nothing is written...
    refused = problem(await step(reviewer, draft, "publish"), 409)
    assert [c["field"] for c in refused["conflicts"]] == ["title"]
    assert (await get_record(editor, "courses", 7))["title"] == "Live title"

    # ...and the author is told on the drafts topic, as a failed publish, not an edit.
    while True:
        frame = await author_socket.expect("draft", timeout=10)
        earlier = ("created", "submitted", "approved")
        if frame["draft"]["id"] == draft["id"] and frame["event"] not in earlier:
            break
    assert frame["event"] == "publish_failed"
    reviewer_me = ok(await reviewer.get("/api/auth/me"))["user"]
    assert frame["change"]["actor"]["id"] == reviewer_me["id"]

    # The draft carries the conflict for its author's page, and the trail says so.
    shown = ok(await editor.get(f"/api/drafts/{draft['id']}"))
    assert shown["status"] == "approved"
    assert shown["publish_error"]["status"] == 409
    assert shown["publish_error"]["conflicts"] == [
        {"field": "title", "base": base["title"], "theirs": "Live title", "yours": "Draft title"}
    ]
    said = "The live record changed the same fields since the draft was started."
    assert shown["publish_error"]["detail"] == said
    trail = ok(await editor.get(f"/api/drafts/{draft['id']}/comments"))["items"]
    assert (trail[-1]["action"], trail[-1]["comment"]) == ("publish_failed", said)
    assert trail[-1]["actor"]["id"] == reviewer_me["id"]

    # Rejecting does not lose it: the author still sees what to rebase.
    ok(await step(reviewer, draft, "reject", comment="Conflicts with the live title"))
    rejected = ok(await editor.get(f"/api/drafts/{draft['id']}"))
    assert rejected["status"] == "rejected"
    assert [c["field"] for c in rejected["publish_error"]["conflicts"]] == ["title"]

    # The author rebases (keeping the draft's title), which clears the failure; the loop is broken.
    rebased = ok(
        await editor.post(
            f"/api/drafts/{draft['id']}/rebase", json={"resolutions": {"title": "yours"}}
        )
    )
    assert rebased["status"] == "draft"
    assert rebased["publish_error"] is None
    await approved(editor, reviewer, rebased)
    published = ok(await step(reviewer, draft, "publish"))
    assert published["record"]["title"] == "Draft title"


async def test_publish_now_to_a_deleted_record_is_recorded(client_for: ClientFor) -> None:
    editor, reviewer = await client_for("editor"), await client_for("reviewer")
    draft = await start_draft(editor, "courses", 8, {"title": "Fine for now"})
    await approved(editor, reviewer, draft)
    # A deleted record cannot be published to: recorded, not only answered.
    record = await get_record(editor, "courses", 8)
    ok(await editor.delete("/api/r/courses/8", headers={"If-Match": f'"{record["_version"]}"'}))
    refused = problem(await step(reviewer, draft, "publish"), 409)
    shown = ok(await editor.get(f"/api/drafts/{draft['id']}"))
    assert shown["publish_error"]["status"] == 409
    assert shown["publish_error"]["detail"] == refused["detail"]
    trail = ok(await editor.get(f"/api/drafts/{draft['id']}/comments"))["items"]
    assert (trail[-1]["action"], trail[-1]["comment"]) == ("publish_failed", refused["detail"])
    assert shown["status"] == "approved"
