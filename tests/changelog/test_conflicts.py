"""Field conflicts, decided once for records, drafts, publish, rebase and revert.

The first tests state the rules on the decision itself; the others pin the
places where the draft copy of these rules had drifted from the record's
(API.md: drafts are "versioned like records"), through the API.
"""

from __future__ import annotations

from typing import Any

import httpx
import psycopg

from collabadmin.changelog.changes import CHANGE_LOG
from collabadmin.changelog.conflicts import Since, field_conflicts, rebased
from tests.conftest import ClientFor
from tests.helpers import field_errors, ok, patch_record, problem

CURRENT = {"title": "Theirs", "status": "open", "description": "Same"}


def conflicts(since: Since, yours: dict[str, Any]) -> list[dict[str, Any]]:
    return [dict(c) for c in field_conflicts(since, yours, theirs=CURRENT.get)]


def test_a_field_nobody_changed_since_the_base_merges() -> None:
    since = Since({"title": "Base"}, complete=True)
    assert conflicts(since, {"status": "closed"}) == []


def test_a_field_changed_since_the_base_conflicts_three_ways() -> None:
    since = Since({"title": "Base"}, complete=True)
    assert conflicts(since, {"title": "Yours"}) == [
        {"field": "title", "base": "Base", "theirs": "Theirs", "yours": "Yours"}
    ]


def test_the_same_edit_made_twice_is_not_a_conflict() -> None:
    since = Since({"title": "Base"}, complete=True)
    assert conflicts(since, {"title": "Theirs"}) == []


def test_a_field_changed_and_changed_back_is_not_a_conflict() -> None:
    since = Since({"status": "open"}, complete=True)
    assert conflicts(since, {"status": "closed"}) == []


def test_an_incomplete_log_proves_nothing_every_differing_field_conflicts() -> None:
    # Entries were pruned: the oldest one left holds no base, and a field
    # missing from the log may well have changed.
    since = Since({"title": "Not the base"}, complete=False)
    assert conflicts(since, {"title": "Yours", "status": "closed", "description": "Same"}) == [
        {"field": "title", "base": None, "theirs": "Theirs", "yours": "Yours"},
        {"field": "status", "base": None, "theirs": "open", "yours": "closed"},
    ]


def test_a_watched_field_conflicts_when_it_changed_since_the_base() -> None:
    # A record action depends on the status without writing it (or writes
    # other fields): what the person acted on must not have changed.
    since = Since({"status": "draft", "title": "Base"}, complete=True)
    found = field_conflicts(since, {"title": "Theirs"}, theirs=CURRENT.get, watched=["status"])
    assert [dict(c) for c in found] == [
        {"field": "status", "base": "draft", "theirs": "open", "yours": "draft"}
    ]
    # Not changed since, or changed and changed back: nothing to decide again.
    unchanged = Since({"title": "Base"}, complete=True)
    assert field_conflicts(unchanged, {}, theirs=CURRENT.get, watched=["status"]) == []
    back = Since({"status": "open"}, complete=True)
    assert field_conflicts(back, {}, theirs=CURRENT.get, watched=["status"]) == []
    # A watched field the write also patches is judged as a patched field.
    assert field_conflicts(since, {"status": "open"}, theirs=CURRENT.get, watched=["status"]) == []


def test_a_watched_field_over_an_incomplete_log_conflicts_with_an_unknown_base() -> None:
    since = Since({}, complete=False)
    found = field_conflicts(since, {}, theirs=CURRENT.get, watched=["status"])
    assert [dict(c) for c in found] == [
        {"field": "status", "base": None, "theirs": "open", "yours": None}
    ]


def test_a_rebase_takes_theirs_or_keeps_yours_and_never_names_a_hidden_field() -> None:
    found = field_conflicts(
        Since({"title": "Base", "notes": "Base"}, complete=True),
        {"title": "Yours", "notes": "Yours", "status": "closed"},
        theirs={"title": "Theirs", "notes": "Theirs", "status": "open"}.get,
    )
    shown = frozenset({"title", "status"})
    assert rebased({"title": "Yours", "notes": "Yours", "status": "closed"}, found,
                   {"title": "theirs"}, shown=shown) == {"status": "closed"}  # fmt: skip
    kept = rebased({"title": "Yours", "notes": "Yours"}, found, {"title": "yours", "notes":
                   "theirs"}, shown=shown)  # fmt: skip
    assert kept == {"title": "Yours"}  # notes: hidden, so the live value stands


# -- where the draft copy had drifted ---------------------------------------


async def start_draft(client: httpx.AsyncClient, pk: int, data: dict[str, Any]) -> str:
    body = ok(await client.post(f"/api/r/courses/{pk}/drafts", json={"data": data}), 201)
    return f"/api/drafts/{body['id']}"


async def edit(
    client: httpx.AsyncClient, url: str, data: dict[str, Any], **precondition: int
) -> httpx.Response:
    headers = {}
    if "base" in precondition:
        headers["X-Base-Version"] = str(precondition["base"])
    if "if_match" in precondition:
        headers["If-Match"] = f'"{precondition["if_match"]}"'
    return await client.patch(url, json={"data": data}, headers=headers)


