"""What a user may see and do: /api/meta and OPTIONS."""

from __future__ import annotations

import msgspec
import pytest
from sqlalchemy import (
    Column,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    Table,
    Text,
    UniqueConstraint,
)

from collabadmin.db.engine import Actor
from collabadmin.demo.policy import demo_policy
from collabadmin.demo.resources import demo_registry
from collabadmin.resources.declare import resource_from_table
from collabadmin.resources.meta import related_meta, resource_meta
from collabadmin.resources.resource import Registry
from collabadmin.resources.roles import Grant, RolePolicy
from collabadmin.resources.types import ResourceMeta
from tests.conftest import ClientFor, taught_courses
from tests.helpers import ok, problem

COURSE_RELATED = [
    {"resource": "course_instructors", "field": "course_id", "label": "Course instructors"},
    {"resource": "sessions", "field": "course_id", "label": "Sessions"},
    {
        "resource": "instructors",
        "field": "course_id",
        "label": "Instructors",
        "through": {"resource": "course_instructors", "field": "instructor_id"},
    },
]


async def test_meta_lists_resources_with_fields_and_actions(client_for: ClientFor) -> None:
    editor = await client_for("editor")
    meta = ok(await editor.get("/api/meta"))
    names = [r["name"] for r in meta["resources"]]
    assert names == [
        "universities",
        "categories",
        "instructors",
        "courses",
        "course_instructors",
        "sessions",
        "course_overview",
        "catalogue_figures",
    ]
    overview = next(r for r in meta["resources"] if r["name"] == "course_overview")
    assert (overview["live"], overview["describes"]) == (True, "courses")
    assert "view" in overview["actions"]
    assert not {"add", "change", "delete", "restore", "purge"} & set(overview["actions"])
    courses = next(r for r in meta["resources"] if r["name"] == "courses")
    assert courses["pk"] == "id"
    assert courses["label_plural"] == "Courses"
    fields = {f["name"]: f for f in courses["fields"]}
    assert fields["title"]["required"] is True
    assert fields["title"]["max_length"] == 200
    assert fields["short_name"]["pattern"] == "^[a-z0-9.-]+$"
    assert fields["status"]["choices"] == ["draft", "open", "closed"]
    assert fields["category_id"]["relation"] == {"resource": "categories", "display": "name"}
    assert fields["id"]["read_only"] is True
    assert [w["name"] for w in meta["workflows"]] == ["launch-course"]


async def test_options_describes_the_collection_and_one_record(client_for: ClientFor) -> None:
    editor = await client_for("editor")
    response = await editor.options("/api/r/courses")
    collection = ok(response)
    assert response.headers["allow"] == "OPTIONS, GET, HEAD, POST"
    assert "add" in collection["actions"]
    assert "purge" not in collection["actions"]  # superusers only
    short_name = next(f for f in collection["fields"] if f["name"] == "short_name")
    assert short_name["read_only"] is False  # writable when creating
    record_response = await editor.options("/api/r/courses/1")
    record = ok(record_response)
    assert record_response.headers["allow"] == "OPTIONS, GET, HEAD, PATCH, DELETE"
    short_name = next(f for f in record["fields"] if f["name"] == "short_name")
    assert short_name["read_only"] is True  # read-only once created
    problem(await editor.options("/api/r/courses/999999"), 404)
    problem(await editor.options("/api/r/nothing"), 404)


async def test_meta_names_display_live_and_related_records(client_for: ClientFor) -> None:
    editor = await client_for("editor")
    meta = {r["name"]: r for r in ok(await editor.get("/api/meta"))["resources"]}
    courses = meta["courses"]
    assert courses["display"] == "title"  # no name column: its title names a course
    assert meta["instructors"]["display"] == "name"
    assert meta["sessions"]["display"] == "id"  # no text column: its key
    assert all(r["live"] is True for r in meta.values())  # every demo table is tracked
    assert courses["related"] == COURSE_RELATED
    assert meta["instructors"]["related"] == [
        {"resource": "course_instructors", "field": "instructor_id", "label": "Course instructors"},
        {
            "resource": "courses",
            "field": "instructor_id",
            "label": "Courses",
            "through": {"resource": "course_instructors", "field": "course_id"},
        },
    ]
    assert meta["sessions"]["related"] == []
    # OPTIONS on the collection and on a record say the same.
    assert ok(await editor.options("/api/r/courses"))["related"] == COURSE_RELATED
    assert ok(await editor.options("/api/r/courses/1"))["related"] == COURSE_RELATED


