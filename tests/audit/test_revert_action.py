"""Revert called directly, without HTTP: a new change with ``source: "revert"``, or a refusal."""

from __future__ import annotations

import pytest

from collabadmin.audit.revert import Revert
from collabadmin.changelog.conflicts import Precondition
from collabadmin.errors import Conflict, Forbidden, NotFound, ValidationFailed
from collabadmin.resources.actions import PatchRecord
from tests.domain import ActorFor, Domain, actor_for, changes_of, services

__all__ = ["actor_for", "services"]  # fixtures


async def test_revert_writes_the_old_values_back_as_a_revert(
    services: Domain, actor_for: ActorFor, conninfo: str
) -> None:
    editor, admin = await actor_for("editor"), await actor_for("admin")
    records = services.records
    before = await records.get(editor, "courses", "2")
    await PatchRecord(records=records, actor=editor, resource="courses", pk="2",
                      changes={"title": "Wrong", "status": "open"},
                      precondition=Precondition(1, strict=True)).execute()  # fmt: skip
    change_id = changes_of(conninfo, "courses", 2)[-1]["id"]
    revert = Revert(records=records, actor=admin, resource="courses", pk="2",
                    change_id=change_id, fields=["title"], request_id="undo-1")  # fmt: skip
    await revert.check()
    written = await revert.execute()
    assert (written.body["title"], written.body["status"]) == (before["title"], "open")
    entry = changes_of(conninfo, "courses", 2)[-1]
    assert (entry["source"], entry["actor_name"], entry["request_id"]) == (
        "revert",
        "Admin",
        "undo-1",
    )
    assert set(entry["diff"]) == {"title"}


async def test_revert_refuses_what_it_must(
    services: Domain, actor_for: ActorFor, conninfo: str
) -> None:
    editor, viewer = await actor_for("editor"), await actor_for("viewer")
    records = services.records
    await PatchRecord(records=records, actor=editor, resource="courses", pk="3",
                      changes={"title": "First"},
                      precondition=Precondition(1, strict=True)).execute()  # fmt: skip
    change_id = changes_of(conninfo, "courses", 3)[-1]["id"]
    await PatchRecord(records=records, actor=editor, resource="courses", pk="3",
                      changes={"title": "Second"},
                      precondition=Precondition(2, strict=True)).execute()  # fmt: skip

    def revert(fields: list[str] | None = None, change: int = change_id) -> Revert:
        return Revert(records=records, actor=editor, resource="courses", pk="3",
                      change_id=change, fields=fields)  # fmt: skip

    with pytest.raises(Forbidden):
        await Revert(records=records, actor=viewer, resource="courses", pk="3",
                     change_id=change_id).check()  # fmt: skip
    with pytest.raises(ValidationFailed):
        await revert(["status"]).check()  # the change did not touch it
    with pytest.raises(NotFound):
        await revert(change=10**12).check()
    with pytest.raises(Conflict) as clash:  # the title changed again since
        await revert().execute()
    assert clash.value.extensions["conflicts"][0]["theirs"] == "Second"
