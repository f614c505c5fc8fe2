"""A PATCH's common case: read, validate, then one UPDATE that applies only at the version read.

PatchRecord writes without a transaction of its own when it can (see
``PatchRecord._unlocked``); these tests hold it to the locked path's
semantics where the two could differ: a change committed between the read
and the write, a row that leaves the actor's scope meanwhile, a table's own
trigger that cancels the write, and the actor settings the capture trigger
records.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import psycopg
import pytest

from collabadmin.changelog.conflicts import Precondition
from collabadmin.db.engine import Actor
from collabadmin.errors import Conflict, NotFound
from collabadmin.resources.actions import PatchRecord
from collabadmin.resources.actions._rows import read_row, update_row_at
from tests.conftest import taught_courses
from tests.domain import ActorFor, Domain, actor_for, changes_of, last_change, services

__all__ = ["actor_for", "services"]  # fixtures

BASE = Precondition(1, strict=False)


def patch(services: Domain, actor: Actor, pk: int, changes: dict[str, Any]) -> PatchRecord:
    return PatchRecord(
        records=services.records,
        actor=actor,
        resource="courses",
        pk=str(pk),
        changes=changes,
        precondition=BASE,
        request_id="req-unlocked",
    )


async def test_the_update_applies_only_at_the_version_read_and_records_its_actor(
    services: Domain, actor_for: ActorFor, conninfo: str
) -> None:
    editor = await actor_for("editor")
    records = services.records
    courses = records.registry.get("courses")
    async with services.db.attributed(editor, request_id="req-at") as tx:
        row = await read_row(records, tx, editor, courses, (21,), action="change")
        assert row is not None
        assert row["version"] == 1
        stale = await update_row_at(
            records, tx, editor, courses, (21,), values={"title": "Stale"}, version=0,
            action="change",
        )  # fmt: skip
        assert stale is None
        written = await update_row_at(
            records, tx, editor, courses, (21,), values={"title": "At one"}, version=1,
            action="change",
        )  # fmt: skip
    assert written is not None
    assert (written["title"], written["version"]) == ("At one", 2)
    [insert, update] = changes_of(conninfo, "courses", 21)
    assert insert["op"] == "insert"
    assert (update["actor_id"], update["actor_name"], update["source"]) == (
        editor.id,
        "Editor",
        "api",
    )
    assert (update["request_id"], update["diff"].keys()) == ("req-at", {"title"})


def _wait_for_lock(conninfo: str, deadline: float) -> None:
    """Until a backend of the test database waits for a lock (the PATCH, for the row's)."""
    with psycopg.connect(conninfo, autocommit=True) as watcher:
        while time.monotonic() < deadline:
            waiting = watcher.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                " AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
            ).fetchone()
            if waiting and waiting[0]:
                return
            watcher.execute("SELECT pg_sleep(0.01)")  # sleep-ok: polling a condition
    raise AssertionError("the PATCH never waited for the row lock")


@pytest.mark.parametrize(
    "scenario",
    [
        ({"title": "Theirs"}, {"description": "Ours"}, True),
        ({"title": "Theirs"}, {"title": "Ours"}, False),
    ],
    ids=["disjoint fields merge", "same field conflicts"],
)
async def test_a_change_committed_between_read_and_write_is_decided_under_the_lock(
    services: Domain,
    actor_for: ActorFor,
    conninfo: str,
    scenario: tuple[dict[str, str], dict[str, str], bool],
) -> None:
    """Another session changes the row after the PATCH read it: the locked path decides."""
    theirs, ours, merged = scenario
    editor = await actor_for("editor")
    pk = 22
    with psycopg.connect(conninfo) as other:
        [(column, value)] = theirs.items()
        other.execute(f"UPDATE courses SET {column} = %s WHERE id = %s", (value, pk))
        # The PATCH reads version 1 (the other change is not committed) and
        # its UPDATE waits for the other session's row lock.
        task = asyncio.create_task(patch(services, editor, pk, ours).execute())
        await asyncio.to_thread(_wait_for_lock, conninfo, time.monotonic() + 30)
        other.commit()
    if merged:
        written = await task
        assert written.body["_version"] == 3
        assert {k: written.body[k] for k in {**theirs, **ours}} == {**theirs, **ours}
    else:
        with pytest.raises(Conflict) as refused:
            await task
        assert [c["field"] for c in refused.value.extensions["conflicts"]] == ["title"]
    versions = [e["version"] for e in changes_of(conninfo, "courses", pk)]
    assert versions == ([1, 2, 3] if merged else [1, 2])


