"""Relation cells name a record by its display value only where the importer may read it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import psycopg
import pytest
from litestar import Litestar

from collabadmin.app import create_app
from collabadmin.demo.resources import demo_registry
from collabadmin.resources.policy import EDITING_ACTIONS
from collabadmin.resources.roles import Grant, RolePolicy
from collabadmin.settings import Settings
from tests.conftest import anonymous_client
from tests.helpers import ok, running
from tests.io.test_import import CSV, csv_bytes

PASSWORD = "correct horse battery staple"


@pytest.fixture
async def names_hidden_app(
    database_url: str, demo_users: None, fresh_data: None
) -> AsyncIterator[Litestar]:
    """The demo app with an editor that may not read the categories' names."""
    registry = demo_registry()
    policy = RolePolicy(
        {"editor": {"*": Grant(actions=EDITING_ACTIONS),
                    "categories": Grant(actions=EDITING_ACTIONS, hide={"name"})}}
    )  # fmt: skip
    policy.check(registry)
    application = create_app(
        Settings(database_url=database_url, pool_size=4), registry, policy=policy
    )
    async with running(application):
        yield application


async def test_a_hidden_display_value_is_not_a_way_to_name_a_record(
    names_hidden_app: Litestar, conninfo: str
) -> None:
    with psycopg.connect(conninfo) as conn:
        row = conn.execute("SELECT name FROM categories ORDER BY id LIMIT 1").fetchone()
    assert row is not None
    async with anonymous_client(names_hidden_app) as editor:
        login = ok(
            await editor.post("/api/auth/login", json={"username": "editor", "password": PASSWORD})
        )
        editor.headers["X-CSRF-Token"] = login["csrf_token"]
        answers = []
        for name in (row[0], "No category is called this"):
            body = csv_bytes([["id", "category_id"], [1, name]])
            rows = ok(await editor.post("/api/r/courses/import", content=body, headers=CSV))["rows"]
            answers.append([(r["op"], r["errors"]) for r in rows])
    # A name the editor may not read is answered as a name that no category has.
    assert answers[0] == answers[1]
    assert answers[0][0][1][0]["field"] == "category_id"
