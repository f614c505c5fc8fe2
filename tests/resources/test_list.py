"""Listing: filters, sort, search, keyset paging, soft-deleted rows, and bad queries."""

from __future__ import annotations

import base64
import datetime as dt

import pytest

from tests.conftest import ClientFor
from tests.helpers import list_all, ok, problem


async def test_default_list_is_sorted_by_title_with_a_total(client_for: ClientFor) -> None:
    viewer = await client_for("viewer")
    page = ok(await viewer.get("/api/r/courses", params={"limit": "10"}))
    assert len(page["items"]) == 10
    assert page["total"] == 60
    titles = [c["title"] for c in page["items"]]
    assert titles == sorted(titles)
    assert page["next_cursor"]
    first = page["items"][0]
    assert {"_version", "_deleted_at", "id", "title", "short_name"} <= set(first)


@pytest.mark.parametrize(
    "sort",
    ["-start_date", "start_date,-title", "status,-id", "-category_id,start_date", "title"],
)
async def test_keyset_paging_visits_every_row_once_in_order(
    client_for: ClientFor, sort: str
) -> None:
    """Paging with small pages equals one big page, including NULL sort values."""
    viewer = await client_for("viewer")
    whole = ok(await viewer.get("/api/r/courses", params={"sort": sort, "limit": "500"}))["items"]
    paged = await list_all(viewer, "/api/r/courses", sort=sort, limit="7")
    assert [c["id"] for c in paged] == [c["id"] for c in whole]
    assert len(paged) == 60
    if sort == "-start_date":
        dates = [c["start_date"] for c in paged]
        assert any(d is None for d in dates), "the seed should include courses without a date"
        non_null = [d for d in dates if d is not None]
        assert non_null == sorted(non_null, reverse=True)
        assert dates[-1] is None  # NULLs last


async def test_filters_combine_and_use_typed_operators(client_for: ClientFor) -> None:
    viewer = await client_for("viewer")
    everything = await list_all(viewer, "/api/r/courses", limit="500")
    cutoff = "2027-01-01"
    items = await list_all(
        viewer,
        "/api/r/courses",
        **{"filter[status]": "open", "filter[start_date][gte]": cutoff, "limit": "500"},
    )
    expected = [
        c for c in everything
        if c["status"] == "open" and c["start_date"] is not None and c["start_date"] >= cutoff
    ]  # fmt: skip
    assert sorted(c["id"] for c in items) == sorted(c["id"] for c in expected)
    assert items


@pytest.mark.parametrize(
    ("params", "predicate"),
    [
        ({"filter[status][ne]": "open"}, lambda c: c["status"] != "open"),
        ({"filter[status][in]": "draft,closed"}, lambda c: c["status"] in ("draft", "closed")),
        ({"filter[id][lt]": "10"}, lambda c: c["id"] < 10),
        ({"filter[id][lte]": "10"}, lambda c: c["id"] <= 10),
        ({"filter[id][gt]": "50"}, lambda c: c["id"] > 50),
        ({"filter[start_date][isnull]": "true"}, lambda c: c["start_date"] is None),
        ({"filter[start_date][isnull]": "false"}, lambda c: c["start_date"] is not None),
        ({"filter[title][contains]": "Algebra"}, lambda c: "Algebra" in c["title"]),
        ({"filter[title][icontains]": "algebra"}, lambda c: "algebra" in c["title"].lower()),
        ({"filter[title][icontains]": "%"}, lambda c: "%" in c["title"]),
        ({"filter[category_id]": "2"}, lambda c: c["category_id"] == 2),
    ],
)
async def test_each_operator(
    client_for: ClientFor, params: dict[str, str], predicate: object
) -> None:
    viewer = await client_for("viewer")
    everything = await list_all(viewer, "/api/r/courses", limit="500")
    items = await list_all(viewer, "/api/r/courses", limit="500", **params)
    assert callable(predicate)
    assert sorted(c["id"] for c in items) == sorted(c["id"] for c in everything if predicate(c))