async def test_a_row_that_left_the_scope_after_the_read_is_not_written(
    services: Domain, actor_for: ActorFor, conninfo: str
) -> None:
    instructor = await actor_for("instructor")
    records = services.records
    courses = records.registry.get("courses")
    mine = taught_courses(conninfo)[0]
    async with services.db.attributed(instructor) as tx:
        row = await read_row(records, tx, instructor, courses, (mine,), action="change")
        assert row is not None
        with psycopg.connect(conninfo, autocommit=True) as other:
            other.execute(
                "UPDATE course_instructors SET deleted_at = now() WHERE course_id = %s", (mine,)
            )
        written = await update_row_at(
            records, tx, instructor, courses, (mine,), values={"description": "Mine?"},
            version=row["version"], action="change",
        )  # fmt: skip
    assert written is None
    with pytest.raises(NotFound):
        await patch(services, instructor, mine, {"description": "Mine?"}).execute()
    assert [e["op"] for e in changes_of(conninfo, "courses", mine)] == ["insert"]


def _add_cancelling_trigger(conninfo: str) -> None:
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("CREATE TABLE cancelled_updates (course_id integer)")
        conn.execute("GRANT INSERT, SELECT ON cancelled_updates TO PUBLIC")
        conn.execute(
            "CREATE FUNCTION cancel_marked() RETURNS trigger LANGUAGE plpgsql AS $$"
            " BEGIN IF NEW.description = 'cancel me' THEN"
            "   INSERT INTO cancelled_updates VALUES (NEW.id); RETURN NULL;"
            " END IF; RETURN NEW; END $$"
        )
        conn.execute(
            "CREATE TRIGGER a_cancel_marked BEFORE UPDATE ON courses"
            " FOR EACH ROW EXECUTE FUNCTION cancel_marked()"
        )


def _drop_cancelling_trigger(conninfo: str) -> None:
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("DROP TRIGGER a_cancel_marked ON courses")
        conn.execute("DROP FUNCTION cancel_marked()")
        conn.execute("DROP TABLE cancelled_updates")


@pytest.fixture
async def cancelling_trigger(conninfo: str, fresh_data: None) -> AsyncIterator[None]:
    """A trigger of the application's own on courses: it counts, then cancels, some updates.

    Added and dropped from a thread: the DDL waits for the locks of any
    transaction open on courses, and the in-process background tasks
    holding one can only finish while this event loop runs.
    """
    await asyncio.to_thread(_add_cancelling_trigger, conninfo)
    try:
        yield
    finally:
        await asyncio.to_thread(_drop_cancelling_trigger, conninfo)


async def test_a_write_the_tables_own_trigger_cancels_is_attempted_once(
    services: Domain, actor_for: ActorFor, conninfo: str, cancelling_trigger: None
) -> None:
    editor = await actor_for("editor")
    written = await patch(services, editor, 23, {"description": "cancel me"}).execute()
    assert written.body["_version"] == 1
    assert written.body["description"] != "cancel me"
    with psycopg.connect(conninfo) as conn:
        attempts = conn.execute("SELECT count(*) FROM cancelled_updates").fetchone()
    assert attempts == (1,)
    assert [e["op"] for e in changes_of(conninfo, "courses", 23)] == ["insert"]
    # Any other change goes through the same trigger and is written.
    done = await patch(services, editor, 23, {"description": "keep me"}).execute()
    assert done.body["_version"] == 2
    assert last_change(conninfo, "courses", 23)["diff"].keys() == {"description"}
