"""Schemathesis against the OpenAPI document: no 5xx, no response outside the schema.

Every operation is called with generated path and query parameters (and
bodies where the schema has them), authenticated as the admin so that no
operation stops at 401/403, against a real server process on the test
database. The budget is bounded (a few examples per operation) so the run
fits in CI; raise ``COLLABADMIN_FUZZ_EXAMPLES`` for a longer run.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

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


# The inputs that used to answer 500, sent explicitly to every operation
# (random generation rarely hits them): non-ASCII digits, which pass
# isdigit() but fail int(); NUL characters, which PostgreSQL text refuses;
# keys beyond a column's range; JSON deeper than any record.
HOSTILE_VALUES = ("²", "٣", "\uff11", "a\x00b", "2147483648", "9" * 25)
SANE_PATH = {"resource": "courses", "name": "launch-course", "key": "review"}
HOSTILE_BODIES: tuple[dict[str, Any], ...] = (
    {"username": "a\x00b", "password": "x"},
    {"name": "a\x00b", "title": "a\x00b", "comment": "a\x00b"},
    {"a\x00b": 1},
    {"data": {"title": "a\x00b"}, "fields": ["a\x00b"], "change_id": 1},
    {"nested": json.loads("[" * 40 + "]" * 40)},
)


def _hostile_cases(operation: Any) -> Iterator[schemathesis.Case]:
    names = [p.name for p in operation.path_parameters]
    sane = {n: SANE_PATH.get(n, "1") for n in names}
    write = operation.method.upper() in ("POST", "PUT", "PATCH", "DELETE")
    headers = {"If-Match": '"²"', "X-Base-Version": "²"} if write else {}
    for value in HOSTILE_VALUES:
        for name in names:
            yield operation.Case(path_parameters={**sane, name: value}, headers=headers)
        if not write:
            for param in ("limit", "cursor", "q", "filter[id]", "filter[title]"):
                yield operation.Case(path_parameters=sane, query={param: value})
    if write:  # bodies the documented schemas would never generate
        for body in HOSTILE_BODIES:
            yield operation.Case(
                path_parameters=sane, headers=headers, body=body, media_type="application/json"
            )


@pytest.mark.parametrize(
    "operation",
    [result.ok() for result in SCHEMA.get_all_operations()],
    ids=lambda op: f"{op.method.upper()} {op.path}",
)
def test_hostile_inputs_never_answer_5xx(operation: Any, target: tuple[ServerProcess, str]) -> None:
    server, token = target
    for case in _hostile_cases(operation):
        case.call_and_validate(
            base_url=server.http,
            headers={"Authorization": f"Bearer {token}"},
            checks=[not_a_server_error],
            timeout=30,
        )
