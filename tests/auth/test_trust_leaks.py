"""Permission leaks closed: what a user outside a scope, or without a field, may learn.

* Revert of a change outside the user's row scope is a 404, like every other
  way of addressing that record.
* Commenting on drafts and sharing list views need the ``comment`` and
  ``share_view`` actions; viewing is not enough.
* A change to fields the reader may not see still reaches it (the version
  moves) with those fields left out and ``hidden_fields: true``: in history
  and the audit log (JSON and CSV) here, in websocket change frames in
  tests/hub/test_hidden_field_frames.py.
* A rebase never names or hints at a conflicting field the user cannot see.
* A key that cannot be of the key column's type or range is a 404.
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from typing import Any

import pytest
from litestar import Litestar
from sqlalchemy import BigInteger, Column, Integer, MetaData, SmallInteger, Table, Text, Uuid

from collabadmin.app import create_app
from collabadmin.demo.resources import demo_registry
from collabadmin.resources.declare import resource_from_table
from collabadmin.resources.roles import Grant, RolePolicy
from collabadmin.settings import Settings
from tests.conftest import ClientFor, anonymous_client, taught_courses
from tests.helpers import field_errors, get_record, history, ok, patch_record, problem, running

ROLES = ("admin", "editor", "instructor", "reviewer", "auditor", "viewer")


def _untaught(conninfo: str) -> tuple[int, int]:
    taught = taught_courses(conninfo)
    return taught[0], next(pk for pk in range(1, 61) if pk not in taught)


# -- revert ------------------------------------------------------------------


async def test_revert_outside_the_row_scope_is_a_404(client_for: ClientFor, conninfo: str) -> None:
    editor, instructor = await client_for("editor"), await client_for("instructor")
    mine, other = _untaught(conninfo)
    ok(await patch_record(editor, "courses", other, {"description": "Changed"}, if_match=1))
    update = (await history(editor, "courses", other))[0]
    insert = (await history(editor, "courses", other))[-1]
    assert (update["op"], insert["op"]) == ("update", "insert")
    attempts: list[dict[str, Any]] = [
        {"change_id": update["id"]},
        {"change_id": update["id"], "fields": ["description"]},
        {"change_id": update["id"], "fields": ["title"]},  # a field the change did not touch
        {"change_id": insert["id"]},  # not an update
        {"change_id": 10**12},
    ]
    for body in attempts:
        answer = problem(await instructor.post(f"/api/r/courses/{other}/revert", json=body), 404)
        assert answer["detail"] == f"No course {str(other)!r}."
    assert (await get_record(editor, "courses", other))["description"] == "Changed"
    # Within the scope, revert works as before.
    ok(await patch_record(instructor, "courses", mine, {"description": "Mine"}, if_match=1))
    change = (await history(instructor, "courses", mine))[0]
    reverted = ok(
        await instructor.post(f"/api/r/courses/{mine}/revert", json={"change_id": change["id"]})
    )
    assert reverted["_version"] == 3


# -- comment and share_view ----------------------------------------------------


async def test_meta_lists_comment_and_share_view_per_role(client_for: ClientFor) -> None:
    wanted = {
        "admin": {"comment", "share_view"},
        "editor": {"comment", "share_view"},
        "instructor": {"comment"},
        "reviewer": {"comment"},
        "auditor": set(),
        "viewer": set(),
    }
    for role, actions in wanted.items():
        client = await client_for(role)
        meta = ok(await client.options("/api/r/courses"))
        assert {"comment", "share_view"} & set(meta["actions"]) == actions, role


async def test_only_roles_with_comment_may_comment_on_drafts(
    client_for: ClientFor, conninfo: str
) -> None:
    editor = await client_for("editor")
    mine, other = _untaught(conninfo)
    on_mine = ok(await editor.post(f"/api/r/courses/{mine}/drafts", json={"data": {}}), 201)
    on_other = ok(await editor.post(f"/api/r/courses/{other}/drafts", json={"data": {}}), 201)
    comment = {"comment": "Looks fine"}
    for role in ("viewer", "auditor"):
        client = await client_for(role)
        ok(await client.get(f"/api/drafts/{on_mine['id']}"))  # they may still read it
        refused = problem(
            await client.post(f"/api/drafts/{on_mine['id']}/comments", json=comment), 403
        )
        assert refused["detail"] == "You may not comment on drafts of courses."
    for role in ("admin", "editor", "reviewer", "instructor"):
        client = await client_for(role)
        ok(await client.post(f"/api/drafts/{on_mine['id']}/comments", json=comment), 201)
    instructor = await client_for("instructor")
    # A draft of a course it does not teach is not even visible to the instructor.
    problem(await instructor.post(f"/api/drafts/{on_other['id']}/comments", json=comment), 404)
    trail = ok(await editor.get(f"/api/drafts/{on_mine['id']}/comments"))["items"]
    commenters = [e["actor"]["name"] for e in trail if e["action"] == "commented"]
    assert commenters == ["Admin", "Editor", "Reviewer", "Instructor"]


async def test_only_roles_with_share_view_may_share_views(client_for: ClientFor) -> None:
    view = {"name": "Mine", "columns": [{"field": "title"}]}
    for role in ("viewer", "auditor", "reviewer", "instructor"):
        client = await client_for(role)
        refused = problem(await client.post("/api/views/courses", json=view), 403)
        assert refused["detail"] == "You may not share views of courses."
    for role in ("editor", "admin"):
        client = await client_for(role)
        ok(await client.post("/api/views/courses", json={**view, "name": role}), 201)
    viewer = await client_for("viewer")
    listed = ok(await viewer.get("/api/views/courses"))["items"]
    assert sorted(v["name"] for v in listed) == ["admin", "editor"]


# -- changes to hidden fields ----------------------------------------------------


async def test_history_of_a_hidden_only_change_keeps_the_version_and_says_hidden(
    client_for: ClientFor, conninfo: str
) -> None:
    editor, instructor = await client_for("editor"), await client_for("instructor")
    mine, _ = _untaught(conninfo)
    ok(await patch_record(editor, "courses", mine, {"internal_notes": "secret"}, if_match=1))
    ok(
        await patch_record(
            editor, "courses", mine, {"internal_notes": "s2", "description": "d"}, if_match=2
        )
    )
    seen = await history(instructor, "courses", mine)
    assert [e["version"] for e in seen] == [3, 2, 1]  # continuous: nothing dropped
    assert set(seen[0]["diff"]) == {"description"}
    assert seen[0]["hidden_fields"] is True
    assert seen[1]["diff"] == {}
    assert seen[1]["hidden_fields"] is True
    assert "internal_notes" not in str(seen)
    assert "secret" not in str(seen)
    full = await history(editor, "courses", mine)
    assert [e["hidden_fields"] for e in full] == [False, False, False]
    assert full[1]["diff"]["internal_notes"]["new"] == "secret"


@pytest.fixture
async def field_blind_auditor_app(
    database_url: str, demo_users: None, fresh_data: None
) -> AsyncIterator[Litestar]:
    """The demo app with an auditor that may audit courses but not read internal_notes."""
    registry = demo_registry()
    policy = RolePolicy(
        {"auditor": {"*": Grant(actions={"view", "audit"}),
                     "courses": Grant(actions={"view", "audit"}, hide={"internal_notes"})}}
    )  # fmt: skip
    application = create_app(
        Settings(database_url=database_url, pool_size=4), registry, policy=policy
    )
    async with running(application):
        yield application


async def test_audit_of_a_hidden_only_change_says_hidden(
    client_for: ClientFor, field_blind_auditor_app: Litestar
) -> None:
    editor = await client_for("editor")
    ok(await patch_record(editor, "courses", 7, {"internal_notes": "secret"}, if_match=1))
    async with anonymous_client(field_blind_auditor_app) as auditor:
        login = ok(
            await auditor.post(
                "/api/auth/login",
                json={"username": "auditor", "password": "correct horse battery staple"},
            )
        )
        auditor.headers["X-CSRF-Token"] = login["csrf_token"]
        items = ok(await auditor.get("/api/audit", params={"resource": "courses", "pk": "7"}))[
            "items"
        ]
        first = items[0]
        assert (first["version"], first["diff"], first["hidden_fields"]) == (2, {}, True)
        assert items[1]["hidden_fields"] is True  # the insert set internal_notes too
        exported = await auditor.get("/api/audit.csv", params={"resource": "courses", "pk": "7"})
        rows = list(csv.DictReader(io.StringIO(exported.text)))
        hidden_only = [r for r in rows if r["version"] == "2"]
        assert [(r["field"], r["old"], r["new"]) for r in hidden_only] == [("", "", "")]
        assert "secret" not in exported.text
        assert "internal_notes" not in exported.text


# -- rebase ------------------------------------------------------------------


async def test_rebase_never_hints_at_a_hidden_conflicting_field(
    client_for: ClientFor, conninfo: str
) -> None:
    editor, instructor = await client_for("editor"), await client_for("instructor")
    mine, _ = _untaught(conninfo)
    draft = ok(
        await instructor.post(
            f"/api/r/courses/{mine}/drafts", json={"data": {"description": "Draft text"}}
        ),
        201,
    )
    # An editor adds a hidden field to the instructor's draft, then someone
    # changes that field (and the description) on the live record.
    edited = ok(
        await editor.patch(
            f"/api/drafts/{draft['id']}",
            json={"data": {"internal_notes": "draft notes"}},
            headers={"If-Match": f'"{draft["_version"]}"'},
        )
    )
    ok(
        await patch_record(
            editor, "courses", mine, {"internal_notes": "live", "description": "Live"}, if_match=1
        )
    )
    url = f"/api/drafts/{draft['id']}/rebase"
    missing = await instructor.post(url, json={"resolutions": {}})
    assert field_errors(missing) == {"description": "Choose theirs or yours."}
    assert "internal_notes" not in missing.text
    assert "cannot see" not in missing.text
    # Naming the hidden field changes nothing: success cannot be used to probe it.
    response = await instructor.post(
        url, json={"resolutions": {"description": "yours", "internal_notes": "yours"}}
    )
    rebased = ok(response)
    assert "internal_notes" not in response.text
    assert rebased["data"] == {"description": "Draft text"}
    assert rebased["_version"] > edited["_version"]
    # The live value of the field the instructor could not see stands.
    as_editor = ok(await editor.get(f"/api/drafts/{draft['id']}"))
    assert as_editor["data"] == {"description": "Draft text"}


# -- keys out of range ---------------------------------------------------------


async def test_keys_out_of_the_column_range_are_404(client_for: ClientFor) -> None:
    for role in ROLES:
        client = await client_for(role)
        for key in ("2147483648", "-2147483649", "9223372036854775808", "99999999999999999999"):
            for method, path in (
                ("GET", f"/api/r/courses/{key}"),
                ("OPTIONS", f"/api/r/courses/{key}"),
                ("GET", f"/api/r/courses/{key}/history"),
                ("GET", f"/api/r/sessions/{key}"),
                ("GET", f"/api/drafts/{key}"),
                ("GET", f"/api/workflow-runs/{key}"),
            ):
                problem(await client.request(method, path), 404)
        if role in ("admin", "editor"):
            headers = {"If-Match": '"1"'}
            problem(await patch_record(client, "courses", "2147483648", {}, if_match=1), 404)
            problem(await client.delete("/api/r/courses/2147483648", headers=headers), 404)
            problem(
                await client.post("/api/r/courses/2147483648/revert", json={"change_id": 1}), 404
            )
            problem(await client.post("/api/r/courses/2147483648/drafts", json={"data": {}}), 404)
        for token_id in ("9223372036854775808", "99999999999999999999", "0"):
            problem(await client.delete(f"/api/auth/tokens/{token_id}"), 404)
    admin = await client_for("admin")
    ok(await admin.get("/api/r/courses/60"))


def _key_resource(column: Column[Any]) -> Any:
    return resource_from_table(Table("t", MetaData(), column, Column("name", Text)))


@pytest.mark.parametrize(
    ("column", "inside", "outside"),
    [
        (Column("id", SmallInteger, primary_key=True), ["32767", "-32768"], ["32768", "-32769"]),
        (Column("id", Integer, primary_key=True), ["2147483647"], ["2147483648", "-2147483649"]),
        (
            Column("id", BigInteger, primary_key=True),
            ["9223372036854775807", "-9223372036854775808"],
            ["9223372036854775808", "-9223372036854775809", "1" * 25],
        ),
        (
            Column("id", Uuid, primary_key=True),
            ["0b9e3c52-7e45-4c1f-9d43-2b1f0c7a9e11", "0B9E3C527E454C1F9D432B1F0C7A9E11"],
            ["42", "0b9e3c52-7e45-4c1f-9d43-2b1f0c7a9e1", "zz9e3c52-7e45-4c1f-9d43-2b1f0c7a9e11"],
        ),
        (Column("id", Text, primary_key=True), ["any text"], ["nul\x00"]),
    ],
)
def test_key_values_outside_the_column_type_are_none(
    column: Column[Any], inside: list[str], outside: list[str]
) -> None:
    resource = _key_resource(column)
    for raw in inside:
        assert resource.pk_values(raw) is not None, raw
    not_numbers = () if isinstance(column.type, Text) else ("²", "٣", "1 ", "+1", "")
    for raw in (*outside, *not_numbers):
        assert resource.pk_values(raw) is None, raw
