"""``POST /api/r/{resource}/bulk`` on the demo: every outcome, roles, row scopes, bad input."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import psycopg
import pytest
from litestar import Litestar

from tests.bulk.conftest import changes, job_service, log_size
from tests.conftest import ClientFor, taught_courses
from tests.helpers import get_record, ok, patch_record, problem


async def bulk(client: httpx.AsyncClient, resource: str, body: Any) -> httpx.Response:
    return await client.post(f"/api/r/{resource}/bulk", json=body)


def _wait_for_lock(conninfo: str, deadline: float, blocker: int | None = None) -> None:
    """Until a backend of the test database waits for a lock (the bulk edit, for a row's).

    With ``blocker``, until one waits for that backend (a session holding a row).
    """
    with psycopg.connect(conninfo, autocommit=True) as watcher:
        while time.monotonic() < deadline:
            waiting = watcher.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                " AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
                " AND (%(blocker)s::int IS NULL OR %(blocker)s::int = ANY(pg_blocking_pids(pid)))",
                {"blocker": blocker},
            ).fetchone()
            if waiting and waiting[0]:
                return
            watcher.execute("SELECT pg_sleep(0.01)")  # sleep-ok: polling a condition
    raise AssertionError("the bulk edit never waited for the row lock")


async def test_update_by_keys_writes_each_row_as_its_own_bulk_change(
    client_for: ClientFor, conninfo: str
) -> None:
    editor = await client_for("editor")
    result = ok(
        await bulk(
            editor,
            "courses",
            {"op": "update", "pks": ["3", "4", "5", "999999"], "patch": {"status": "closed"}},
        )
    )
    assert sorted(result["done"]) == ["3", "4", "5"]
    assert result["not_found"] == ["999999"]
    assert result["unchanged"] == result["forbidden"] == result["conflicts"] == []
    assert result["error"] is None
    for pk in ("3", "4", "5"):
        body = await get_record(editor, "courses", pk)
        assert (body["status"], body["_version"]) == ("closed", 2)
        [insert, update] = changes(conninfo, "courses", pk)
        assert insert["op"] == "insert"
        assert (update["op"], update["source"], update["version"]) == ("update", "bulk", 2)
        assert update["actor_name"] == "Editor"
        assert set(update["diff"]) == {"status"}
        assert update["diff"]["status"]["new"] == "closed"


async def test_rows_already_as_patched_are_unchanged_and_not_logged(
    client_for: ClientFor, conninfo: str
) -> None:
    editor = await client_for("editor")
    current = await get_record(editor, "courses", 6)
    ok(await patch_record(editor, "courses", 7, {"title": "Bulk same"}, if_match=1))
    result = ok(
        await bulk(
            editor, "courses", {"op": "update", "pks": ["6", "7"], "patch": {"title": "Bulk same"}}
        )
    )
    assert result["done"] == ["6"]
    assert result["unchanged"] == ["7"]
    assert current["title"] != "Bulk same"
    assert [c["source"] for c in changes(conninfo, "courses", "7")] == ["db", "api"]


async def test_versions_report_fields_changed_since_and_merge_the_others(
    client_for: ClientFor, conninfo: str
) -> None:
    """With versions, a row whose patched fields changed since is a conflict, never written."""
    editor, admin = await client_for("editor"), await client_for("admin")
    seen = {pk: (await get_record(editor, "courses", pk))["_version"] for pk in (10, 11, 12)}
    base_title = (await get_record(editor, "courses", 10))["title"]
    # Someone else, after the client read them: 10's title, 11's description.
    ok(await patch_record(admin, "courses", 10, {"title": "Theirs"}, if_match=seen[10]))
    ok(await patch_record(admin, "courses", 11, {"description": "Theirs too"}, if_match=seen[11]))
    result = ok(
        await bulk(
            editor,
            "courses",
            {
                "op": "update",
                "pks": ["10", "11", "12"],
                "patch": {"title": "Yours"},
                "versions": {str(pk): v for pk, v in seen.items()},
            },
        )
    )
    assert sorted(result["done"]) == ["11", "12"]  # 11: another field changed, merged
    [conflict] = result["conflicts"]
    assert conflict["pk"] == "10"
    assert conflict["version"] == 2
    assert conflict["conflicts"] == [
        {"field": "title", "base": base_title, "theirs": "Theirs", "yours": "Yours"}
    ]
    assert (await get_record(editor, "courses", 10))["title"] == "Theirs"
    eleven = await get_record(editor, "courses", 11)
    assert (eleven["title"], eleven["description"]) == ("Yours", "Theirs too")
    assert [c["source"] for c in changes(conninfo, "courses", "10")] == ["db", "api"]


async def test_a_version_from_the_future_is_a_conflict(client_for: ClientFor) -> None:
    editor = await client_for("editor")
    result = ok(
        await bulk(
            editor,
            "courses",
            {"op": "update", "pks": ["13"], "patch": {"title": "X"}, "versions": {"13": 7}},
        )
    )
    assert [c["pk"] for c in result["conflicts"]] == ["13"]
    assert result["done"] == []


async def test_delete_restore_and_purge_are_strict_about_versions(
    client_for: ClientFor, conninfo: str
) -> None:
    editor, admin = await client_for("editor"), await client_for("admin")
    ok(await patch_record(admin, "courses", 21, {"description": "moved on"}, if_match=1))
    result = ok(
        await bulk(
            editor,
            "courses",
            {"op": "delete", "pks": ["20", "21"], "versions": {"20": 1, "21": 1}},
        )
    )
    assert result["done"] == ["20"]
    assert [(c["pk"], c["version"], c["conflicts"]) for c in result["conflicts"]] == [("21", 2, [])]
    assert (await get_record(editor, "courses", 20))["_deleted_at"] is not None
    # Deleting again changes nothing; restoring brings it back.
    again = ok(await bulk(editor, "courses", {"op": "delete", "pks": ["20"]}))
    assert again["unchanged"] == ["20"]
    restored = ok(await bulk(editor, "courses", {"op": "restore", "pks": ["20", "22"]}))
    assert (restored["done"], restored["unchanged"]) == (["20"], ["22"])
    assert [c["op"] for c in changes(conninfo, "courses", "20")][1:] == ["delete", "restore"]
    assert {c["source"] for c in changes(conninfo, "courses", "20")[1:]} == {"bulk"}
    # Purge is the admin's alone.
    problem(await bulk(editor, "courses", {"op": "purge", "pks": ["23"]}), 403)
    sessions = ok(await editor.get("/api/r/sessions", params={"filter[course_id]": "23"}))
    for s in sessions["items"]:
        ok(
            await admin.delete(
                f"/api/r/sessions/{s['id']}?purge=true", headers={"If-Match": f'"{s["_version"]}"'}
            ),
            204,
        )
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("DELETE FROM course_instructors WHERE course_id = 23")
    purged = ok(await bulk(admin, "courses", {"op": "purge", "pks": ["23"]}))
    assert purged["done"] == ["23"]
    problem(await editor.get("/api/r/courses/23"), 404)
    assert changes(conninfo, "courses", "23")[-1]["op"] == "purge"


async def test_instructor_acts_only_within_its_row_scope(
    client_for: ClientFor, conninfo: str
) -> None:
    instructor = await client_for("instructor")
    taught = taught_courses(conninfo)
    other = next(pk for pk in range(1, 61) if pk not in taught)
    pks = [str(taught[0]), str(other)]
    result = ok(
        await bulk(
            instructor, "courses", {"op": "update", "pks": pks, "patch": {"description": "Mine"}}
        )
    )
    assert result["done"] == [str(taught[0])]
    # A course it may not see is not found: its existence is never revealed.
    assert result["not_found"] == [str(other)]
    assert result["forbidden"] == []
    # Hidden and read-only fields are refused before anything is written.
    before = log_size(conninfo)
    hidden = problem(
        await bulk(
            instructor, "courses", {"op": "update", "pks": pks, "patch": {"internal_notes": "x"}}
        ),
        422,
    )
    assert hidden["errors"] == [{"field": "internal_notes", "message": "Unknown field."}]
    fixed = problem(
        await bulk(instructor, "courses", {"op": "update", "pks": pks, "patch": {"title": "x"}}),
        422,
    )
    assert fixed["errors"] == [{"field": "title", "message": "This field is read-only."}]
    problem(await bulk(instructor, "courses", {"op": "delete", "pks": pks}), 403)
    assert log_size(conninfo) == before


async def test_a_row_visible_but_not_changeable_is_forbidden(
    client_for: ClientFor, conninfo: str
) -> None:
    """A viewer who also instructs sees every course but changes only those it teaches."""
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(
            "UPDATE collabadmin.collabadmin_user SET roles = '{instructor,viewer}'"
            " WHERE username = 'instructor'"
        )
    try:
        client = await client_for("instructor")
        taught = taught_courses(conninfo)
        other = next(pk for pk in range(1, 61) if pk not in taught)
        body = {"op": "update", "pks": [str(taught[0]), str(other), "999999"]}
        result = ok(await bulk(client, "courses", {**body, "patch": {"description": "Two"}}))
        assert result["done"] == [str(taught[0])]
        assert result["forbidden"] == [str(other)]
        assert result["not_found"] == ["999999"]
        assert [c["source"] for c in changes(conninfo, "courses", str(other))] == ["db"]
    finally:
        with psycopg.connect(conninfo, autocommit=True) as conn:
            conn.execute(
                "UPDATE collabadmin.collabadmin_user SET roles = '{instructor}'"
                " WHERE username = 'instructor'"
            )


@pytest.mark.parametrize("role", ["viewer", "auditor", "reviewer"])
async def test_roles_that_change_nothing_are_refused(
    client_for: ClientFor, conninfo: str, role: str
) -> None:
    client = await client_for(role)
    for body in (
        {"op": "update", "pks": ["1"], "patch": {"status": "open"}},
        {"op": "delete", "pks": ["1"]},
        {"op": "restore", "filter": {"id": 1}},
        {"op": "purge", "pks": ["1"]},
    ):
        problem(await bulk(client, "courses", body), 403)
    assert all(c["source"] != "bulk" for c in changes(conninfo, "courses"))


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"op": "explode", "pks": ["1"]}, 422),
        ({"op": "update", "pks": ["1"]}, 400),
        ({"op": "update", "patch": {"status": "open"}}, 400),
        (
            {"op": "update", "pks": ["1"], "filter": {"status": "open"}, "patch": {"status": "x"}},
            400,
        ),
        ({"op": "delete", "pks": ["1"], "patch": {"status": "open"}}, 400),
        ({"op": "update", "pks": ["1"], "patch": {"nope": 1}}, 422),
        ({"op": "update", "pks": ["1"], "patch": {"_version": 9}}, 422),
        ({"op": "update", "pks": ["1"], "patch": {"id": 9}}, 422),
        ({"op": "update", "pks": ["1"], "patch": {"start_date": "not a date"}}, 422),
        ({"op": "update", "pks": ["1"], "patch": {"title": {"nested": [1, {"x": 2}]}}}, 422),
        ({"op": "update", "pks": ["abc"], "patch": {"status": "open"}}, 422),
        ({"op": "update", "pks": ["99999999999999999999"], "patch": {"status": "open"}}, 422),
        ({"op": "update", "pks": [1], "patch": {"status": "open"}}, 422),
        ({"op": "update", "pks": ["1"], "patch": {"status": "open"}, "versions": {"1": -1}}, 422),
        ({"op": "update", "pks": ["1"], "patch": {"status": "open"}, "versions": {"x": 1}}, 422),
        ({"op": "update", "filter": {"nope": "1"}, "patch": {"status": "open"}}, 400),
        ({"op": "update", "filter": {"status": {"like": "1"}}, "patch": {"status": "open"}}, 422),
        ({"op": "update", "filter": {"internal_notes": "x"}, "patch": {"description": "x"}}, 200),
        ({"op": "update", "pks": ["1"], "patch": {"status": "open"}, "extra": 1}, 422),
        ({"op": "update", "filter": {"title": {"in": ["a,b"]}}, "patch": {"status": "open"}}, 400),
        ({"op": "update", "filter": {"title": {"lt": None}}, "patch": {"status": "open"}}, 400),
        ({"op": "update", "filter": {"title": {"eq": [1]}}, "patch": {"status": "open"}}, 400),
        ({"op": "update", "filter": {"title": {}}, "patch": {"status": "open"}}, 400),
        ({"op": "update", "pks": ["1"], "patch": {"title": "a\u0000b"}}, 400),
        ([1, 2], 400),
    ],
)
async def test_bad_input_is_a_problem_and_writes_nothing(
    client_for: ClientFor, conninfo: str, body: Any, status: int
) -> None:
    editor = await client_for("instructor" if status == 200 else "editor")
    before = log_size(conninfo)
    response = await bulk(editor, "courses", body)
    if status == 200:
        # A field the user may not read cannot be filtered on either.
        problem(response, 400)
    else:
        problem(response, status)
    assert log_size(conninfo) == before


async def test_too_many_keys_is_refused_whole(client_for: ClientFor, conninfo: str) -> None:
    editor = await client_for("editor")
    before = log_size(conninfo)
    response = await bulk(
        editor,
        "courses",
        {"op": "update", "pks": [str(i) for i in range(1, 10_002)], "patch": {"status": "open"}},
    )
    assert response.status_code in (413, 422, 400)
    problem(response, response.status_code)
    assert log_size(conninfo) == before


async def test_read_only_resources_and_unknown_ones_are_refused(client_for: ClientFor) -> None:
    editor = await client_for("editor")
    problem(
        await bulk(
            editor, "course_overview", {"op": "update", "pks": ["1"], "patch": {"title": "x"}}
        ),
        403,
    )
    problem(await bulk(editor, "nope", {"op": "delete", "pks": ["1"]}), 404)
    problem(await bulk(editor, "sessions", {"op": "update", "pks": ["1"], "patch": {}}), 400)


async def test_a_batch_the_database_refuses_is_rolled_back_whole(
    client_for: ClientFor, conninfo: str
) -> None:
    """A category that does not exist: the batch fails, nothing of it is written."""
    editor = await client_for("editor")
    before = log_size(conninfo)
    result = ok(
        await bulk(
            editor,
            "courses",
            {"op": "update", "pks": ["30", "31"], "patch": {"category_id": 99999}},
        )
    )
    assert result["done"] == []
    assert sorted(result["not_done"]) == ["30", "31"]
    assert result["error"]["status"] == 409
    assert log_size(conninfo) == before
    assert (await get_record(editor, "courses", 30))["category_id"] != 99999


async def test_deleted_rows_are_not_updated(client_for: ClientFor) -> None:
    editor = await client_for("editor")
    ok(await bulk(editor, "courses", {"op": "delete", "pks": ["33"]}))
    result = ok(
        await bulk(editor, "courses", {"op": "update", "pks": ["33"], "patch": {"status": "open"}})
    )
    assert [i["pk"] for i in result["invalid"]] == ["33"]


async def test_a_concurrent_patch_during_the_bulk_edit_is_reported_never_lost(
    client_for: ClientFor, conninfo: str
) -> None:
    """Another session changes a row the bulk edit is about to lock: reported, not lost.

    The client read every row at version 1. A psql session holds row 41
    (its own UPDATE of the title, not committed); the bulk edit locks the
    batch and waits for that row; the other session commits; the bulk sees
    version 2, whose title changed since the client's version: a conflict,
    and the other session's title stands. The log has the other change and
    no bulk change of that row.
    """
    editor = await client_for("editor")
    with psycopg.connect(conninfo) as other:
        other.execute("UPDATE courses SET title = 'Psql title' WHERE id = 41")
        task = asyncio.create_task(
            bulk(
                editor,
                "courses",
                {
                    "op": "update",
                    "pks": ["40", "41", "42"],
                    "patch": {"title": "Bulk title"},
                    "versions": {"40": 1, "41": 1, "42": 1},
                },
            )
        )
        await asyncio.to_thread(
            _wait_for_lock, conninfo, time.monotonic() + 30, other.info.backend_pid
        )
        other.commit()
    result = ok(await task)
    assert sorted(result["done"]) == ["40", "42"]
    [conflict] = result["conflicts"]
    assert conflict["pk"] == "41"
    assert conflict["conflicts"][0]["theirs"] == "Psql title"
    assert conflict["conflicts"][0]["yours"] == "Bulk title"
    assert (await get_record(editor, "courses", 41))["title"] == "Psql title"
    log = changes(conninfo, "courses", "41")
    assert [(c["source"], c["version"]) for c in log] == [("db", 1), ("db", 2)]
    assert log[-1]["diff"]["title"]["new"] == "Psql title"


async def test_without_versions_a_concurrent_change_is_kept_in_the_log_before_the_bulk(
    client_for: ClientFor, conninfo: str
) -> None:
    """Without versions the rows are written at their current version: after the other change."""
    editor = await client_for("editor")
    with psycopg.connect(conninfo) as other:
        other.execute("UPDATE courses SET description = 'Psql' WHERE id = 43")
        task = asyncio.create_task(
            bulk(editor, "courses", {"op": "update", "pks": ["43"], "patch": {"status": "closed"}})
        )
        await asyncio.to_thread(
            _wait_for_lock, conninfo, time.monotonic() + 30, other.info.backend_pid
        )
        other.commit()
    assert ok(await task)["done"] == ["43"]
    body = await get_record(editor, "courses", 43)
    assert (body["description"], body["status"], body["_version"]) == ("Psql", "closed", 3)
    log = changes(conninfo, "courses", "43")
    assert [(c["source"], c["version"]) for c in log] == [("db", 1), ("db", 2), ("bulk", 3)]


async def test_a_filter_runs_as_a_job_over_the_rows_in_scope(
    app: Litestar, client_for: ClientFor, conninfo: str
) -> None:
    instructor = await client_for("instructor")
    taught = taught_courses(conninfo)
    response = await bulk(
        instructor,
        "courses",
        {"op": "update", "filter": {"id": {"lte": 60}}, "patch": {"description": "Filtered"}},
    )
    accepted = ok(response, 202)
    job = accepted["job"]
    assert response.headers["location"] == f"/api/jobs/{job}"
    await job_service(app).wait(job)
    body = ok(await instructor.get(f"/api/jobs/{job}"))
    assert (body["state"], body["done"], body["total"]) == ("done", len(taught), len(taught))
    assert sorted(body["result"]["done"], key=int) == [str(pk) for pk in taught]
    bulk_rows = {c["pk"] for c in changes(conninfo, "courses") if c["source"] == "bulk"}
    assert bulk_rows == {str(pk) for pk in taught}
    # Only its owner may see a job.
    problem(await (await client_for("editor")).get(f"/api/jobs/{job}"), 404)
    problem(await instructor.get("/api/jobs/0"), 400)


async def test_a_null_filter_value_means_empty(app: Litestar, client_for: ClientFor) -> None:
    editor = await client_for("editor")
    ok(
        await bulk(
            editor, "courses", {"op": "update", "pks": ["44"], "patch": {"start_date": None}}
        )
    )
    job = ok(
        await bulk(
            editor,
            "courses",
            {"op": "update", "filter": {"start_date": None}, "patch": {"description": "No date"}},
        ),
        202,
    )["job"]
    await job_service(app).wait(job)
    result = ok(await editor.get(f"/api/jobs/{job}"))["result"]
    assert "44" in result["done"]
    for pk in result["done"]:
        assert (await get_record(editor, "courses", pk))["start_date"] is None


async def test_restore_by_filter_defaults_to_deleted_rows(
    app: Litestar, client_for: ClientFor
) -> None:
    editor = await client_for("editor")
    ok(await bulk(editor, "courses", {"op": "delete", "pks": ["50", "51"]}))
    job = ok(
        await bulk(editor, "courses", {"op": "restore", "filter": {"id": {"in": [50, 51, 52]}}}),
        202,
    )["job"]
    await job_service(app).wait(job)
    result = ok(await editor.get(f"/api/jobs/{job}"))["result"]
    assert sorted(result["done"]) == ["50", "51"]


async def test_two_bulk_edits_over_the_same_rows_both_finish_one_after_the_other(
    client_for: ClientFor, conninfo: str
) -> None:
    """Rows are locked in key order, so overlapping bulk edits wait, never deadlock."""
    editor, admin = await client_for("editor"), await client_for("admin")
    keys = [str(pk) for pk in range(1, 41)]
    first, second = await asyncio.gather(
        bulk(editor, "courses", {"op": "update", "pks": keys, "patch": {"description": "E"}}),
        bulk(admin, "courses", {"op": "update", "pks": keys[::-1], "patch": {"description": "A"}}),
    )
    assert sorted(ok(first)["done"], key=int) == keys
    assert sorted(ok(second)["done"], key=int) == keys
    for pk in keys:
        log = [c for c in changes(conninfo, "courses", pk) if c["source"] == "bulk"]
        assert [c["version"] for c in log] == [2, 3]


async def test_a_user_has_three_jobs_at_most_and_they_run_two_at_a_time(
    app: Litestar, client_for: ClientFor, conninfo: str
) -> None:
    admin = await client_for("admin")
    body = {"op": "update", "filter": {"id": 1}, "patch": {"description": "queued"}}
    with psycopg.connect(conninfo) as other:
        other.execute("SELECT 1 FROM courses WHERE id = 1 FOR UPDATE")
        jobs = [ok(await bulk(admin, "courses", body), 202)["job"] for _ in range(3)]
        await asyncio.to_thread(
            _wait_for_lock, conninfo, time.monotonic() + 30, other.info.backend_pid
        )
        refused = problem(await bulk(admin, "courses", body), 429)
        assert "jobs running" in refused["detail"]
        other.rollback()
    for job in jobs:
        await job_service(app).wait(job)
    results = [ok(await admin.get(f"/api/jobs/{job}"))["result"] for job in jobs]
    # One of them wrote the row; the others found it as patched already.
    assert sorted((r["done"], r["unchanged"]) for r in results) == [
        ([], ["1"]),
        ([], ["1"]),
        (["1"], []),
    ]