def prune(conninfo: str, log: str, pk: str, version: int) -> None:
    """Remove one entry of a row's log, as retention removes the oldest entries."""
    with psycopg.connect(conninfo) as conn:
        # The log refuses DELETE outside collabadmin_prune(); a superuser may
        # switch its ordinary triggers off for one transaction.
        conn.execute("SET LOCAL session_replication_role = replica")
        conn.execute(
            f"DELETE FROM {CHANGE_LOG.fullname} WHERE resource = %s AND pk = %s AND version = %s",
            (log, pk, version),
        )


async def test_a_draft_field_changed_and_changed_back_is_not_a_conflict(
    client_for: ClientFor,
) -> None:
    alice, bob = await client_for("editor"), await client_for("admin")
    url = await start_draft(alice, 11, {"title": "First"})
    ok(await edit(alice, url, {"title": "Other"}, if_match=1))
    ok(await edit(alice, url, {"title": "First"}, if_match=2))
    merged = ok(await edit(bob, url, {"title": "Bob"}, base=1))
    assert (merged["data"]["title"], merged["_version"]) == ("Bob", 4)
    # A record answers the same.
    ok(await patch_record(alice, "courses", 11, {"title": "Other"}, if_match=1))
    ok(await patch_record(alice, "courses", 11, {"title": merged["data"]["title"]}, if_match=2))
    ok(await patch_record(bob, "courses", 11, {"title": "Bob"}, base=1))


async def test_a_draft_edit_compares_values_in_their_json_forms(client_for: ClientFor) -> None:
    alice, bob = await client_for("editor"), await client_for("admin")
    url = await start_draft(alice, 12, {"start_date": "2031-01-01"})
    ok(await edit(alice, url, {"start_date": "2031-02-01"}, if_match=1))
    # The same date, written the short ISO way: the same edit, not a conflict.
    same = ok(await edit(bob, url, {"start_date": "20310201"}, base=1))
    assert (same["data"]["start_date"], same["_version"]) == ("2031-02-01", 2)
    clash = problem(await edit(bob, url, {"start_date": "20310301"}, base=1), 409)
    assert clash["conflicts"] == [
        {"field": "start_date", "base": "2031-01-01", "theirs": "2031-02-01",
         "yours": "2031-03-01"}
    ]  # fmt: skip


async def test_a_stale_if_match_on_a_draft_lists_the_conflicts(client_for: ClientFor) -> None:
    alice, bob = await client_for("editor"), await client_for("admin")
    url = await start_draft(alice, 13, {"title": "First"})
    ok(await edit(alice, url, {"title": "Alice", "description": "A"}, if_match=1))
    stale = problem(await edit(bob, url, {"title": "Bob"}, if_match=1), 412)
    assert stale["conflicts"] == [
        {"field": "title", "base": "First", "theirs": "Alice", "yours": "Bob"}
    ]
    assert stale["current"]["_version"] == 2
    future = problem(await edit(bob, url, {"title": "Bob"}, base=9), 412)
    assert future["conflicts"] == []


async def test_a_draft_edit_over_a_pruned_log_is_refused_not_merged(
    client_for: ClientFor, conninfo: str
) -> None:
    alice, bob = await client_for("editor"), await client_for("admin")
    url = await start_draft(alice, 14, {"title": "First"})
    ok(await edit(alice, url, {"title": "Alice"}, if_match=1))
    prune(conninfo, "drafts", url.rsplit("/", 1)[1], 2)
    # The log no longer shows who changed what since version 1: nothing may be
    # overwritten on trust. Before, an empty log read as "nothing changed".
    clash = problem(await edit(bob, url, {"title": "Bob", "description": "Alice"}, base=1), 409)
    assert clash["conflicts"] == [
        {"field": "title", "base": None, "theirs": "Alice", "yours": "Bob"},
        {"field": "description", "base": None, "theirs": None, "yours": "Alice"},
    ]
    assert ok(await alice.get(url))["data"] == {"title": "Alice"}


async def test_a_record_over_a_pruned_log_reports_an_unknown_base(
    client_for: ClientFor, conninfo: str
) -> None:
    alice, bob = await client_for("editor"), await client_for("admin")
    ok(await patch_record(alice, "courses", 15, {"title": "A"}, if_match=1))
    ok(await patch_record(alice, "courses", 15, {"title": "B"}, if_match=2))
    prune(conninfo, "courses", "15", 2)
    # The oldest entry left says the title was "A" before version 3; that is
    # not its value at version 1, so no base is claimed.
    clash = problem(await patch_record(bob, "courses", 15, {"title": "Bob"}, base=1), 409)
    assert clash["conflicts"] == [{"field": "title", "base": None, "theirs": "B", "yours": "Bob"}]


async def test_a_hidden_field_in_a_draft_edit_is_unknown_not_a_conflict(
    client_for: ClientFor,
) -> None:
    editor, instructor = await client_for("editor"), await client_for("instructor")
    taught = ok(await instructor.get("/api/r/courses", params={"limit": "1"}))["items"][0]["id"]
    url = await start_draft(editor, taught, {"internal_notes": "Secret"})
    ok(await edit(editor, url, {"internal_notes": "Secret 2"}, if_match=1))
    # The instructor cannot read internal_notes: sending it is a 422 as an
    # unknown field, never a 409 that would say someone changed it.
    errors = field_errors(await edit(instructor, url, {"internal_notes": "x"}, base=1))
    assert errors == {"internal_notes": "Unknown field."}
