"""Fixtures for tests that call domain actions directly, with no HTTP in between.

``services`` is the demo app's own set of services over freshly seeded
data; ``actor_for("editor")`` is a demo user as the server would act for
it. Helpers read the change log as the contract states it (who, through
which surface, what changed).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import psycopg
import pytest
from litestar import Litestar
from psycopg.rows import dict_row

from collabadmin.auth.users import actor_from_row, find_user
from collabadmin.changelog.changes import CHANGE_LOG
from collabadmin.context import services_of
from collabadmin.db.engine import Actor, Database
from collabadmin.drafts.service import DraftService
from collabadmin.resources.service import RecordService
from collabadmin.workflows.runs import RunService

__all__ = ["ActorFor", "Domain", "actor_for", "changes_of", "last_change", "services"]

ActorFor = Callable[[str], Awaitable[Actor]]


@dataclass(frozen=True)
class Domain:
    """The demo app's services that actions are given."""

    db: Database
    records: RecordService
    drafts: DraftService
    runs: RunService


@pytest.fixture
def services(fresh_data: None, request: pytest.FixtureRequest) -> Domain:
    # The app is asked for after the data is reset: when this test is the first
    # to start it, its background tasks' first pass (the workflow evaluator's
    # evaluation of every run) then never meets the reset, which would end it.
    app: Litestar = request.getfixturevalue("app")
    found = services_of(app)
    return Domain(
        db=found.get(Database),
        records=found.get(RecordService),
        drafts=found.get(DraftService),
        runs=found.get(RunService),
    )


@pytest.fixture
def actor_for(services: Domain) -> ActorFor:
    async def make(username: str) -> Actor:
        async with services.db.connection() as tx:
            row = await find_user(tx, username)
        assert row is not None, username
        return actor_from_row(row)

    return make


def changes_of(conninfo: str, resource: str, pk: Any) -> list[dict[str, Any]]:
    """A row's change-log entries, oldest first."""
    with psycopg.connect(conninfo, row_factory=dict_row) as conn:
        return conn.execute(
            "SELECT id, op, actor_id, actor_name, source, request_id, version, diff,"
            " txid::text AS txid"
            f" FROM {CHANGE_LOG.fullname} WHERE resource = %s AND pk = %s ORDER BY id",
            (resource, str(pk)),
        ).fetchall()


def last_change(conninfo: str, resource: str, pk: Any) -> dict[str, Any]:
    entries = changes_of(conninfo, resource, pk)
    assert entries, f"no change of {resource} {pk}"
    return entries[-1]
