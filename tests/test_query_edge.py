"""Typed query parameters and headers keep the strictness of the hand-written parsers.

Litestar reads a typed query parameter leniently: it keeps the last of a
repeated one, msgspec reads ``1e2`` and ``1.0`` as integers and ``1`` as
true, and parameters a handler does not declare are ignored. The
:func:`~collabadmin.web.strict_query` hook refuses all of these with a 400
naming the parameter, before the handler runs; these tests send each to
every typed query of the records, stats, audit and prefs routes.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.conftest import ClientFor
from tests.helpers import ok, problem

# Each typed query: its path and a query string it accepts.
LIMITED = (
    ("/api/r/courses", "limit=5"),
    ("/api/r/courses/1/history", "limit=5"),
    ("/api/audit", "limit=5"),
)
QUERIES = (
    *LIMITED,
    ("/api/r/courses", "sort=title&deleted=include&filter[status]=open"),
    ("/api/stats/courses", "by=status&deleted=include"),
    ("/api/audit", "op=update&source=api"),
    ("/api/audit/verify", "full=false"),
)


@pytest.fixture
async def admin(client_for: ClientFor) -> httpx.AsyncClient:
    return await client_for("admin")


@pytest.mark.parametrize(("path", "query"), QUERIES)
async def test_each_typed_query_is_accepted_as_sent(
    admin: httpx.AsyncClient, path: str, query: str
) -> None:
    ok(await admin.get(f"{path}?{query}"))


@pytest.mark.parametrize(("path", "_"), LIMITED)
@pytest.mark.parametrize(
    "limit",
    [
        "٣",  # an Arabic-Indic three: str.isdigit() is true
        "\uff15",  # a fullwidth five
        "²",
        "+1",
        "1e2",  # msgspec reads it as 100
        "1.0",  # msgspec reads it as 1
        " 5",
        "5_0",
        "0x10",
        "9" * 25,
        "",
        "0",
        "-1",
    ],
)
async def test_a_page_size_is_plain_ascii_digits_in_range(
    admin: httpx.AsyncClient, path: str, _: str, limit: str
) -> None:
    body = problem(await admin.get(path, params={"limit": limit}), 400)
    assert "limit" in body["detail"]


@pytest.mark.parametrize(
    ("path", "query", "name"),
    [
        ("/api/r/courses", "limit=1&limit=2", "limit"),
        ("/api/r/courses", "sort=title&sort=-title", "sort"),
        ("/api/r/courses", "deleted=only&deleted=include", "deleted"),
        ("/api/r/courses", "q=a&q=b", "q"),
        ("/api/r/courses", "cursor=a&cursor=b", "cursor"),
        ("/api/r/courses/1/history", "limit=1&limit=2", "limit"),
        ("/api/stats/courses", "by=status&by=status", "by"),
        ("/api/audit", "limit=1&limit=2", "limit"),
        ("/api/audit", "op=update&op=insert", "op"),
        ("/api/audit.csv", "resource=courses&resource=sessions", "resource"),
        ("/api/audit/verify", "full=false&full=true", "full"),
    ],
)
async def test_a_single_parameter_given_twice_is_refused(
    admin: httpx.AsyncClient, path: str, query: str, name: str
) -> None:
    """Litestar would keep the last value; a client sending two meant something else."""
    body = problem(await admin.get(f"{path}?{query}"), 400)
    assert body["detail"] == f"Parameter {name!r} given more than once."
    assert body["parameter"] == name


@pytest.mark.parametrize(
    ("method", "path", "query"),
    [
        ("GET", "/api/r/courses", "page=2"),
        ("GET", "/api/r/courses", "filters[status]=open"),
        ("GET", "/api/r/courses/1", "fields=title"),
        ("GET", "/api/r/courses/1/history", "before=3"),
        ("OPTIONS", "/api/r/courses", "x=1"),
        ("GET", "/api/stats/courses", "by=status&limit=5"),
        ("GET", "/api/audit", "colour=red"),
        ("GET", "/api/audit/head", "x=1"),
        ("GET", "/api/meta", "x=1"),
        ("GET", "/api/prefs/views/courses", "x=1"),
        ("GET", "/api/views/courses", "x=1"),
    ],
)
async def test_an_undeclared_parameter_is_refused(
    admin: httpx.AsyncClient, method: str, path: str, query: str
) -> None:
    body = problem(await admin.request(method, f"{path}?{query}"), 400)
    assert body["detail"].startswith("Unknown query parameter")


@pytest.mark.parametrize("value", ["1", "0", "True", "TRUE", "yes", "on", ""])
async def test_a_yes_no_parameter_is_true_or_false(admin: httpx.AsyncClient, value: str) -> None:
    """msgspec would read 1, 0 and TRUE as booleans: a purge is never asked for by accident."""
    body = problem(await admin.get("/api/audit/verify", params={"full": value}), 400)
    assert body["detail"] == "full must be true or false."
    response = await admin.delete(
        "/api/r/courses/7", params={"purge": value}, headers={"If-Match": '"1"'}
    )
    assert problem(response, 400)["detail"] == "purge must be true or false."
    # Nothing was deleted.
    assert ok(await admin.get("/api/r/courses/7"))["_deleted_at"] is None


async def test_typed_values_out_of_their_range_are_400(admin: httpx.AsyncClient) -> None:
    for path, params in (
        ("/api/r/courses", {"limit": "100000"}),
        ("/api/r/courses/1/history", {"limit": "201"}),
        ("/api/audit", {"limit": "501"}),
        ("/api/r/courses", {"deleted": "sometimes"}),
        ("/api/audit", {"op": "erase"}),
        ("/api/stats/courses", {}),  # by is required
    ):
        body = problem(await admin.get(path, params=params), 400)
        assert body["detail"], (path, params)


async def test_a_filter_key_is_still_checked_by_the_list(admin: httpx.AsyncClient) -> None:
    for key in ("filter[]", "filter[title][LIKE]", "filter[title]x", "filter[a][b][c]"):
        problem(await admin.get("/api/r/courses", params={key: "x"}), 400)


async def test_precondition_headers_are_typed_and_strict(admin: httpx.AsyncClient) -> None:
    url = "/api/r/courses/8"
    merge = {"Content-Type": "application/merge-patch+json"}
    for headers, status in (
        ({}, 428),
        ({"If-Match": "*"}, 428),
        ({"If-Match": '"1", "2"'}, 428),
        ({"If-Match": '"+1"'}, 428),
        ({"X-Base-Version": "1.0"}, 400),
        ({"X-Base-Version": "+1"}, 400),
        ({"X-Base-Version": "1e0"}, 400),
    ):
        response = await admin.patch(url, json={"title": "x"}, headers={**merge, **headers})
        problem(response, status)
    written = ok(
        await admin.patch(url, json={"title": "Typed"}, headers={**merge, "if-match": '"1"'})
    )
    assert written["_version"] == 2


async def _document(client: httpx.AsyncClient) -> dict[str, Any]:
    document: dict[str, Any] = ok(await client.get("/schema/openapi.json"))
    return document


def _parameters(operation: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(p["in"], p["name"]): p for p in operation.get("parameters", [])}


async def test_the_document_lists_typed_parameters_and_closed_bodies(
    anon: httpx.AsyncClient,
) -> None:
    document = await _document(anon)
    paths, schemas = document["paths"], document["components"]["schemas"]
    listing = _parameters(paths["/api/r/{resource}"]["get"])
    assert {name for _, name in listing} == {
        "resource", "sort", "q", "limit", "cursor", "deleted", "filter"
    }  # fmt: skip
    assert listing[("query", "limit")]["schema"]["minimum"] == 1
    assert listing[("query", "deleted")]["schema"]["enum"] == ["exclude", "include", "only"]
    found = listing[("query", "filter")]
    assert (found["style"], found["explode"]) == ("deepObject", True)
    assert found["schema"]["type"] == "object"
    # Per resource, too.
    assert ("query", "filter") in _parameters(paths["/api/r/courses"]["get"])
    patching = _parameters(paths["/api/r/{resource}/{pk}"]["patch"])
    assert {("header", "If-Match"), ("header", "X-Base-Version")} <= set(patching)
    assert ("header", "If-Match") in _parameters(paths["/api/r/{resource}/{pk}"]["delete"])
    audit = _parameters(paths["/api/audit"]["get"])
    assert ("query", "actor") in audit
    assert audit[("query", "limit")]["schema"]["maximum"] == 500
    # A body that refuses unknown members says so; nested ones too.
    for name in ("RevertRequest", "ViewConfigRequest", "SharedViewRequest", "ColumnChoice"):
        assert schemas[name]["additionalProperties"] is False, name
    put = paths["/api/prefs/views/{resource}"]["put"]["requestBody"]
    assert put["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ViewConfigRequest"
    }
