"""PATCH: strict If-Match, field-merge X-Base-Version, and no lost update (invariant 3)."""

from __future__ import annotations

import asyncio

import httpx
import psycopg

from tests.conftest import ClientFor
from tests.helpers import field_errors, get_record, history, ok, patch_record, problem


async def test_if_match_success_returns_new_version_and_etag(client_for: ClientFor) -> None:
    editor = await client_for("editor")
    response = await patch_record(editor, "courses", 1, {"title": "Sets and Logic"}, if_match=1)
    body = ok(response)
    assert body["title"] == "Sets and Logic"
    assert body["_version"] == 2
    assert response.headers["etag"] == '"2"'
    assert (await get_record(editor, "courses", 1))["_version"] == 2


async def test_stale_if_match_is_412_with_current_and_conflicts(client_for: ClientFor) -> None:
    alice, bob = await client_for("editor"), await client_for("admin")
    original = (await get_record(alice, "courses", 1))["title"]
    ok(await patch_record(alice, "courses", 1, {"title": "Alice's"}, if_match=1))
    body = problem(await patch_record(bob, "courses", 1, {"title": "Bob's"}, if_match=1), 412)
    assert body["current"]["title"] == "Alice's"
    assert body["current"]["_version"] == 2
    assert body["conflicts"] == [
        {"field": "title", "base": original, "theirs": "Alice's", "yours": "Bob's"}
    ]
    assert (await get_record(bob, "courses", 1))["title"] == "Alice's"


async def test_strict_if_match_refuses_even_disjoint_fields(client_for: ClientFor) -> None:
    editor = await client_for("editor")
    ok(await patch_record(editor, "courses", 2, {"title": "T2"}, if_match=1))
    body = problem(await patch_record(editor, "courses", 2, {"description": "d"}, if_match=1), 412)
    assert body["conflicts"] == []
    assert (await get_record(editor, "courses", 2))["_version"] == 2


async def test_base_version_merges_disjoint_fields(client_for: ClientFor) -> None:
    alice, bob = await client_for("editor"), await client_for("admin")
    ok(await patch_record(alice, "courses", 3, {"title": "Alice title"}, base=1))
    merged = ok(await patch_record(bob, "courses", 3, {"description": "Bob text"}, base=1))
    assert merged["title"] == "Alice title"
    assert merged["description"] == "Bob text"
    assert merged["_version"] == 3


async def test_base_version_same_field_is_409_three_way(client_for: ClientFor) -> None:
    alice, bob = await client_for("editor"), await client_for("admin")
    base = await get_record(alice, "courses", 4)
    ok(await patch_record(alice, "courses", 4, {"title": "A", "description": "A desc"}, base=1))
    response = await patch_record(bob, "courses", 4, {"title": "B", "status": "closed"}, base=1)
    body = problem(response, 409)
    assert body["conflicts"] == [
        {"field": "title", "base": base["title"], "theirs": "A", "yours": "B"}
    ]
    after = await get_record(bob, "courses", 4)
    assert (after["title"], after["status"], after["_version"]) == ("A", base["status"], 2)


async def test_same_edit_by_two_people_is_not_a_conflict(client_for: ClientFor) -> None:
    alice, bob = await client_for("editor"), await client_for("admin")
    ok(await patch_record(alice, "courses", 5, {"title": "Agreed"}, base=1))
    body = ok(await patch_record(bob, "courses", 5, {"title": "Agreed"}, base=1))
    assert body["_version"] == 2


async def test_missing_precondition_is_428_and_writes_nothing(client_for: ClientFor) -> None:
    editor = await client_for("editor")
    response = await editor.patch("/api/r/courses/6", json={"title": "nope"})
    problem(response, 428)
    wildcard = await editor.patch(
        "/api/r/courses/6", json={"title": "nope"}, headers={"If-Match": "*"}
    )
    problem(wildcard, 428)
    assert (await get_record(editor, "courses", 6))["_version"] == 1


async def test_future_version_is_412(client_for: ClientFor) -> None:
    editor = await client_for("editor")
    problem(await patch_record(editor, "courses", 6, {"title": "x"}, if_match=7), 412)
    problem(await patch_record(editor, "courses", 6, {"title": "x"}, base=7), 412)


async def test_patch_that_changes_nothing_keeps_the_version(client_for: ClientFor) -> None:
    editor = await client_for("editor")
    current = await get_record(editor, "courses", 7)
    before = await history(editor, "courses", 7)
    body = ok(
        await patch_record(
            editor,
            "courses",
            7,
            {"title": current["title"], "_version": 1, "id": 7},
            if_match=1,
        )
    )
    assert body["_version"] == 1
    assert await history(editor, "courses", 7) == before


