"""Record actions called directly, without HTTP: who may, what conflicts, what is logged."""

from __future__ import annotations

from typing import Any

import pytest

from collabadmin.changelog.conflicts import Precondition
from collabadmin.db.engine import Actor
from collabadmin.errors import (
    Conflict,
    Forbidden,
    NotFound,
    PreconditionFailed,
    ValidationFailed,
)
from collabadmin.resources.actions import (
    CreateRecord,
    PatchRecord,
    Purge,
    Restore,
    SoftDelete,
)
from tests.conftest import taught_courses
from tests.domain import ActorFor, Domain, actor_for, changes_of, last_change, services

__all__ = ["actor_for", "services"]  # fixtures

BASE = Precondition(1, strict=False)
STRICT = Precondition(1, strict=True)


def patch(
    services: Domain,
    actor: Actor,
    pk: str,
    changes: dict[str, Any],
    precondition: Precondition = BASE,
    *,
    request_id: str | None = None,
) -> PatchRecord:
    """A PatchRecord of a course (``X-Base-Version: 1`` unless told otherwise)."""
    return PatchRecord(
        records=services.records,
        actor=actor,
        resource="courses",
        pk=pk,
        changes=changes,
        precondition=precondition,
        request_id=request_id,
    )


async def test_patch_writes_one_change_with_its_actor_source_and_request(
    services: Domain, actor_for: ActorFor, conninfo: str
) -> None:
    editor = await actor_for("editor")
    action = patch(services, editor, "3", {"title": "Patched"}, request_id="req-1")
    await action.check()
    written = await action.execute()
    assert (written.body["title"], written.body["_version"]) == ("Patched", 2)
    entry = last_change(conninfo, "courses", 3)
    assert (entry["op"], entry["actor_id"], entry["actor_name"]) == ("update", editor.id, "Editor")
    assert (entry["source"], entry["request_id"], entry["version"]) == ("api", "req-1", 2)
    assert set(entry["diff"]) == {"title"}


async def test_patch_refuses_before_writing(
    services: Domain, actor_for: ActorFor, conninfo: str
) -> None:
    viewer, instructor = await actor_for("viewer"), await actor_for("instructor")
    with pytest.raises(Forbidden):
        await patch(services, viewer, "1", {"title": "No"}).check()
    with pytest.raises(Forbidden):
        await patch(services, viewer, "1", {"title": "No"}).execute()
    other = next(pk for pk in range(1, 61) if pk not in taught_courses(conninfo))
    with pytest.raises(NotFound):  # outside its row scope: as if it did not exist
        await patch(services, instructor, str(other), {"description": "No"}).execute()
    mine = taught_courses(conninfo)[0]
    with pytest.raises(ValidationFailed) as refused:  # a field it may not read, nor write
        await patch(services, instructor, str(mine), {"internal_notes": "No"}).execute()
    assert [e.field for e in refused.value.errors] == ["internal_notes"]
    with pytest.raises(NotFound):
        await patch(services, instructor, "not-a-key", {}).check()
    assert [e["op"] for e in changes_of(conninfo, "courses", 1)] == ["insert"]


async def test_patch_conflicts_are_decided_under_the_lock(
    services: Domain, actor_for: ActorFor, conninfo: str
) -> None:
    alice, bob = await actor_for("editor"), await actor_for("admin")
    await patch(services, alice, "4", {"title": "Alice"}).execute()
    with pytest.raises(Conflict) as merged:
        await patch(services, bob, "4", {"title": "Bob", "status": "closed"}).execute()
    assert [c["field"] for c in merged.value.extensions["conflicts"]] == ["title"]
    with pytest.raises(PreconditionFailed) as strict:
        await patch(services, bob, "4", {"status": "closed"}, STRICT).execute()
    assert strict.value.extensions["conflicts"] == []
    disjoint = await patch(services, bob, "4", {"status": "closed"}).execute()
    assert (disjoint.body["title"], disjoint.body["status"]) == ("Alice", "closed")
    assert [e["actor_name"] for e in changes_of(conninfo, "courses", 4)[1:]] == ["Editor", "Admin"]


