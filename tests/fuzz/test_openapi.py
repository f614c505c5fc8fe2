"""Schemathesis against the OpenAPI document: no 5xx, no response outside the schema.

Every operation is called with generated path and query parameters (and
bodies where the schema has them), authenticated as the admin so that no
operation stops at 401/403, against a real server process on the test
database. The budget is bounded (a few examples per operation) so the run
fits in CI; raise ``COLLABADMIN_FUZZ_EXAMPLES`` for a longer run.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
)

from tests.conftest import PASSWORD
from tests.helpers import ok
from tests.servers import ServerProcess, start_server

SCHEMA = schemathesis.openapi.from_path(Path(__file__).parents[2] / "frontend" / "openapi.json")
EXAMPLES = int(os.environ.get("COLLABADMIN_FUZZ_EXAMPLES", "20"))


@pytest.fixture(scope="module")
def target(database_url: str, demo_users: None) -> Iterator[tuple[ServerProcess, str]]:
    server = start_server(database_url)
    try:
        with httpx.Client(base_url=server.http, timeout=10) as client:
            login = ok(
                client.post("/api/auth/login", json={"username": "admin", "password": PASSWORD})
            )
            token = ok(
                client.post(
                    "/api/auth/tokens",
                    json={"name": "fuzz"},
                    headers={"X-CSRF-Token": login["csrf_token"]},
                ),
                201,
            )["token"]
        yield server, token
    finally:
        server.stop()


@SCHEMA.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_no_operation_answers_5xx_or_off_schema(
    case: schemathesis.Case, target: tuple[ServerProcess, str]
) -> None:
    server, token = target
    case.call_and_validate(
        base_url=server.http,
        headers={"Authorization": f"Bearer {token}"},
        checks=[
            not_a_server_error,
            content_type_conformance,
            response_schema_conformance,
            response_headers_conformance,
        ],
        timeout=30,
    )
