"""Schemathesis against the OpenAPI document: no 5xx, no response outside the schema.

Every operation is called with generated path and query parameters (and
bodies where the schema has them), authenticated as the admin so that no
operation stops at 401/403, against a real server process on the test
database with its small seed loaded. Generated paths and headers are helped
to name records that exist and their versions (see
:func:`~tests.fuzz.conftest.reach_records`), and the run never revokes the
token it authenticates with (:func:`~tests.fuzz.conftest.revokes`). The
budget is bounded (a few examples per operation) so the run fits in CI;
raise ``COLLABADMIN_FUZZ_EXAMPLES`` for a longer run.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
)

from tests.conftest import reset_data
from tests.fuzz.conftest import reach_records, revokes, signed_in, token_for_admin
from tests.fuzz.hostile import hostile_cases
from tests.servers import ServerProcess, start_server

# An import's XLSX body: whatever bytes were generated (the server must refuse them cleanly).
schemathesis.serializer.alias(
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/octet-stream",
)
SCHEMA = schemathesis.openapi.from_path(Path(__file__).parents[2] / "frontend" / "openapi.json")
EXAMPLES = int(os.environ.get("COLLABADMIN_FUZZ_EXAMPLES", "20"))


DEMO_RESOURCES = (
    "universities",
    "categories",
    "instructors",
    "courses",
    "course_instructors",
    "sessions",
)
reach_records(SCHEMA, DEMO_RESOURCES, keys=("1", "2"), doomed=("3",))


@pytest.fixture(scope="module")
def target(
    database_url: str, conninfo: str, demo_users: None
) -> Iterator[tuple[ServerProcess, str, int]]:
    reset_data(conninfo)  # the small seed: records 1, 2 and 3 of every resource exist
    server = start_server(database_url)
    try:
        yield server, *token_for_admin(server.http)
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
    case: schemathesis.Case, target: tuple[ServerProcess, str, int]
) -> None:
    server, token, token_id = target
    if revokes(case, token_id):
        return
    response = case.call_and_validate(
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
    assert signed_in(case, response), response.text


SANE_PATH = {"resource": "courses", "name": "launch-course", "key": "review"}


@pytest.mark.parametrize(
    "operation",
    [result.ok() for result in SCHEMA.get_all_operations()],
    ids=lambda op: f"{op.method.upper()} {op.path}",
)
def test_hostile_inputs_never_answer_5xx(
    operation: Any, target: tuple[ServerProcess, str, int]
) -> None:
    server, token, token_id = target
    for case in hostile_cases(operation, SANE_PATH):
        if revokes(case, token_id):
            continue
        response = case.call_and_validate(
            base_url=server.http,
            headers={"Authorization": f"Bearer {token}"},
            checks=[not_a_server_error],
            timeout=30,
        )
        assert signed_in(case, response), response.text
