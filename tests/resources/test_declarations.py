"""Adopting existing tables: reflection, views as read-only resources, track_table."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import psycopg
import pytest
from litestar import Litestar

from collabadmin.app import create_app
from collabadmin.auth.credentials import create_token
from collabadmin.context import services_of
from collabadmin.db.engine import Database
from collabadmin.db.tracking import tracking_sql
from collabadmin.resources.declare import reflect_resources
from collabadmin.resources.resource import Registry
from collabadmin.settings import Settings
from tests.conftest import ClientFor, anonymous_client, taught_courses
from tests.helpers import field_errors, get_record, history, ok, patch_record, problem

LEGACY = """
DROP VIEW IF EXISTS open_tickets;
DROP TABLE IF EXISTS tickets;
CREATE TABLE tickets (
    id bigserial PRIMARY KEY,
    subject varchar(80) NOT NULL,
    body text,
    priority integer NOT NULL DEFAULT 3,
    closed boolean NOT NULL DEFAULT false
);
INSERT INTO tickets (subject, priority) VALUES ('Printer on fire', 1), ('Coffee', 5);
CREATE VIEW open_tickets AS SELECT id, subject, priority FROM tickets WHERE NOT closed;
"""


@pytest.fixture
async def legacy_app(
    conninfo: str, database_url: str, demo_users: None
) -> AsyncIterator[tuple[Litestar, httpx.AsyncClient]]:
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(LEGACY)
        for statement in tracking_sql("tickets"):
            conn.execute(statement)
    resources = reflect_resources(database_url, only=["tickets", "open_tickets"])
    app = create_app(Settings(database_url=database_url, pool_size=2), Registry(resources))
    db = Database(database_url, pool_size=1)
    async with db.connection() as tx:
        user_id = await tx.value(
            "SELECT id FROM collabadmin.collabadmin_user WHERE username = 'editor'"
        )
        _, token = await create_token(tx, user_id, "legacy", None)
    await db.dispose()
    async with anonymous_client(app, headers={"Authorization": f"Bearer {token}"}) as client:
        yield app, client
    await services_of(app).get(Database).dispose()
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("DROP VIEW open_tickets; DROP TABLE tickets")


async def test_reflected_table_is_a_full_resource(
    legacy_app: tuple[Litestar, httpx.AsyncClient],
) -> None:
    _, client = legacy_app
    meta = ok(await client.options("/api/r/tickets"))
    fields = {f["name"]: f for f in meta["fields"]}
    assert set(fields) == {"id", "subject", "body", "priority", "closed"}
    assert fields["subject"]["max_length"] == 80
    assert fields["subject"]["required"] is True
    assert fields["priority"]["required"] is False  # it has a default
    assert meta["soft_delete"] is True  # track_table added deleted_at
    page = ok(await client.get("/api/r/tickets", params={"sort": "priority"}))
    assert [t["subject"] for t in page["items"]] == ["Printer on fire", "Coffee"]
    ok(await patch_record(client, "tickets", 1, {"closed": True}, if_match=1))
    # Rows written before track_table have no insert entry; changes since do.
    [change] = await history(client, "tickets", 1)
    assert (change["op"], change["version"]) == ("update", 2)
    assert change["diff"] == {"closed": {"old": False, "new": True}}
    assert field_errors(await client.post("/api/r/tickets", json={"priority": "high"})) == {
        "priority": "Must be an integer.",
        "subject": "This field is required.",
    }


async def test_views_are_read_only_resources(
    legacy_app: tuple[Litestar, httpx.AsyncClient],
) -> None:
    _, client = legacy_app
    meta = ok(await client.options("/api/r/open_tickets"))
    # Sharing a list view writes nothing to the view; every other write is refused.
    assert meta["actions"] == ["view", "audit", "share_view"]
    assert all(f["read_only"] for f in meta["fields"])
    items = ok(await client.get("/api/r/open_tickets"))["items"]
    assert [t["subject"] for t in items] == ["Printer on fire", "Coffee"]
    assert items[0]["_version"] == 1  # a view has no version column: always 1
    problem(await client.post("/api/r/open_tickets", json={"subject": "x"}), 403)
    problem(await patch_record(client, "open_tickets", 2, {"subject": "x"}, if_match=1), 403)


async def test_validators_may_depend_on_the_role(client_for: ClientFor, conninfo: str) -> None:
    [course, *_] = taught_courses(conninfo)
    instructor, editor = await client_for("instructor"), await client_for("editor")
    past = {"start_date": "2020-01-01"}
    errors = field_errors(await patch_record(instructor, "courses", course, past, base=1))
    assert errors == {"start_date": "Only an editor may set a start date in the past."}
    ok(await patch_record(instructor, "courses", course, {"start_date": "2099-09-01"}, base=1))
    ok(await patch_record(editor, "courses", course, past, base=2))
    assert (await get_record(editor, "courses", course))["start_date"] == "2020-01-01"


async def test_health_names_the_failing_part(database_url: str) -> None:
    app = create_app(Settings(database_url="postgresql://nobody@127.0.0.1:1/none", pool_size=1))
    async with anonymous_client(app) as client:
        response = await client.get("/health")
    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "database": "unavailable",
        "hub": "starting",
    }
    await services_of(app).get(Database).dispose()