async def test_related_never_names_a_resource_the_user_cannot_view(
    client_for: ClientFor,
) -> None:
    # An instructor views courses and sessions only (and their overview): not
    # instructors, not course_instructors, not categories.
    instructor = await client_for("instructor")
    meta = {r["name"]: r for r in ok(await instructor.get("/api/meta"))["resources"]}
    assert set(meta) == {"courses", "sessions", "course_overview"}
    assert meta["courses"]["related"] == [
        {"resource": "sessions", "field": "course_id", "label": "Sessions"}
    ]
    assert ok(await instructor.options("/api/r/courses"))["related"] == meta["courses"]["related"]
    fields = {f["name"]: f for f in meta["courses"]["fields"]}
    # A link to a resource it cannot view is not described either.
    assert "relation" not in fields["category_id"]
    assert "relation" not in fields["university_id"]
    sessions = {f["name"]: f for f in meta["sessions"]["fields"]}
    assert sessions["course_id"]["relation"] == {"resource": "courses", "display": "title"}


def test_a_link_through_a_field_the_user_cannot_read_is_left_out() -> None:
    registry = demo_registry()
    courses = registry.get("courses")
    actor = Actor(id=7, name="Pat", roles=frozenset({"clerk"}))

    def related(grants: dict[str, Grant]) -> list[str]:
        policy = RolePolicy({"clerk": {"courses": Grant(actions={"view"}), **grants}})
        return [r["label"] for r in related_meta(policy, actor, registry, courses)]

    everything = {
        "sessions": Grant(actions={"view"}),
        "course_instructors": Grant(actions={"view"}),
        "instructors": Grant(actions={"view"}),
    }
    assert related(everything) == ["Course instructors", "Sessions", "Instructors"]
    hidden_course = {**everything, "sessions": Grant(actions={"view"}, hide={"course_id"})}
    assert related(hidden_course) == ["Course instructors", "Instructors"]
    # The link table's column pointing at the far end is hidden: no through-link.
    hidden_far = {
        **everything,
        "course_instructors": Grant(actions={"view"}, hide={"instructor_id"}),
    }
    assert related(hidden_far) == ["Course instructors", "Sessions"]
    # The far end viewable but not the link table: neither link.
    no_link_table = {k: v for k, v in everything.items() if k != "course_instructors"}
    assert related(no_link_table) == ["Sessions"]


def test_links_name_their_column_when_one_resource_points_twice() -> None:
    metadata = MetaData()
    users = Table("users", metadata, Column("id", Integer, primary_key=True), Column("name", Text))
    Table("shelves", metadata, Column("a", Integer, primary_key=True), Column("b", Integer))
    tickets = Table(
        "tickets",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("assignee_id", Integer, nullable=False),
        Column("reporter_id", Integer, nullable=False),
        Column("shelf_a", Integer),
        Column("shelf_b", Integer),
        ForeignKeyConstraint(["assignee_id"], ["users.id"]),
        ForeignKeyConstraint(["reporter_id"], ["users.id"]),
        # A composite foreign key cannot be followed with one filter: no link.
        ForeignKeyConstraint(["shelf_a", "shelf_b"], ["shelves.a", "shelves.b"]),
    )
    shelves = metadata.tables["shelves"]
    registry = Registry([resource_from_table(t) for t in (users, shelves, tickets)])
    assert registry.links("shelves") == ()
    links = registry.links("users")
    assert [(link.field, link.label, link.through) for link in links] == [
        ("assignee_id", "Tickets (Assignee id)", None),
        ("reporter_id", "Tickets (Reporter id)", None),
        # Two NOT NULL keys to users and nothing else required: tickets link
        # users to users too, both ways.
        ("assignee_id", "Users (Reporter id)", "tickets"),
        ("reporter_id", "Users (Assignee id)", "tickets"),
    ]
    # A ticket that needs a title of its own is a record, not a link.
    tickets.append_column(Column("title", Text, nullable=False))
    links = Registry([resource_from_table(t) for t in (users, shelves, tickets)]).links("users")
    assert [link.label for link in links] == ["Tickets (Assignee id)", "Tickets (Reporter id)"]


