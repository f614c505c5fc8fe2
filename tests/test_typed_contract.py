"""The OpenAPI document describes what the typed handlers take and give.

Each handler's typed body (``data: JSONBody[T]``) is a documented request
body (not required when it has a default), a Struct that refuses unknown
members says ``additionalProperties: false``, typed query and header
parameters are listed with their bounds, and each response other than a
204 has a schema. Built from the demo app, as ``collabadmin openapi`` does.
"""

from __future__ import annotations

import decimal
from typing import Any

import msgspec
import pytest
from litestar import Litestar

from collabadmin.demo.app import create_demo_app
from collabadmin.settings import Settings
from collabadmin.web import JsonResponse


@pytest.fixture(scope="module")
def built() -> tuple[Litestar, dict[str, Any]]:
    app = create_demo_app(Settings(database_url="postgresql://localhost/unused"))
    return app, app.openapi_schema.to_schema()


def _operations(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        op["operationId"]: op
        for item in document["paths"].values()
        for op in item.values()
        if isinstance(op, dict) and "operationId" in op
    }


def _schema(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def test_every_typed_body_is_documented(built: tuple[Litestar, dict[str, Any]]) -> None:
    app, document = built
    operations = _operations(document)
    checked = 0
    for route in app.routes:
        for handler in getattr(route, "route_handlers", ()):
            data = getattr(handler, "parsed_data_field", None)
            if data is None or handler.operation_id not in operations:
                continue
            body = operations[handler.operation_id]["requestBody"]
            assert body["content"]["application/json"]["schema"], handler.operation_id
            assert body["required"] is not data.has_default, handler.operation_id
            checked += 1
    assert checked >= 15


def test_every_response_has_a_schema(built: tuple[Litestar, dict[str, Any]]) -> None:
    _, document = built
    for operation_id, operation in _operations(document).items():
        for status, response in operation["responses"].items():
            if status in ("204", "4XX", "5XX") or not status.startswith("2"):
                continue
            content = response.get("content") or {}
            assert content, (operation_id, status)
            if "application/json" in content:
                assert content["application/json"].get("schema"), (operation_id, status)


@pytest.mark.parametrize(
    ("operation_id", "closed"),
    [
        ("createRecordDraft", {"NewDraft"}),
        ("patchDraft", {"DraftEditRequest"}),
        ("commentDraft", {"CommentRequest"}),
        ("publishDraft", {"PublishRequest"}),
        ("rebaseDraft", {"RebaseRequest"}),
        ("startWorkflowRun", {"StartRunRequest", "StartSubject"}),
        ("assignWorkflowRun", {"AssignRequest"}),
        ("createToken", {"CreateTokenRequest"}),
    ],
)
def test_bodies_that_refuse_unknown_members_say_so(
    built: tuple[Litestar, dict[str, Any]], operation_id: str, closed: set[str]
) -> None:
    _, document = built
    body = _operations(document)[operation_id]["requestBody"]
    schema = _schema(document, body["content"]["application/json"]["schema"])
    assert schema["title"] in closed
    for name in closed:
        assert document["components"]["schemas"][name]["additionalProperties"] is False
    # The sign-in form takes what it knows and ignores the rest.
    login = _operations(document)["login"]["requestBody"]["content"]["application/json"]
    assert "additionalProperties" not in _schema(document, login["schema"])


def test_optional_bodies_may_be_left_out(built: tuple[Litestar, dict[str, Any]]) -> None:
    _, document = built
    operations = _operations(document)
    for operation_id in (
        "submitDraft",
        "approveDraft",
        "rejectDraft",
        "discardDraft",
        "publishDraft",
        "rebaseDraft",
    ):
        body = operations[operation_id]["requestBody"]
        assert body["required"] is False
        assert "$ref" in body["content"]["application/json"]["schema"]


def _parameters(operation: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(p["in"], p["name"]): p for p in operation.get("parameters", [])}


def test_list_and_header_parameters_are_listed(built: tuple[Litestar, dict[str, Any]]) -> None:
    _, document = built
    operations = _operations(document)
    drafts = _parameters(operations["listDrafts"])
    assert set(drafts) == {
        ("query", name)
        for name in ("status", "resource", "pk", "author", "batch", "cursor", "limit")
    }
    limit = drafts["query", "limit"]["schema"]
    assert (limit["minimum"], limit["maximum"]) == (1, 200)
    runs = _parameters(operations["listWorkflowRuns"])
    assert {name for _, name in runs} == {
        "status", "mine", "workflow", "subject_resource", "subject_pk", "cursor", "limit",
    }  # fmt: skip
    assert {"type": "boolean"} in runs["query", "mine"]["schema"]["oneOf"]
    patch = _parameters(operations["patchDraft"])
    assert {("header", "If-Match"), ("header", "X-Base-Version")} <= set(patch)
    assert ("cookie", "collabadmin_session") in _parameters(operations["login"])


class _Priced(msgspec.Struct):
    data: dict[str, Any]


def test_a_struct_response_writes_decimals_as_numbers() -> None:
    """Exact numbers read from json columns stay numbers, as ``12.50``, not ``"12.50"``."""
    response = JsonResponse(_Priced(data={"price": decimal.Decimal("12.50"), "n": [1]}))
    assert response.render(response.content, "application/json") == (
        b'{"data":{"price":12.50,"n":[1]}}'
    )