async def test_search_q_matches_title_or_short_name(client_for: ClientFor) -> None:
    viewer = await client_for("viewer")
    everything = await list_all(viewer, "/api/r/courses", limit="500")
    target = everything[5]
    items = await list_all(viewer, "/api/r/courses", q=target["short_name"].upper())
    assert target["id"] in [c["id"] for c in items]
    assert all(
        target["short_name"].lower() in (c["title"] + c["short_name"]).lower() for c in items
    )


async def test_soft_deleted_rows_are_hidden_unless_asked_for(client_for: ClientFor) -> None:
    editor = await client_for("editor")
    ok(await editor.delete("/api/r/courses/3", headers={"If-Match": '"1"'}))
    default_ids = [c["id"] for c in await list_all(editor, "/api/r/courses", limit="500")]
    assert 3 not in default_ids
    assert len(default_ids) == 59
    included = await list_all(editor, "/api/r/courses", limit="500", deleted="include")
    assert len(included) == 60
    only = ok(await editor.get("/api/r/courses", params={"deleted": "only"}))
    assert [c["id"] for c in only["items"]] == [3]
    assert only["items"][0]["_deleted_at"] is not None


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({"sort": "nope"}, 400),
        ({"sort": "title,title"}, 400),
        ({"filter[nope]": "1"}, 400),
        ({"filter[title][like]": "x"}, 400),
        ({"filter[id]": "one"}, 400),
        ({"filter[id][in]": "1,x"}, 400),
        ({"filter[start_date][gte]": "2026-13-45"}, 400),
        ({"filter[id][contains]": "1"}, 400),
        ({"filter[start_date][isnull]": "maybe"}, 400),
        ({"filter[enrollment_open]": "yes"}, 400),
        ({"limit": "0"}, 400),
        ({"limit": "100000"}, 400),
        ({"limit": "ten"}, 400),
        ({"deleted": "sometimes"}, 400),
        ({"cursor": "not-a-cursor"}, 400),
        ({"cursor": base64.urlsafe_b64encode(b'["title,id",[1]]').decode()}, 400),
        ({"cursor": base64.urlsafe_b64encode(b'["title,id",[{"a":1},"x"]]').decode()}, 400),
        ({"cursor": "x" * 5000}, 400),
        ({"q": "x" * 201}, 400),
        ({"page": "2"}, 400),
    ],
)
async def test_bad_list_queries_are_400(
    client_for: ClientFor, params: dict[str, str], status: int
) -> None:
    viewer = await client_for("viewer")
    path = "/api/r/sessions" if "filter[enrollment_open]" in params else "/api/r/courses"
    problem(await viewer.get(path, params=params), status)


async def test_cursor_from_another_sort_is_refused(client_for: ClientFor) -> None:
    viewer = await client_for("viewer")
    page = ok(await viewer.get("/api/r/courses", params={"sort": "title", "limit": "5"}))
    problem(
        await viewer.get(
            "/api/r/courses", params={"sort": "-title", "cursor": page["next_cursor"]}
        ),
        400,
    )


async def test_unknown_resource_is_404(client_for: ClientFor) -> None:
    viewer = await client_for("viewer")
    problem(await viewer.get("/api/r/nothing"), 404)
    problem(await viewer.get("/api/r/collabadmin_user"), 404)
    problem(await viewer.get("/api/r/collabadmin.collabadmin_user"), 404)


async def test_get_one_record_has_an_etag(client_for: ClientFor) -> None:
    viewer = await client_for("viewer")
    response = await viewer.get("/api/r/sessions/1")
    body = ok(response)
    assert response.headers["etag"] == '"1"'
    dt.date.fromisoformat(body["starts_on"])
    assert isinstance(body["enrollment_open"], bool)
    problem(await viewer.get("/api/r/sessions/0"), 404)
    problem(await viewer.get("/api/r/sessions/1e3"), 404)
