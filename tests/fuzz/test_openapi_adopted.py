"""Schemathesis against an adopted schema's OpenAPI document: no 5xx, no body off schema.

The demo's document (test_openapi.py) is the web app's contract; an adopted
database's is built at start-up from what the reflection finds, with a
``Record_<name>`` schema and a path per resource
(collabadmin/resources/schemas.py). This runs every operation of the
document the server serves for fixture.sql (an enum, domains, arrays, json,
bytea, numerics, every date and time type, intervals, uuid, inet, a
trigger-filled tsvector, identity and generated columns, a quoted
mixed-case table, a partitioned table, a view, a second schema), through
``collabadmin serve`` with no ``--app`` in a process of its own, on a
database of its own whose tables hold rows 1, 2 and 3.

Generated cases are helped to reach those rows
(:func:`~tests.fuzz.conftest.reach_records`): reads, patches, deletes and
restores then answer real records, which are checked against the record
schemas too. The document exists only once the server runs, so the schema
is a fixture and the run is one test, each operation a subtest.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
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

from tests.adopt.cli_database import FIXTURE_SCHEMAS, adopt_fixture, connect
from tests.conftest import PASSWORD, _server_database
from tests.fuzz.conftest import reach_records, revokes, signed_in, token_for_admin
from tests.fuzz.hostile import hostile_cases
from tests.servers import ServerProcess, start_server

EXAMPLES = int(os.environ.get("COLLABADMIN_FUZZ_EXAMPLES", "20"))
RESOURCES = ("ticket", "MixedCase", "reading", "open_ticket", "archive.old_ticket")
KEYS = ("1", "2")
DOOMED = ("3",)  # deleted, restored, purged
# Rows under the keys above in every table: one full of values, the others sparse.
ROWS = """
INSERT INTO ticket (ticket_id, title, code, status, release_year, tags, scores, meta, attrs,
                    attachment, price, ratio, weight, precise, small, big, due_on, due_at,
                    logged_at, happened_at, spent, ref, email, client_ip, network, done)
VALUES (1, 'Printer jam', 'AB-12', 'in progress', 1999, '{a,"b c"}', '{3,NULL,1}',
        '{"k": [1, "x"]}', '{"n": 1.5}', '\\x0001', 1234.50, 0.5, 'NaN', 'Infinity', 7,
        9007199254740993, '2026-03-01', '10:15:30', '2026-03-01 10:15:30',
        '2026-03-01 10:15:30+02', '1 day 02:30:00', '2b1e8f3c-6d5a-4c3e-9f10-7a8b9c0d1e2f',
        'Ann@Example.com', '192.168.1.10', '10.0.0.0/8', true),
       (2, 'Sparse', NULL, 'new', NULL, '{}', NULL, 'null', NULL, NULL, NULL, NULL, NULL,
        NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, false),
       (3, 'Done', NULL, 'done', NULL, '{}', NULL, NULL, NULL, NULL, -0.01, NULL, -0.0, 1e-300,
        NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, false);
SELECT setval(pg_get_serial_sequence('ticket', 'ticket_id'), 100);
INSERT INTO "MixedCase" ("Column Name", "Amount") VALUES ('one', 1.5), ('two', NULL), ('3', 0);
INSERT INTO reading VALUES (1, '2026-01-01', 1.5), (2, '2026-01-02', NULL), (3, '2026-01-03', 0);
INSERT INTO archive.old_ticket VALUES (1, 'old one'), (2, 'old two'), (3, 'old three');
"""
CHECKS = [
    not_a_server_error,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]

SCHEMA = schemathesis.pytest.from_fixture("adopted_schema")


@pytest.fixture(scope="module")
def adopted_target(database_url: str) -> Iterator[tuple[ServerProcess, str, int]]:
    """``collabadmin serve --schema public --schema archive`` over fixture.sql, and a token."""
    for url in _server_database(database_url):
        adopt_fixture(url, admin_password=PASSWORD)
        with connect(url) as conn:
            conn.execute(ROWS)
        server = start_server(url, app=None, schemas=FIXTURE_SCHEMAS)
        try:
            yield server, *token_for_admin(server.http)
        finally:
            server.stop()


@pytest.fixture(scope="module")
def adopted_schema(adopted_target: tuple[ServerProcess, str, int]) -> Any:
    server, _, _ = adopted_target
    schema = schemathesis.openapi.from_url(f"{server.http}/schema/openapi.json")
    reach_records(schema, RESOURCES, KEYS, DOOMED)
    return schema


@pytest.fixture(autouse=True)
def _node_id_for_schemathesis(request: pytest.FixtureRequest) -> None:
    """Schemathesis 4.32's lazy schemas read ``Node._nodeid``, which pytest 9 calls ``_id``."""
    request.node._nodeid = request.node.nodeid


@pytest.mark.timeout(max(300, 15 * EXAMPLES))  # one test for every operation
@SCHEMA.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_no_adopted_operation_answers_5xx_or_off_schema(
    case: schemathesis.Case, adopted_target: tuple[ServerProcess, str, int]
) -> None:
    server, token, token_id = adopted_target
    if revokes(case, token_id):
        return
    response = case.call_and_validate(
        base_url=server.http,
        headers={"Authorization": f"Bearer {token}"},
        checks=CHECKS,
        timeout=30,
    )
    assert signed_in(case, response), response.text


def test_hostile_inputs_to_adopted_records_never_answer_5xx(
    adopted_schema: Any, adopted_target: tuple[ServerProcess, str, int]
) -> None:
    """The inputs of :mod:`tests.fuzz.hostile`, to every operation on an adopted record."""
    server, token, token_id = adopted_target
    operations = [
        result.ok()
        for result in adopted_schema.get_all_operations()
        if any(result.ok().path.startswith(f"/api/r/{name}") for name in RESOURCES)
    ]
    assert len(operations) >= 4 * len(RESOURCES)
    for operation in operations:
        for case in hostile_cases(operation, {"resource": "ticket"}):
            if revokes(case, token_id):
                continue
            response = case.call_and_validate(
                base_url=server.http,
                headers={"Authorization": f"Bearer {token}"},
                checks=[not_a_server_error],
                timeout=30,
            )
            assert signed_in(case, response), response.text
