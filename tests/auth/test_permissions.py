"""The demo roles of API.md, enforced on the REST API (invariant 5 for REST).

Expectations are written from API.md's roles table, not from the policy code.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from typing import Any

import httpx
import psycopg
import pytest

from collabadmin.app import create_app
from collabadmin.auth.credentials import create_token
from collabadmin.context import services_of
from collabadmin.db.engine import Database
from collabadmin.demo.resources import demo_registry
from collabadmin.resources.roles import Grant, RolePolicy
from collabadmin.settings import Settings
from tests.conftest import ClientFor, anonymous_client, taught_courses
from tests.helpers import field_errors, get_record, list_all, ok, patch_record, problem

RESOURCES = [
    "universities",
    "categories",
    "instructors",
    "courses",
    "course_instructors",
    "sessions",
]
ACTIONS = ["view", "add", "change", "delete", "restore", "purge"]
# Read-only, and seen by every role (an instructor, only its courses' rows)...
LIVE_VIEWS = {"course_overview", "catalogue_figures"}
# ...but figures over every course are not an instructor's to see.
CATALOGUE_ONLY = {"catalogue_figures"}
ROLES = ["admin", "editor", "instructor", "reviewer", "auditor", "viewer"]


def expected(role: str, resource: str, action: str) -> bool:
    """API.md, "Roles of the demo users"."""
    if role == "admin":
        return True
    if role == "editor":
        return action != "purge"
    if role == "instructor":
        return resource in ("courses", "sessions") and action in ("view", "change")
    return action == "view"  # reviewer, auditor, viewer


def _fresh_row(conninfo: str, resource: str, *, deleted: bool = False, linked: bool = True) -> int:
    """A new row of ``resource`` inside the instructor's scope.

    A course is linked to the instructor (so it is in scope) unless ``linked``
    is false, for a course that nothing refers to (so it can be purged).
    """
    tag = secrets.token_hex(3)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        taught = conn.execute(
            "SELECT ci.course_id FROM course_instructors ci JOIN instructors i"
            " ON i.id = ci.instructor_id WHERE i.\"user\" = 'instructor' LIMIT 1"
        ).fetchone()
        assert taught is not None
        inserts = {
            "universities": ("INSERT INTO universities (name) VALUES (%s) RETURNING id", (tag,)),
            "categories": (
                "INSERT INTO categories (name, short_name) VALUES (%s, %s) RETURNING id",
                (tag, tag),
            ),
            "instructors": ("INSERT INTO instructors (name) VALUES (%s) RETURNING id", (tag,)),
            "courses": (
                "WITH c AS (INSERT INTO courses (title, short_name) VALUES (%s, %s) RETURNING id),"
                " l AS (INSERT INTO course_instructors (course_id, instructor_id)"
                " SELECT id, 1 FROM c WHERE %s) SELECT id FROM c",
                (tag, tag, linked),
            ),
            "course_instructors": (
                "WITH i AS (INSERT INTO instructors (name) VALUES (%s) RETURNING id)"
                " INSERT INTO course_instructors (course_id, instructor_id)"
                " SELECT %s, id FROM i RETURNING id",
                (tag, taught[0]),
            ),
            "sessions": (
                "INSERT INTO sessions (course_id, starts_on, ends_on)"
                " VALUES (%s, '2027-01-01', '2027-02-01') RETURNING id",
                (taught[0],),
            ),
        }
        sql, params = inserts[resource]
        row = conn.execute(sql, params).fetchone()
        assert row is not None
        if deleted:
            conn.execute(f"UPDATE {resource} SET deleted_at = now() WHERE id = %s", (row[0],))
    return int(row[0])


NEW_BODY: dict[str, dict[str, Any]] = {
    "universities": {"name": "New U"},
    "categories": {"name": "New", "short_name": "new-cat"},
    "instructors": {"name": "New Person"},
    "courses": {"title": "New course", "short_name": "new-course"},
    "course_instructors": {"course_id": 1},
    "sessions": {"course_id": 1, "starts_on": "2027-03-01", "ends_on": "2027-03-02"},
}
# A field each role allowed to change may write (the instructor's are narrow).
CHANGE: dict[str, dict[str, Any]] = {
    "universities": {"country": "LI"},
    "categories": {"name": "Renamed"},
    "instructors": {"email": "x@example.edu"},
    "courses": {"description": "changed"},
    "course_instructors": {"course_id": 2},
    "sessions": {"starts_on": "2027-01-02"},
}


async def _attempt(
    client: httpx.AsyncClient, conninfo: str, resource: str, action: str
) -> httpx.Response:
    if action == "add":
        body = dict(NEW_BODY[resource])
        if resource == "course_instructors":  # a pair that cannot exist yet
            body["instructor_id"] = _fresh_row(conninfo, "instructors")
        return await client.post(f"/api/r/{resource}", json=body)
    pk = _fresh_row(conninfo, resource, deleted=action == "restore", linked=action != "purge")
    path = f"/api/r/{resource}/{pk}"
    match action:
        case "view":
            return await client.get(path)
        case "change":
            return await patch_record(client, resource, pk, CHANGE[resource], if_match=1)
        case "delete":
            return await client.delete(path, headers={"If-Match": '"1"'})
        case "restore":
            return await client.post(f"{path}/restore", headers={"If-Match": '"2"'})
        case "purge":
            return await client.delete(f"{path}?purge=true", headers={"If-Match": '"1"'})
    raise AssertionError(action)


@pytest.mark.parametrize("role", ROLES)
async def test_role_matrix_on_the_rest_api(client_for: ClientFor, conninfo: str, role: str) -> None:
    client = await client_for(role)
    outcomes = {}
    for resource in RESOURCES:
        for action in ACTIONS:
            response = await _attempt(client, conninfo, resource, action)
            allowed = response.status_code in (200, 201, 204)
            if not allowed:
                problem(response, 403)
            outcomes[(resource, action)] = allowed
    wanted = {(r, a): expected(role, r, a) for r in RESOURCES for a in ACTIONS}
    assert outcomes == wanted


@pytest.mark.parametrize("role", ROLES)
async def test_meta_describes_exactly_what_each_role_may_do(
    client_for: ClientFor, role: str
) -> None:
    client = await client_for(role)
    meta = ok(await client.get("/api/meta"))
    visible = {r["name"]: r for r in meta["resources"]}
    views = LIVE_VIEWS - CATALOGUE_ONLY if role == "instructor" else LIVE_VIEWS
    assert set(visible) == {r for r in RESOURCES if expected(role, r, "view")} | views
    for name, resource in visible.items():
        rest = {"view"} if name in LIVE_VIEWS else {a for a in ACTIONS if expected(role, name, a)}
        assert set(resource["actions"]) - {"publish", "audit", "comment", "share_view"} == rest
    courses = visible["courses"]
    assert ("comment" in courses["actions"]) == (role not in ("auditor", "viewer"))
    assert ("share_view" in courses["actions"]) == (role in ("admin", "editor"))
    assert ("publish" in courses["actions"]) == (role in ("admin", "reviewer"))
    assert ("audit" in courses["actions"]) == (role in ("admin", "auditor"))
    fields = {f["name"]: f for f in courses["fields"]}
    assert ("internal_notes" in fields) == (role not in ("instructor", "viewer"))
    if role == "instructor":
        writable = {n for n, f in fields.items() if not f["read_only"]}
        assert writable == {"description", "start_date"}
        sessions = {f["name"]: f for f in visible["sessions"]["fields"]}
        assert {n for n, f in sessions.items() if not f["read_only"]} == {"starts_on", "ends_on"}


async def test_instructor_sees_and_changes_only_courses_it_teaches(
    client_for: ClientFor, conninfo: str
) -> None:
    instructor = await client_for("instructor")
    taught = taught_courses(conninfo)
    assert 0 < len(taught) < 60
    listed = await list_all(instructor, "/api/r/courses", limit="500")
    assert sorted(c["id"] for c in listed) == taught
    other = next(pk for pk in range(1, 61) if pk not in taught)
    problem(await instructor.get(f"/api/r/courses/{other}"), 404)
    problem(await patch_record(instructor, "courses", other, {"description": "x"}, base=1), 404)
    problem(await instructor.get(f"/api/r/courses/{other}/history"), 404)
    problem(await instructor.options(f"/api/r/courses/{other}"), 404)
    sessions = await list_all(instructor, "/api/r/sessions", limit="500")
    assert sessions
    assert {s["course_id"] for s in sessions} <= set(taught)
    mine = taught[0]
    errors = field_errors(
        await patch_record(instructor, "courses", mine, {"title": "Mine now"}, if_match=1)
    )
    assert errors == {"title": "This field is read-only."}
    errors = field_errors(
        await patch_record(instructor, "courses", mine, {"internal_notes": "x"}, if_match=1)
    )
    assert errors == {"internal_notes": "Unknown field."}
    ok(await patch_record(instructor, "courses", mine, {"description": "Syllabus"}, if_match=1))
    problem(await instructor.get("/api/r/universities"), 403)


async def test_a_second_role_never_widens_where_an_action_applies(
    client_for: ClientFor, conninfo: str, database_url: str
) -> None:
    """A viewer who also instructs views every course but changes only its own."""
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(
            "UPDATE collabadmin.collabadmin_user SET roles = '{instructor,viewer}'"
            " WHERE username = 'instructor'"
        )
    try:
        client = await client_for("instructor")
        taught = taught_courses(conninfo)
        listed = await list_all(client, "/api/r/courses", limit="500")
        assert len(listed) == 60
        assert all("internal_notes" not in c for c in listed)
        other = next(pk for pk in range(1, 61) if pk not in taught)
        ok(await client.get(f"/api/r/courses/{other}"))
        problem(await patch_record(client, "courses", other, {"description": "x"}, base=1), 403)
        ok(await patch_record(client, "courses", taught[0], {"description": "x"}, base=1))
    finally:
        with psycopg.connect(conninfo, autocommit=True) as conn:
            conn.execute(
                "UPDATE collabadmin.collabadmin_user SET roles = '{instructor}'"
                " WHERE username = 'instructor'"
            )


MARKER = "MARKER-" + secrets.token_hex(8)


@pytest.mark.parametrize("role", ["instructor", "viewer"])
async def test_hidden_field_never_leaves_the_server(
    client_for: ClientFor, conninfo: str, role: str
) -> None:
    """A unique marker in courses.internal_notes appears in no response the role can get."""
    course = taught_courses(conninfo)[0]
    admin, client = await client_for("admin"), await client_for(role)
    ok(await patch_record(admin, "courses", course, {"internal_notes": MARKER}, if_match=1))
    ok(await patch_record(admin, "courses", course, {"description": "v3"}, if_match=2))
    bodies: list[str] = []

    async def collect(response: httpx.Response) -> None:
        assert response.status_code < 500, response.text
        bodies.append(response.text + str(response.headers))

    await collect(await client.get(f"/api/r/courses/{course}"))
    await collect(await client.get("/api/r/courses", params={"limit": "500"}))
    await collect(await client.get("/api/r/courses", params={"q": MARKER}))
    await collect(await client.get(f"/api/r/courses/{course}/history"))
    await collect(await client.options(f"/api/r/courses/{course}"))
    await collect(await client.get("/api/meta"))
    # Conflict bodies: a strict 412 and, where the role may change, a merge 409.
    await collect(await patch_record(client, "courses", course, {"description": "x"}, if_match=1))
    await collect(await patch_record(client, "courses", course, {"description": "y"}, base=2))
    await collect(await client.get("/api/r/courses", params={"sort": "internal_notes"}))
    await collect(
        await client.get("/api/r/courses", params={"filter[internal_notes][contains]": "MARKER"})
    )
    await collect(await patch_record(client, "courses", course, {"internal_notes": ""}, base=3))
    # The audit log and its CSV export are closed to both roles.
    await collect(await client.get("/api/audit", params={"q": MARKER}))
    await collect(await client.get("/api/audit.csv"))
    assert all(MARKER not in body for body in bodies)
    assert all("internal_notes" not in body for body in bodies[:6])
    # Nor can the search reveal it: a search for the marker finds nothing.
    assert ok(await client.get("/api/r/courses", params={"q": MARKER}))["items"] == []
    # The admin does see it, so the marker was really there.
    assert (await get_record(admin, "courses", course))["internal_notes"] == MARKER


@pytest.fixture
async def state_rule_client(
    database_url: str, demo_users: None, fresh_data: None
) -> AsyncIterator[httpx.AsyncClient]:
    """The demo resources under a policy where titles change only while a course is a draft."""
    policy = RolePolicy(
        {
            "editor": Grant(
                actions={"view", "add", "change"},
                writable_when={"title": lambda course: course["status"] == "draft"},
            )
        }
    )
    app = create_app(
        Settings(database_url=database_url, pool_size=2), demo_registry(), policy=policy
    )
    db = Database(database_url, pool_size=1)
    async with db.connection() as tx:
        user_id = await tx.value(
            "SELECT id FROM collabadmin.collabadmin_user WHERE username = 'editor'"
        )
        _, token = await create_token(tx, user_id, "state-rule", None)
    await db.dispose()
    async with anonymous_client(app, headers={"Authorization": f"Bearer {token}"}) as client:
        yield client
    await services_of(app).get(Database).dispose()


async def test_fields_writable_only_in_some_record_states(
    state_rule_client: httpx.AsyncClient, conninfo: str
) -> None:
    client = state_rule_client
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("UPDATE courses SET status = 'draft' WHERE id = 1")
        conn.execute("UPDATE courses SET status = 'open' WHERE id = 2")
    draft, live = await get_record(client, "courses", 1), await get_record(client, "courses", 2)
    title_of = {
        pk: next(
            f
            for f in ok(await client.options(f"/api/r/courses/{pk}"))["fields"]
            if f["name"] == "title"
        )
        for pk in (1, 2)
    }
    assert title_of[1]["read_only"] is False
    assert title_of[2]["read_only"] is True
    ok(
        await patch_record(
            client, "courses", 1, {"title": "Draft title"}, if_match=draft["_version"]
        )
    )
    errors = field_errors(
        await patch_record(client, "courses", 2, {"title": "Live title"}, if_match=live["_version"])
    )
    assert errors == {"title": "This field is read-only."}
    # Other fields of the live course stay writable.
    ok(await patch_record(client, "courses", 2, {"description": "ok"}, if_match=live["_version"]))
