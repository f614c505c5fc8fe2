"""Publishing needs ``publish`` on the draft's record, within the publisher's row scope."""

from __future__ import annotations

from collections.abc import AsyncIterator

import psycopg
import pytest
from litestar import Litestar
from sqlalchemy import ColumnElement

from collabadmin.app import create_app
from collabadmin.db.engine import Actor
from collabadmin.demo.policy import demo_policy
from collabadmin.demo.resources import demo_registry
from collabadmin.resources.policy import Action
from collabadmin.resources.resource import Resource
from collabadmin.resources.roles import RolePolicy
from collabadmin.settings import Settings
from tests.conftest import ClientFor, anonymous_client
from tests.helpers import ok, problem, running
from tests.io.test_import import CSV, csv_bytes

PASSWORD = "correct horse battery staple"


class NarrowPublish(RolePolicy):
    """The demo's policy, with the reviewer publishing only courses 1 to 10 (viewing all)."""

    def row_filter(
        self, actor: Actor, resource: Resource, action: Action = "view"
    ) -> ColumnElement[bool] | None:
        if action == "publish" and resource.name == "courses" and "reviewer" in actor.roles:
            return resource.column("id") <= 10
        return super().row_filter(actor, resource, action)


@pytest.fixture
async def narrow_app(
    database_url: str, demo_users: None, fresh_data: None
) -> AsyncIterator[Litestar]:
    registry = demo_registry()
    policy = NarrowPublish(demo_policy().roles)
    policy.check(registry)
    application = create_app(
        Settings(database_url=database_url, pool_size=4), registry, policy=policy
    )
    async with running(application):
        yield application


async def test_a_reviewer_publishes_no_draft_outside_its_publish_scope(
    client_for: ClientFor, narrow_app: Litestar, conninfo: str
) -> None:
    editor = await client_for("editor")
    staged = ok(
        await editor.post(
            "/api/r/courses/import",
            params={"dry_run": "false", "as": "drafts"},
            content=csv_bytes([["id", "title"], [3, "Three, staged"], [30, "Thirty, staged"]]),
            headers=CSV,
        )
    )
    batch = staged["batch"]
    async with anonymous_client(narrow_app) as reviewer:
        login = ok(
            await reviewer.post(
                "/api/auth/login", json={"username": "reviewer", "password": PASSWORD}
            )
        )
        reviewer.headers["X-CSRF-Token"] = login["csrf_token"]
        drafts = ok(await reviewer.get("/api/drafts", params={"batch": str(batch)}))["items"]
        by_pk = {d["pk"]: d["id"] for d in drafts}
        assert set(by_pk) == {"3", "30"}
        problem(await reviewer.post(f"/api/drafts/batches/{batch}/publish"), 403)
        problem(await reviewer.post(f"/api/drafts/{by_pk['30']}/approve"), 403)
        problem(await reviewer.post(f"/api/drafts/{by_pk['30']}/publish"), 403)
        with psycopg.connect(conninfo) as conn:
            titles = conn.execute("SELECT title FROM courses WHERE id IN (3, 30)").fetchall()
        assert ("Thirty, staged",) not in titles
        assert ("Three, staged",) not in titles
        ok(await reviewer.post(f"/api/drafts/{by_pk['3']}/approve"))
        ok(await reviewer.post(f"/api/drafts/{by_pk['3']}/publish"))
