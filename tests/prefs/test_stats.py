"""Counts for the list page's chart: ``GET /api/stats/{resource}?by=<field>``."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from tests.conftest import ClientFor, taught_courses
from tests.helpers import list_all, ok, problem


def _as_counter(body: dict[str, Any]) -> Counter[Any]:
    return Counter({c["value"]: c["count"] for c in body["counts"]})


async def test_counts_match_the_list(client_for: ClientFor) -> None:
    viewer = await client_for("viewer")
    body = ok(await viewer.get("/api/stats/courses", params={"by": "status"}))
    assert body["by"] == "status"
    # Every choice, in declaration order, even when zero.
    assert [c["value"] for c in body["counts"]][:3] == ["draft", "open", "closed"]
    everything = await list_all(viewer, "/api/r/courses", limit="500")
    assert _as_counter(body) == Counter(c["status"] for c in everything)
    assert sum(c["count"] for c in body["counts"]) == 60


async def test_counts_take_the_lists_filters_search_and_deleted(client_for: ClientFor) -> None:
    editor = await client_for("editor")
    params = {"filter[start_date][gte]": "2026-06-01", "q": "a"}
    listed = await list_all(editor, "/api/r/courses", limit="500", **params)
    counted = ok(await editor.get("/api/stats/courses", params={"by": "status", **params}))
    assert _as_counter(counted) == Counter(c["status"] for c in listed)
    assert ok(await editor.delete("/api/r/courses/1", headers={"If-Match": '"1"'}))
    status = ok(await editor.get("/api/r/courses/1"))["status"]
    before = _as_counter(ok(await editor.get("/api/stats/courses", params={"by": "status"})))
    only = ok(await editor.get("/api/stats/courses", params={"by": "status", "deleted": "only"}))
    assert {c["value"]: c["count"] for c in only["counts"] if c["count"]} == {status: 1}
    everything = ok(
        await editor.get("/api/stats/courses", params={"by": "status", "deleted": "include"})
    )
    assert sum(_as_counter(everything).values()) == sum(before.values()) + 1


async def test_a_yes_no_field_counts_true_then_false(client_for: ClientFor) -> None:
    editor = await client_for("editor")
    sessions = await list_all(editor, "/api/r/sessions", limit="500")
    body = ok(await editor.get("/api/stats/sessions", params={"by": "enrollment_open"}))
    assert [c["value"] for c in body["counts"]] == [True, False]
    assert _as_counter(body) == Counter(s["enrollment_open"] for s in sessions)


async def test_row_scope_is_applied(client_for: ClientFor, conninfo: str) -> None:
    instructor = await client_for("instructor")
    body = ok(await instructor.get("/api/stats/courses", params={"by": "status"}))
    assert sum(c["count"] for c in body["counts"]) == len(taught_courses(conninfo))


@pytest.mark.parametrize("user", ["instructor", "viewer"])
async def test_a_hidden_field_is_neither_grouped_nor_filtered(
    client_for: ClientFor, user: str
) -> None:
    client = await client_for(user)
    hidden = problem(await client.get("/api/stats/courses", params={"by": "internal_notes"}), 400)
    unknown = problem(await client.get("/api/stats/courses", params={"by": "no_such_field"}), 400)
    assert hidden["detail"].replace("internal_notes", "X") == unknown["detail"].replace(
        "no_such_field", "X"
    )
    problem(
        await client.get(
            "/api/stats/courses", params={"by": "status", "filter[internal_notes]": "x"}
        ),
        400,
    )


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"by": "title"},
        {"by": "status", "filter[status][like]": "x"},
        {"by": "status", "filter[start_date][gte]": "soon"},
        {"by": "status", "deleted": "maybe"},
        {"by": "status", "cursor": "abc"},
        {"by": "status", "limit": "5"},
        {"by": "status", "sort": "title"},
        {"by": "status", "colour": "red"},
    ],
)
async def test_bad_queries_are_a_400(client_for: ClientFor, params: dict[str, str]) -> None:
    editor = await client_for("editor")
    problem(await editor.get("/api/stats/courses", params=params), 400)


async def test_unknown_forbidden_and_anonymous(client_for: ClientFor, anon: Any) -> None:
    instructor = await client_for("instructor")
    problem(await instructor.get("/api/stats/nothing", params={"by": "status"}), 404)
    problem(await instructor.get("/api/stats/universities", params={"by": "name"}), 403)
    problem(await anon.get("/api/stats/courses", params={"by": "status"}), 401)
    editor = await client_for("editor")
    problem(await editor.get("/api/stats/courses?by=status&by=status"), 400)