async def test_every_read_only_field_says_why(client_for: ClientFor, conninfo: str) -> None:
    def reasons(meta: dict[str, object]) -> dict[str, str | None]:
        fields = meta["fields"]
        assert isinstance(fields, list)
        for f in fields:
            # A reason exactly when the field is read-only.
            assert ("read_only_reason" in f) == f["read_only"], f
        return {f["name"]: f.get("read_only_reason") for f in fields}

    editor = await client_for("editor")
    record = reasons(ok(await editor.options("/api/r/courses/1")))
    assert record["id"] == "Filled in by the database."
    assert record["short_name"] == "Set when the record is created; it cannot change afterwards."
    assert record["title"] is None
    # A new record may set its short name.
    assert reasons(ok(await editor.options("/api/r/courses")))["short_name"] is None

    instructor = await client_for("instructor")
    taught = reasons(ok(await instructor.options(f"/api/r/courses/{taught_courses(conninfo)[0]}")))
    assert taught["title"] == "You may not change this field on this record."
    assert taught["description"] is None

    viewer = await client_for("viewer")
    assert set(reasons(ok(await viewer.options("/api/r/courses/1"))).values()) == {
        "You may view this, not change it."
    }


@pytest.mark.parametrize("role", ["admin", "editor", "instructor", "reviewer", "auditor", "viewer"])
@pytest.mark.parametrize("row", [None, {"id": 1, "status": "draft", "title": "T"}])
def test_a_meta_body_is_its_struct_exactly(role: str, row: dict[str, object] | None) -> None:
    """The routes answer ResourceMeta Structs built from the meta's dicts: nothing is dropped."""
    registry, policy = demo_registry(), demo_policy()
    actor = Actor(id=1, name=role, roles=frozenset({role}), is_superuser=role == "admin")
    for resource in registry:
        if not policy.allows(actor, resource, "view"):
            continue
        body = resource_meta(policy, actor, resource, registry, row)
        typed = msgspec.convert(body, ResourceMeta)
        assert msgspec.to_builtins(typed) == body, resource.name


def test_a_field_that_names_one_record_alone_says_it_is_unique() -> None:
    """The import wizard offers these to match lines by: the one-field key, unique columns."""
    metadata = MetaData()
    things = Table(
        "things",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("code", Text, unique=True),
        Column("slug", Text),
        Column("a", Text),
        Column("b", Text),
        Column("note", Text),
        UniqueConstraint("a", "b"),  # together, not alone
        Index("things_slug", "slug", unique=True),
        Index("things_note", "note"),
    )
    x, y = Column("x", Integer, primary_key=True), Column("y", Integer, primary_key=True)
    pair = Table("pairs", metadata, x, y)
    registry = Registry([resource_from_table(things), resource_from_table(pair)])
    actor = Actor(id=1, name="admin", roles=frozenset({"admin"}), is_superuser=True)
    policy = RolePolicy({})
    meta = resource_meta(policy, actor, registry.get("things"), registry)
    assert {f["name"] for f in meta["fields"] if f.get("unique")} == {"id", "code", "slug"}
    # A part of a composite key is not unique alone.
    meta = resource_meta(policy, actor, registry.get("pairs"), registry)
    assert [f.get("unique") for f in meta["fields"]] == [None, None]


async def test_meta_says_how_large_an_import_may_be(client_for: ClientFor) -> None:
    editor = await client_for("editor")
    meta = ok(await editor.get("/api/meta"))
    assert meta["import_max_bytes"] == 64 * 1024 * 1024
    courses = next(r for r in meta["resources"] if r["name"] == "courses")
    assert [f["name"] for f in courses["fields"] if f.get("unique")] == ["id"]
