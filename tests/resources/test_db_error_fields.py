"""Database constraint errors name the field when the database says which, else the constraint."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import psycopg
import pytest

from tests.conftest import ClientFor
from tests.helpers import get_record, ok, patch_record, problem

NEW_COURSE = {"title": "Compilers", "short_name": "cc-201", "status": "draft"}
CHECK = "courses_title_not_shouting"


def _alter_courses(conninfo: str, statement: str) -> None:
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(statement)


@pytest.fixture
async def shouting_check(conninfo: str) -> AsyncIterator[None]:
    """A CHECK constraint the application does not know about (only the database does).

    Added and dropped from a thread: the ALTER waits for any transaction
    open on courses, and the in-process background tasks holding one can
    only finish while this event loop runs.
    """
    await asyncio.to_thread(
        _alter_courses,
        conninfo,
        f"ALTER TABLE courses ADD CONSTRAINT {CHECK} CHECK (title <> upper(title)) NOT VALID",
    )
    try:
        yield
    finally:
        await asyncio.to_thread(
            _alter_courses, conninfo, f"ALTER TABLE courses DROP CONSTRAINT {CHECK}"
        )


@pytest.mark.usefixtures("shouting_check")
async def test_check_violation_names_its_constraint(client_for: ClientFor) -> None:
    editor = await client_for("editor")
    record = await get_record(editor, "courses", 3)
    body = problem(
        await patch_record(editor, "courses", 3, {"title": "LOUD"}, base=record["_version"]), 422
    )
    # No column is named for a table CHECK: the form shows it as the whole record's error.
    assert body["errors"] == [
        {"field": "_", "message": f"A value breaks a database check ({CHECK})."}
    ]
    assert (await get_record(editor, "courses", 3))["title"] == record["title"]


async def test_unique_violation_names_the_column(client_for: ClientFor) -> None:
    editor = await client_for("editor")
    ok(await editor.post("/api/r/courses", json=NEW_COURSE), 201)
    body = problem(await editor.post("/api/r/courses", json=NEW_COURSE), 409)
    assert body["constraint"] == "courses_short_name_live"
    assert body["errors"] == [
        {"field": "short_name", "message": "A record with the same unique value already exists."}
    ]
    assert "cc-201" not in str(body)  # the database's detail carries the value; it stays inside


async def test_a_delete_blocked_by_references_names_the_constraint(client_for: ClientFor) -> None:
    admin = await client_for("admin")
    body = problem(
        await admin.delete("/api/r/courses/1?purge=true", headers={"If-Match": '"1"'}), 409
    )
    assert body["sqlstate"] == "23503"
    [error] = body["errors"]
    assert error["field"] == "_"  # not the referenced key: no field of this record to correct
    assert body["constraint"] in error["message"]