async def test_field_rules_are_422_naming_each_field(client_for: ClientFor) -> None:
    editor = await client_for("editor")
    response = await patch_record(
        editor,
        "courses",
        8,
        {
            "short_name": "changed",  # read-only once created
            "title": "",  # protected: may not be emptied
            "status": "archived",  # not a choice
            "start_date": "next tuesday",
            "category_id": "3",  # wrong type
            "colour": "red",  # unknown
        },
        if_match=1,
    )
    errors = field_errors(response)
    assert set(errors) == {"short_name", "title", "status", "start_date", "category_id", "colour"}
    assert "read-only" in errors["short_name"]
    assert errors["colour"] == "Unknown field."
    assert (await get_record(editor, "courses", 8))["_version"] == 1


async def test_patch_of_unknown_record_or_resource_is_404(client_for: ClientFor) -> None:
    editor = await client_for("editor")
    problem(await patch_record(editor, "courses", 999999, {"title": "x"}, if_match=1), 404)
    problem(await patch_record(editor, "courses", "abc", {"title": "x"}, if_match=1), 404)
    problem(await patch_record(editor, "nothing", 1, {"title": "x"}, if_match=1), 404)


async def test_bad_bodies_are_4xx_and_change_nothing(client_for: ClientFor) -> None:
    editor = await client_for("editor")
    headers = {"If-Match": '"1"', "Content-Type": "application/json"}
    problem(await editor.patch("/api/r/courses/9", content=b"{not json", headers=headers), 400)
    problem(await editor.patch("/api/r/courses/9", content=b"[1, 2]", headers=headers), 400)
    problem(await editor.patch("/api/r/courses/9", content=b"null", headers=headers), 400)
    text_headers = {"If-Match": '"1"', "Content-Type": "text/plain"}
    problem(await editor.patch("/api/r/courses/9", content=b"{}", headers=text_headers), 415)
    huge = b'{"description": "' + b"x" * (1024 * 1024 + 10) + b'"}'
    problem(await editor.patch("/api/r/courses/9", content=huge, headers=headers), 413)
    problem(await editor.patch("/api/r/courses/9", json={}, headers={"If-Match": "abc"}), 428)
    problem(await editor.patch("/api/r/courses/9", json={}, headers={"X-Base-Version": "x"}), 400)
    assert (await get_record(editor, "courses", 9))["_version"] == 1
    assert len(await history(editor, "courses", 9)) == 1


async def test_sixteen_concurrent_writers_lose_no_update(client_for: ClientFor) -> None:
    """Each writer appends its mark to one field with read-modify-write and retries.

    Without the row lock around check-and-write, two writers reading the same
    version would both succeed and one mark would vanish.
    """
    writers = [await client_for("editor") for _ in range(16)]
    rounds = 3

    async def write(client: httpx.AsyncClient, n: int) -> int:
        attempts = 0
        for r in range(rounds):
            while True:
                attempts += 1
                record = await get_record(client, "courses", 10)
                text = record["description"] + f"[{n}.{r}]"
                response = await patch_record(
                    client, "courses", 10, {"description": text}, base=record["_version"]
                )
                if response.status_code == 200:
                    break
                assert response.status_code == 409, response.text
        return attempts

    attempts = await asyncio.gather(*(write(c, n) for n, c in enumerate(writers)))
    final = await get_record(writers[0], "courses", 10)
    marks = [f"[{n}.{r}]" for n in range(16) for r in range(rounds)]
    assert all(final["description"].count(mark) == 1 for mark in marks)
    assert final["_version"] == 1 + 16 * rounds
    assert sum(attempts) >= 16 * rounds
    assert len(await history(writers[0], "courses", 10)) == 1 + 16 * rounds


async def test_sql_update_outside_the_server_is_versioned_and_in_history(
    client_for: ClientFor, conninfo: str
) -> None:
    editor = await client_for("editor")
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("UPDATE courses SET title = 'Set in psql' WHERE id = 11")
    record = await get_record(editor, "courses", 11)
    assert (record["title"], record["_version"]) == ("Set in psql", 2)
    [latest, *_] = await history(editor, "courses", 11)
    assert latest["source"] == "db"
    assert latest["actor"] is None
    assert latest["diff"]["title"]["new"] == "Set in psql"
    # A client holding version 1 now conflicts on that field, and only that one.
    problem(await patch_record(editor, "courses", 11, {"title": "mine"}, base=1), 409)
    ok(await patch_record(editor, "courses", 11, {"description": "mine"}, base=1))


async def test_api_changes_carry_actor_source_and_request_id(client_for: ClientFor) -> None:
    editor = await client_for("editor")
    response = await patch_record(editor, "courses", 12, {"title": "Attributed"}, if_match=1)
    ok(response)
    [latest, *_] = await history(editor, "courses", 12)
    assert latest["actor"]["name"] == "Editor"
    assert latest["source"] == "api"
    assert latest["request_id"] == response.headers["x-request-id"]
    assert latest["diff"] == {"title": {"old": latest["diff"]["title"]["old"], "new": "Attributed"}}
