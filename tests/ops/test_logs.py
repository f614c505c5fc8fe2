"""JSON logs: one object a line, carrying the id of the request being handled."""

from __future__ import annotations

import io
import json
import logging
import re
import sys
from collections.abc import Iterator
from typing import Any

import httpx
import psycopg
import pytest
from litestar import Litestar

from collabadmin.ops.logs import REQUEST_ID, JsonFormatter
from collabadmin.resources.actions import PatchRecord
from tests.conftest import anonymous_client
from tests.helpers import ok, patch_record
from tests.ops.conftest import Metered
from tests.servers import start_server

SERVER_REQUEST_ID = re.compile(r"[0-9a-f]{16}")


class Captured:
    def __init__(self, stream: io.StringIO) -> None:
        self.stream = stream

    def records(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.stream.getvalue().splitlines()]


@pytest.fixture
def json_logs() -> Iterator[Captured]:
    """collabadmin's records from INFO, formatted as in ``--log-format json``."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("collabadmin")
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield Captured(stream)
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


@pytest.mark.usefixtures("fresh_data")
async def test_logs_carry_the_request_id_of_the_header_and_the_change_log(
    metered: Metered, conninfo: str, json_logs: Captured, monkeypatch: pytest.MonkeyPatch
) -> None:
    execute = PatchRecord.execute
    deep = logging.getLogger("collabadmin.resources.service")

    async def logged_patch(*args: Any, **kwargs: Any) -> Any:
        deep.warning("patching a course")  # a module that knows nothing of requests
        return await execute(*args, **kwargs)

    monkeypatch.setattr(PatchRecord, "execute", logged_patch)
    async with metered.client("editor") as editor:
        response = await patch_record(editor, "courses", 1, {"description": "logged"}, if_match=1)
    ok(response)
    request_id = response.headers["x-request-id"]

    with psycopg.connect(conninfo) as conn:
        row = conn.execute(
            "SELECT request_id FROM collabadmin.collabadmin_change"
            " WHERE resource = 'courses' AND pk = '1' ORDER BY id DESC LIMIT 1"
        ).fetchone()
    assert row == (request_id,)

    records = json_logs.records()
    inside = [r for r in records if r["message"] == "patching a course"]
    assert len(inside) == 1
    assert inside[0]["request_id"] == request_id
    assert inside[0]["level"] == "WARNING"
    assert inside[0]["logger"] == "collabadmin.resources.service"
    assert inside[0]["time"].endswith("+00:00")
    access = [r for r in records if r["logger"] == "collabadmin.access"]
    mine = [r for r in access if r["request_id"] == request_id]
    assert len(mine) == 1, access
    assert mine[0]["method"] == "PATCH"
    assert mine[0]["route"] == "/api/r/{resource}/{pk}"
    assert mine[0]["status"] == 200
    assert mine[0]["duration_ms"] >= 0
    assert mine[0]["level"] == "INFO"


async def test_an_incoming_request_id_is_kept_apart_from_the_servers_own(
    metered: Metered, json_logs: Captured
) -> None:
    async with metered.client() as client:
        response = await client.get("/health", headers={"X-Request-ID": "lb-0123456789"})
    request_id = response.headers["x-request-id"]
    assert SERVER_REQUEST_ID.fullmatch(request_id)
    assert response.headers["x-client-request-id"] == "lb-0123456789"
    access = [r for r in json_logs.records() if r["logger"] == "collabadmin.access"]
    mine = [r for r in access if r["request_id"] == request_id]
    assert [(r["route"], r["client_request_id"]) for r in mine] == [("/health", "lb-0123456789")]


@pytest.mark.usefixtures("fresh_data")
async def test_a_client_request_id_never_reaches_the_change_log(
    metered: Metered, conninfo: str
) -> None:
    async with metered.client("editor") as editor:
        editor.headers["X-Request-ID"] = "req-0000"
        response = await patch_record(editor, "courses", 2, {"description": "by id"}, if_match=1)
    ok(response)
    with psycopg.connect(conninfo) as conn:
        row = conn.execute(
            "SELECT request_id FROM collabadmin.collabadmin_change"
            " WHERE resource = 'courses' AND pk = '2' ORDER BY id DESC LIMIT 1"
        ).fetchone()
    assert row == (response.headers["x-request-id"],)
    assert row != ("req-0000",)


@pytest.mark.parametrize(
    "sent",
    [
        b"nul\x00inside",
        b"line\nbreak",
        b"trailing-newline\n",  # a "$"-anchored pattern would let this through
        b"crlf\r\nX-Injected: 1",
        b"x" * 10_000,
        b"x" * 65,
        "unicod\u00e9".encode(),
        "\u0661\u0662\u0663".encode(),  # Arabic-Indic digits
        b"",
        b"has space",
        b"\x1b[31mred",
    ],
)
async def test_an_unsafe_client_request_id_is_ignored(
    app: Litestar, json_logs: Captured, sent: bytes
) -> None:
    async with anonymous_client(app) as client:
        response = await client.get("/api/r/courses", headers={b"X-Request-ID": sent})
    # Refused as without the header (a NUL in any header is refused at the
    # edge, before authentication), never a 500.
    assert response.status_code == (400 if b"\x00" in sent else 401)
    request_id = response.headers["x-request-id"]
    assert SERVER_REQUEST_ID.fullmatch(request_id)
    assert "x-client-request-id" not in response.headers
    mine = [r for r in json_logs.records() if r.get("request_id") == request_id]
    assert len(mine) == 1
    assert "client_request_id" not in mine[0]
    if sent:
        text = sent.decode("latin-1")
        assert not any(text in str(v) for r in json_logs.records() for v in r.values())


async def test_a_refused_request_is_logged_with_its_status(
    metered: Metered, json_logs: Captured
) -> None:
    async with metered.client() as client:
        response = await client.get("/api/r/courses")
    assert response.status_code == 401
    request_id = response.headers["x-request-id"]
    access = [r for r in json_logs.records() if r.get("request_id") == request_id]
    assert [(r["route"], r["status"]) for r in access] == [("/api/r/{resource}", 401)]


def test_exceptions_and_extras_are_fields_of_the_object() -> None:
    logger = logging.getLogger("collabadmin.tests.ops")
    record: logging.LogRecord | None = None
    try:
        raise ValueError("bad value")
    except ValueError:
        record = logger.makeRecord(
            logger.name, logging.ERROR, __file__, 1, "failed %s", ("here",), None,
            extra={"resource": "courses"},
        )  # fmt: skip
        record.exc_info = sys.exc_info()
    token = REQUEST_ID.set("req-abcdef12")
    try:
        body = json.loads(JsonFormatter().format(record))
    finally:
        REQUEST_ID.reset(token)
    assert body["message"] == "failed here"
    assert body["request_id"] == "req-abcdef12"
    assert body["resource"] == "courses"
    assert body["exc_type"] == "ValueError"
    assert "ValueError: bad value" in body["exc_info"]
    outside = json.loads(JsonFormatter().format(logger.makeRecord(
        logger.name, logging.INFO, __file__, 1, "no request", (), None)))  # fmt: skip
    assert "request_id" not in outside


def test_serve_with_log_format_json_writes_json_lines(database_url: str) -> None:
    server = start_server(database_url, COLLABADMIN_LOG_FORMAT="json")
    try:
        response = httpx.get(f"{server.http}/health", timeout=10)
        assert response.status_code == 200
    finally:
        server.process.terminate()
        server.process.wait(timeout=30)
    assert server.process.stderr is not None
    lines = server.process.stderr.read().splitlines()
    server.process.stderr.close()
    records = [json.loads(line) for line in lines if line.strip()]  # every line is JSON
    request_id = response.headers["x-request-id"]
    health = [
        r for r in records if r["logger"] == "collabadmin.access" and r["request_id"] == request_id
    ]
    assert len(health) == 1, records
    assert health[0]["route"] == "/health"
    assert health[0]["status"] == 200
