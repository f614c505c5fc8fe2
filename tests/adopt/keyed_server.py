"""An adopted schema with composite keys, served by a real uvicorn server (real raw paths)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import httpx
import psycopg
import pytest
import uvicorn
from litestar import Litestar
from websockets.asyncio.client import connect

from collabadmin.app import create_app
from collabadmin.auth.credentials import create_token
from collabadmin.db.engine import Database
from collabadmin.db.tracking import tracking_sql
from collabadmin.resources.declare import reflect_resources
from collabadmin.resources.resource import Registry
from collabadmin.settings import Settings
from collabadmin.workflows.definitions import Step, Workflow
from tests.conftest import _free_port
from tests.hub.conftest import Socket

# Link tables keyed (int, int) and (text, date), a table with no key, and
# views with and without a usable key.
KEYED_SCHEMA = """
DROP VIEW IF EXISTS ck_link_view, ck_pairs, ck_label_codes;
DROP TABLE IF EXISTS ck_link, ck_label, ck_loose;
CREATE TABLE ck_link (
    left_id  integer NOT NULL,
    right_id integer NOT NULL,
    note     text,
    PRIMARY KEY (left_id, right_id)
);
CREATE TABLE ck_label (
    code  text NOT NULL,
    day   date NOT NULL,
    title text,
    PRIMARY KEY (code, day)
);
CREATE TABLE ck_loose (body text, n integer);
INSERT INTO ck_link VALUES (1, 23, 'one-23'), (1, 24, 'one-24'), (2, 23, 'two-23'),
                           (10, 3, 'ten-3'), (3, 10, 'three-10');
INSERT INTO ck_loose VALUES ('a', 1), ('b', 2);
CREATE VIEW ck_link_view AS SELECT left_id, right_id, note FROM ck_link WHERE note IS NOT NULL;
CREATE VIEW ck_pairs AS
    SELECT l.left_id, b.code FROM ck_link l CROSS JOIN ck_label b;
CREATE VIEW ck_label_codes AS SELECT DISTINCT code, upper(code) AS shout FROM ck_label;
"""
# A workflow whose subject has a composite key: ``:subject`` is the key's text.
LINK_REVIEW = Workflow(
    name="link-review",
    title="Review a link",
    subject="ck_link",
    steps=(
        Step(
            "reviewed",
            "Marked reviewed",
            condition_sql="SELECT l.note = 'reviewed' FROM ck_link l"
            " WHERE l.left_id || ',' || l.right_id = :subject",
        ),
        Step("signed", "Signed off"),
    ),
)
KEYED_TABLES = ("ck_link", "ck_label", "ck_loose", "ck_link_view", "ck_pairs", "ck_label_codes")


def create_keyed_schema(conninfo: str) -> None:
    """The tables and views above, the link tables tracked with their composite keys."""
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(KEYED_SCHEMA)
        for statement in tracking_sql("ck_link", pk=("left_id", "right_id")):
            conn.execute(statement)
        for statement in tracking_sql("ck_label", pk=["code", "day"]):
            conn.execute(statement)


def drop_keyed_schema(conninfo: str) -> None:
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(
            "DROP VIEW IF EXISTS ck_link_view, ck_pairs, ck_label_codes;"
            " DROP TABLE IF EXISTS ck_link, ck_label, ck_loose"
        )


def create_keyed_app(settings: Settings) -> Litestar:
    """The app over the keyed schema, reflected (``collabadmin serve --app`` takes this)."""
    assert settings.database_url is not None
    resources = reflect_resources(
        settings.database_url, only=list(KEYED_TABLES), keys={"ck_label_codes": "code"}
    )
    return create_app(settings, Registry(resources), workflows=[LINK_REVIEW])


@dataclass
class KeyedServer:
    http: str
    ws: str
    tokens: dict[str, str]
    conninfo: str

    def client(self, username: str = "editor") -> httpx.AsyncClient:
        return httpx.AsyncClient(
            base_url=self.http, headers={"Authorization": f"Bearer {self.tokens[username]}"}
        )


SocketOpener = Callable[[str], Awaitable[Socket]]


@pytest.fixture(scope="module")
async def keyed(conninfo: str, database_url: str, demo_users: None) -> AsyncIterator[KeyedServer]:
    create_keyed_schema(conninfo)
    app = create_keyed_app(Settings(database_url=database_url, pool_size=4))
    db = Database(database_url, pool_size=1)
    tokens = {}
    async with db.connection() as tx:
        for username in ("editor", "reviewer", "admin"):
            user_id = await tx.value(
                "SELECT id FROM collabadmin.collabadmin_user WHERE username = %(u)s",
                {"u": username},
            )
            _, tokens[username] = await create_token(tx, user_id, "keys", None)
    await db.dispose()
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)  # sleep-ok: polling uvicorn's start flag, bounded by the task
    yield KeyedServer(f"http://127.0.0.1:{port}", f"ws://127.0.0.1:{port}/api/ws", tokens, conninfo)
    server.should_exit = True
    await asyncio.wait_for(task, 30)
    drop_keyed_schema(conninfo)


@pytest.fixture
async def keyed_socket(keyed: KeyedServer) -> AsyncIterator[SocketOpener]:
    opened = []

    async def open_socket(username: str) -> Socket:
        conn = await connect(
            keyed.ws, additional_headers={"Authorization": f"Bearer {keyed.tokens[username]}"}
        )
        opened.append(conn)
        return Socket(conn)

    yield open_socket
    for conn in opened:
        await conn.close()
