"""Python view models: a keyed SELECT and the tables it watches, served and pushed like a view.

The model here is an instructor's load (how many courses each teaches),
served by an app of its own (beside the demo's, on the same database) whose
policy hides the instructor's name from viewers: the frames and bodies of a
view model are filtered like any resource's.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import psycopg
import pytest
import uvicorn
from sqlalchemy import Column, DateTime, Integer, MetaData, Table, Text

from collabadmin.app import create_app
from collabadmin.db.engine import Database
from collabadmin.db.live_copy import make_model_copy
from collabadmin.demo.resources import demo_resources
from collabadmin.resources.declare import resource_from_table
from collabadmin.resources.policy import EDITING_ACTIONS
from collabadmin.resources.resource import Registry
from collabadmin.resources.roles import Grant, RolePolicy
from collabadmin.settings import Settings
from collabadmin.views import LiveView
from collabadmin.views.evaluator import ViewEvaluator
from tests.conftest import ClientFor, Served, _free_port
from tests.helpers import ok, patch_record, token_for
from tests.views.conftest import SocketFor

LOAD = """
SELECT i.id, i.name,
       (SELECT count(*) FROM course_instructors ci
         WHERE ci.instructor_id = i.id AND ci.deleted_at IS NULL)::integer AS courses
  FROM instructors i
 WHERE i.deleted_at IS NULL
"""

INSTRUCTOR_LOAD = LiveView(
    name="instructor_load",
    select=LOAD,
    watches={"instructors": "id", "course_instructors": "instructor_id"},
)

LOAD_COPY = Table(
    "collabadmin_live_instructor_load",
    MetaData(),
    Column("id", Integer, primary_key=True),
    Column("name", Text),
    Column("courses", Integer),
    Column("version", Integer, nullable=False),
    Column("deleted_at", DateTime(timezone=True)),
    schema="collabadmin",
)


@pytest.fixture(scope="module")
async def load_app(database_url: str, conninfo: str, demo_users: None) -> AsyncIterator[Served]:
    """An app serving the demo's resources and the model, behind a real uvicorn server."""
    with psycopg.connect(conninfo, autocommit=True) as conn:
        # What the application's migration would do, as the database's owner.
        make_model_copy("instructor_load", "id", LOAD, conn=conn)
    registry = Registry(
        [
            *demo_resources(),
            resource_from_table(LOAD_COPY, name="instructor_load", read_only=True),
        ]
    )
    policy = RolePolicy(
        {
            "editor": Grant(actions=EDITING_ACTIONS),
            "viewer": {
                "*": Grant(actions={"view"}),
                "instructor_load": Grant(actions={"view"}, hide={"name"}),
            },
        }
    )
    app = create_app(
        Settings(database_url=database_url, pool_size=4),
        registry,
        policy=policy,
        views=[INSTRUCTOR_LOAD],
    )
    port = _free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)  # sleep-ok: polling uvicorn's start flag, bounded by the task
    yield Served(f"http://127.0.0.1:{port}", f"ws://127.0.0.1:{port}/api/ws")
    server.should_exit = True
    await asyncio.wait_for(task, 30)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("DROP TABLE collabadmin.collabadmin_live_instructor_load")


async def http_for(database_url: str, served: Served, username: str) -> httpx.AsyncClient:
    db = Database(database_url, pool_size=1)
    try:
        async with db.connection() as tx:
            token = await token_for(tx, username, "view-model-tests")
    finally:
        await db.dispose()
    return httpx.AsyncClient(base_url=served.http, headers={"Authorization": f"Bearer {token}"})


async def load_of(client: httpx.AsyncClient, instructor: int) -> dict[str, Any]:
    body: dict[str, Any] = ok(await client.get(f"/api/r/instructor_load/{instructor}"))
    return body


async def test_a_view_model_is_served_and_pushed_like_a_view(
    load_app: Served, database_url: str, client_for: ClientFor, socket_for: SocketFor
) -> None:
    editor = await client_for("editor")
    async with await http_for(database_url, load_app, "viewer") as viewer:
        before = await load_of(viewer, 5)
        assert "name" not in before  # hidden from viewers by the model's resource's policy
        ws = await socket_for("viewer", url=load_app.ws)
        await ws.subscribe("r/instructor_load/5")
        course = ok(
            await editor.post("/api/r/courses", json={"title": "Taught", "short_name": "vm-1"}),
            201,
        )
        ok(
            await editor.post(
                "/api/r/course_instructors", json={"course_id": course["id"], "instructor_id": 5}
            ),
            201,
        )
        frame = await ws.expect("change")
        change = frame["change"]
        assert (change["resource"], change["op"], change["source"]) == (
            "instructor_load",
            "update",
            "view",
        )
        assert change["diff"] == {
            "courses": {"old": before["courses"], "new": before["courses"] + 1}
        }
        assert (await load_of(viewer, 5))["courses"] == before["courses"] + 1


async def test_a_view_model_change_to_a_hidden_field_arrives_without_it(
    load_app: Served, database_url: str, client_for: ClientFor, socket_for: SocketFor
) -> None:
    editor = await client_for("editor")
    async with await http_for(database_url, load_app, "editor") as editor_there:
        shown = await load_of(editor_there, 6)
    viewing = await socket_for("viewer", url=load_app.ws)
    editing = await socket_for("editor", url=load_app.ws)
    for ws in (viewing, editing):
        await ws.subscribe("r/instructor_load/6")
    instructor = ok(await editor.get("/api/r/instructors/6"))
    ok(
        await patch_record(
            editor, "instructors", 6, {"name": "Renamed"}, base=instructor["_version"]
        )
    )
    seen_by_editor = (await editing.expect("change"))["change"]
    assert seen_by_editor["diff"] == {"name": {"old": shown["name"], "new": "Renamed"}}
    assert seen_by_editor["hidden_fields"] is False
    seen_by_viewer = (await viewing.expect("change"))["change"]
    assert seen_by_viewer["diff"] == {}
    assert seen_by_viewer["hidden_fields"] is True
    assert seen_by_viewer["version"] == seen_by_editor["version"]


async def test_a_view_model_without_its_copy_is_refused_at_start(database_url: str) -> None:
    nowhere = LOAD_COPY.to_metadata(MetaData(), name="collabadmin_live_nowhere")
    registry = Registry([*demo_resources(), resource_from_table(nowhere, name="instructor_load")])
    db = Database(database_url, pool_size=1)
    try:
        evaluator = ViewEvaluator(db, registry, [INSTRUCTOR_LOAD])
        with pytest.raises(ValueError, match="live view instructor_load: UndefinedTable"):
            await evaluator.compile()
    finally:
        await db.dispose()


async def test_a_copy_of_another_shape_is_refused_at_start(
    load_app: Served, database_url: str
) -> None:
    """The model's SELECT grew a column its copy was not made with: make the copy again."""
    grown = LiveView(
        name="instructor_load",
        select=LOAD.replace("SELECT i.id, i.name,", "SELECT i.id, i.name, i.email,"),
        watches=INSTRUCTOR_LOAD.watches,
    )
    registry = Registry([*demo_resources(), resource_from_table(LOAD_COPY, name="instructor_load")])
    db = Database(database_url, pool_size=1)
    try:
        with pytest.raises(ValueError, match="make the copy again"):
            await ViewEvaluator(db, registry, [grown]).compile()
    finally:
        await db.dispose()
