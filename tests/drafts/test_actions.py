"""Draft actions called directly, without HTTP: who may, what conflicts, what is logged."""

from __future__ import annotations

from typing import Any

import pytest

from collabadmin.changelog.conflicts import Precondition
from collabadmin.db.engine import Actor
from collabadmin.drafts.actions import CommentOnDraft, CreateDraft, EditDraft, TransitionDraft
from collabadmin.drafts.publish import PublishDraft, RebaseDraft
from collabadmin.drafts.service import TransitionName
from collabadmin.errors import Conflict, Forbidden, NotFound, ValidationFailed
from collabadmin.resources.actions import PatchRecord
from tests.conftest import taught_courses
from tests.domain import ActorFor, Domain, actor_for, changes_of, last_change, services

__all__ = ["actor_for", "services"]  # fixtures


async def draft_of(services: Domain, actor: Actor, pk: str, data: dict[str, Any]) -> int:
    body = await CreateDraft(
        drafts=services.drafts, actor=actor, resource="courses", pk=pk, data=data
    ).execute()
    draft_id: int = body["id"]
    return draft_id


async def move(
    services: Domain, actor: Actor, draft: int, transition: TransitionName
) -> dict[str, Any]:
    return await TransitionDraft(
        drafts=services.drafts, actor=actor, draft=draft, transition=transition
    ).execute()


async def test_create_draft_needs_edit_rights_on_the_record(
    services: Domain, actor_for: ActorFor, conninfo: str
) -> None:
    editor, viewer = await actor_for("editor"), await actor_for("viewer")
    instructor = await actor_for("instructor")
    with pytest.raises(Forbidden):
        await CreateDraft(drafts=services.drafts, actor=viewer, resource="courses", pk="1",
                          data={"title": "No"}).check()  # fmt: skip
    other = next(pk for pk in range(1, 61) if pk not in taught_courses(conninfo))
    with pytest.raises(NotFound):
        await CreateDraft(drafts=services.drafts, actor=instructor, resource="courses",
                          pk=str(other), data={"description": "No"}).execute()  # fmt: skip
    draft = await draft_of(services, editor, "1", {"title": "Drafted"})
    entry = last_change(conninfo, "drafts", draft)
    assert (entry["op"], entry["actor_name"], entry["source"]) == ("insert", "Editor", "api")
    assert [e["op"] for e in changes_of(conninfo, "courses", 1)] == ["insert"]  # untouched


async def test_edit_draft_is_versioned_like_a_record(services: Domain, actor_for: ActorFor) -> None:
    alice, bob = await actor_for("editor"), await actor_for("admin")
    draft = await draft_of(services, alice, "2", {"title": "First"})

    def edit(actor: Actor, data: dict[str, Any], base: int) -> EditDraft:
        return EditDraft(drafts=services.drafts, actor=actor, draft=draft, data=data,
                         precondition=Precondition(base, strict=False))  # fmt: skip

    await edit(alice, {"title": "Alice"}, 1).execute()
    merged = await edit(bob, {"description": "Bob"}, 1).execute()
    assert merged["data"] == {"title": "Alice", "description": "Bob"}
    with pytest.raises(Conflict) as clash:
        await edit(bob, {"title": "Bob"}, 1).execute()
    assert clash.value.extensions["conflicts"] == [
        {"field": "title", "base": "First", "theirs": "Alice", "yours": "Bob"}
    ]
    with pytest.raises(Forbidden):
        await edit(await actor_for("reviewer"), {"title": "Reviewer"}, 3).check()


async def test_review_transitions_follow_the_state_machine(
    services: Domain, actor_for: ActorFor
) -> None:
    editor, reviewer = await actor_for("editor"), await actor_for("reviewer")
    draft = await draft_of(services, editor, "3", {"title": "For review"})
    with pytest.raises(Forbidden):  # approving needs publish
        await move(services, editor, draft, "approve")
    with pytest.raises(Conflict):  # only a submitted draft can be approved
        await move(services, reviewer, draft, "approve")
    assert (await move(services, editor, draft, "submit"))["status"] == "submitted"
    assert (await move(services, reviewer, draft, "reject"))["status"] == "rejected"
    trail = await CommentOnDraft(
        drafts=services.drafts, actor=reviewer, draft=draft, comment="Shorter, please."
    ).execute()
    assert [(e["action"], e["actor"]["name"]) for e in trail] == [
        ("created", "Editor"), ("submit", "Editor"), ("reject", "Reviewer"),
        ("commented", "Reviewer"),
    ]  # fmt: skip
    with pytest.raises(Forbidden):
        await CommentOnDraft(drafts=services.drafts, actor=await actor_for("viewer"),
                             draft=draft, comment="Hi").check()  # fmt: skip


async def test_publish_writes_the_record_as_one_draft_change(
    services: Domain, actor_for: ActorFor, conninfo: str
) -> None:
    editor, reviewer = await actor_for("editor"), await actor_for("reviewer")
    draft = await draft_of(services, editor, "4", {"title": "Published"})
    await move(services, editor, draft, "submit")
    await move(services, reviewer, draft, "approve")
    with pytest.raises(Forbidden):  # publishing needs publish
        await PublishDraft(drafts=services.drafts, actor=editor, draft=draft).check()
    published = await PublishDraft(
        drafts=services.drafts, actor=reviewer, draft=draft, request_id="publish-1"
    ).execute()
    assert published["status"] == "published"
    assert (published["record"]["title"], published["record"]["_version"]) == ("Published", 2)
    entry = last_change(conninfo, "courses", 4)
    assert (entry["source"], entry["actor_name"], entry["request_id"]) == (
        "draft",
        "Reviewer",
        "publish-1",
    )
    assert set(entry["diff"]) == {"title"}


async def test_a_conflicting_publish_is_recorded_and_rebased(
    services: Domain, actor_for: ActorFor, conninfo: str
) -> None:
    editor, reviewer, admin = (
        await actor_for("editor"), await actor_for("reviewer"), await actor_for("admin")
    )  # fmt: skip
    draft = await draft_of(services, editor, "5", {"title": "Mine", "status": "open"})
    await move(services, editor, draft, "submit")
    await move(services, reviewer, draft, "approve")
    await PatchRecord(records=services.records, actor=admin, resource="courses", pk="5",
                      changes={"title": "Theirs"},
                      precondition=Precondition(1, strict=True)).execute()  # fmt: skip
    with pytest.raises(Conflict) as clash:
        await PublishDraft(drafts=services.drafts, actor=reviewer, draft=draft).execute()
    assert [c["field"] for c in clash.value.extensions["conflicts"]] == ["title"]
    shown = await services.drafts.get(editor, str(draft))
    assert (shown["status"], shown["publish_error"]["status"]) == ("approved", 409)
    assert [e["source"] for e in changes_of(conninfo, "courses", 5)] == ["db", "api"]

    def rebase(resolutions: dict[str, Any]) -> RebaseDraft:
        return RebaseDraft(drafts=services.drafts, actor=editor, draft=draft,
                           resolutions=resolutions)  # fmt: skip

    with pytest.raises(ValidationFailed):  # every conflict needs a choice
        await rebase({}).execute()
    rebased = await rebase({"title": "theirs"}).execute()
    assert (rebased["status"], rebased["data"], rebased["base_version"]) == (
        "draft",
        {"status": "open"},
        2,
    )