async def test_patch_runs_inside_a_callers_transaction(
    services: Domain, actor_for: ActorFor, conninfo: str
) -> None:
    """What a bulk edit does: many rows, one transaction, its own source; a refusal skips a row."""
    editor = await actor_for("editor")
    await patch(services, editor, "6", {"title": "Changed first"}).execute()
    done, refused = [], []
    async with services.db.transaction(editor, source="workflow", request_id="bulk-1") as tx:
        for pk in ("5", "6", "7"):
            # Strict: 6 moved on since version 1, so it is refused and nothing of it written.
            try:
                await patch(services, editor, pk, {"description": f"Bulk {pk}"}, STRICT).execute(tx)
            except PreconditionFailed:
                refused.append(pk)
            else:
                done.append(pk)
    assert (done, refused) == (["5", "7"], ["6"])
    entries = [last_change(conninfo, "courses", pk) for pk in done]
    assert {(e["source"], e["request_id"], e["version"]) for e in entries} == {
        ("workflow", "bulk-1", 2)
    }
    assert len({e["txid"] for e in entries}) == 1
    assert last_change(conninfo, "courses", 6)["diff"].keys() == {"title"}
    # A refusal the caller lets through undoes the whole transaction.

    async def both() -> None:
        async with services.db.transaction(editor) as tx:
            await patch(services, editor, "8", {"title": "a"}).execute(tx)
            await patch(services, editor, "8", {"title": "b"}, STRICT).execute(tx)

    with pytest.raises(PreconditionFailed):
        await both()
    assert [e["op"] for e in changes_of(conninfo, "courses", 8)] == ["insert"]


async def test_create_checks_the_body_before_any_write(
    services: Domain, actor_for: ActorFor, conninfo: str
) -> None:
    editor, viewer = await actor_for("editor"), await actor_for("viewer")
    body = {"title": "Made directly", "short_name": "direct-1", "status": "draft"}
    with pytest.raises(Forbidden):
        await CreateRecord(records=services.records, actor=viewer, resource="courses",
                           values=body).check()  # fmt: skip
    with pytest.raises(ValidationFailed):
        await CreateRecord(records=services.records, actor=editor, resource="courses",
                           values={"title": ""}).check()  # fmt: skip
    created = await CreateRecord(
        records=services.records, actor=editor, resource="courses", values=body
    ).execute()
    entry = last_change(conninfo, "courses", created.row["id"])
    assert (entry["op"], entry["actor_name"], entry["source"]) == ("insert", "Editor", "api")


async def test_delete_restore_and_purge_take_the_version_seen(
    services: Domain, actor_for: ActorFor, conninfo: str
) -> None:
    editor, admin = await actor_for("editor"), await actor_for("admin")
    created = await CreateRecord(
        records=services.records, actor=editor, resource="courses",
        values={"title": "Short-lived", "short_name": "short-1"},
    ).execute()  # fmt: skip
    pk = created.row["id"]
    records, key = services.records, str(pk)
    with pytest.raises(PreconditionFailed):
        await SoftDelete(records=records, actor=editor, resource="courses", pk=key,
                         version=2).execute()  # fmt: skip
    deleted = await SoftDelete(records=records, actor=editor, resource="courses", pk=key,
                               version=1).execute()  # fmt: skip
    assert deleted.body["_deleted_at"] is not None
    with pytest.raises(Conflict):  # a deleted record is not changed, only restored
        await patch(services, editor, key, {"title": "x"}, Precondition(2, strict=True)).execute()
    restored = await Restore(records=records, actor=editor, resource="courses", pk=key,
                             version=2).execute()  # fmt: skip
    assert restored.body["_deleted_at"] is None
    with pytest.raises(Forbidden):  # purging needs a superuser
        await Purge(records=records, actor=editor, resource="courses", pk=key, version=3).check()
    await Purge(records=records, actor=admin, resource="courses", pk=key, version=3).execute()
    ops = [(e["op"], e["actor_name"]) for e in changes_of(conninfo, "courses", pk)]
    assert ops == [("insert", "Editor"), ("delete", "Editor"), ("restore", "Editor"),
                   ("purge", "Admin")]  # fmt: skip
