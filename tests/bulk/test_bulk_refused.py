"""What a bulk edit refuses: roles, hidden rows and fields, odd input; a 4xx, nothing written."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.bulk.conftest import log_size
from tests.conftest import ClientFor, taught_courses
from tests.helpers import ok, problem
from tests.hub.conftest import SocketFor


async def bulk(client: httpx.AsyncClient, body: Any, resource: str = "courses") -> httpx.Response:
    return await client.post(f"/api/r/{resource}/bulk", json=body)


@pytest.mark.parametrize(
    ("role", "op"),
    [("viewer", "delete"), ("auditor", "update"), ("reviewer", "purge"), ("editor", "purge")],
)
async def test_a_role_without_the_operation_is_refused_and_nothing_is_written(
    client_for: ClientFor, conninfo: str, role: str, op: str
) -> None:
    client = await client_for(role)
    before = log_size(conninfo)
    body: dict[str, Any] = {"op": op, "pks": ["1", "2"]}
    if op == "update":
        body["patch"] = {"status": "closed"}
    problem(await bulk(client, body), 403)
    assert log_size(conninfo) == before


async def test_an_instructor_learns_nothing_of_the_courses_it_does_not_teach(
    client_for: ClientFor, conninfo: str
) -> None:
    instructor = await client_for("instructor")
    taught = taught_courses(conninfo)
    hidden = next(i for i in range(1, 61) if i not in taught)
    result = ok(
        await bulk(
            instructor,
            {"op": "update", "pks": [str(taught[0]), str(hidden), "999999"],
             "patch": {"description": "by bulk"}},
        )
    )  # fmt: skip
    assert result["done"] == [str(taught[0])]
    # A hidden course is exactly what a missing one is.
    assert result["not_found"] == [str(hidden), "999999"]
    assert result["forbidden"] == []


async def test_a_filter_run_counts_only_the_rows_in_scope(
    client_for: ClientFor, conninfo: str
) -> None:
    instructor = await client_for("instructor")
    taught = taught_courses(conninfo)
    accepted = ok(
        await bulk(
            instructor, {"op": "update", "filter": {}, "patch": {"description": "by filter"}}
        ),
        202,
    )
    job = await _finished(instructor, accepted["job"])
    assert job["total"] == len(taught)
    assert sorted(job["result"]["done"], key=int) == [str(t) for t in taught]


async def _finished(client: httpx.AsyncClient, job_id: int) -> dict[str, Any]:
    from tests.bulk.conftest import job_service  # noqa: PLC0415

    transport = client._transport
    assert isinstance(transport, httpx.ASGITransport)
    await job_service(transport.app).wait(job_id)  # type: ignore[arg-type]
    body: dict[str, Any] = ok(await client.get(f"/api/jobs/{job_id}"))
    assert body["state"] == "done"
    return body


@pytest.mark.parametrize(
    "patch",
    [{"internal_notes": "x"}, {"title": "x"}, {"_version": 9}, {"no_such": 1}],
)
async def test_an_instructor_patch_of_a_field_it_may_not_write_is_422(
    client_for: ClientFor, conninfo: str, patch: dict[str, Any]
) -> None:
    instructor = await client_for("instructor")
    before = log_size(conninfo)
    taught = taught_courses(conninfo)
    body = problem(
        await bulk(instructor, {"op": "update", "pks": [str(taught[0])], "patch": patch}), 422
    )
    assert [e["field"] for e in body["errors"]] == list(patch)
    assert log_size(conninfo) == before


async def test_a_hidden_field_is_unknown_to_a_filter(client_for: ClientFor) -> None:
    instructor = await client_for("instructor")
    viewer_hidden = problem(
        await bulk(
            instructor,
            {"op": "update", "filter": {"internal_notes": {"contains": "a"}},
             "patch": {"description": "x"}},
        ),
        400,
    )  # fmt: skip
    unknown = problem(
        await bulk(
            instructor,
            {"op": "update", "filter": {"no_such_field": {"contains": "a"}},
             "patch": {"description": "x"}},
        ),
        400,
    )  # fmt: skip
    assert viewer_hidden["detail"].replace("internal_notes", "F") == unknown["detail"].replace(
        "no_such_field", "F"
    )


@pytest.mark.parametrize(
    "body",
    [
        {"op": "update", "pks": ["1"], "patch": {"title": "a\u0000b"}},
        {"op": "update", "pks": ["1\u0000"], "patch": {"title": "t"}},
        {"op": "update", "filter": {"title": "a\u0000b"}, "patch": {"title": "t"}},
        {"op": "update", "filter": {"title\u0000": "a"}, "patch": {"title": "t"}},
        {"op": "update", "pks": ["1"], "patch": {"title\u0000": "t"}},
        {"op": "delete", "filter": {}, "q": "a\u0000"},
        {"op": "update", "filter": {"id": {"eq": 10**30}}, "patch": {"title": "t"}},
        {"op": "update", "filter": {"id": {"eq": -(10**30)}}, "patch": {"title": "t"}},
        {"op": "update", "filter": {"id": {"gt": "99999999999999999999"}}, "patch": {"title": "t"}},
        {"op": "update", "filter": {"id": {"in": [1, 10**19]}}, "patch": {"title": "t"}},
        {"op": "update", "pks": ["99999999999999999999"], "patch": {"title": "t"}},
        {"op": "update", "pks": ["-99999999999999999999"], "patch": {"title": "t"}},
        {"op": "update", "pks": ["1"], "patch": {"category_id": 10**30}},
        {"op": "update", "pks": ["1"], "patch": {"university_id": -(2**31) - 1}},
        {"op": "delete", "pks": [str(i) for i in range(1, 10_002)]},
        {"op": "update", "pks": ["1"], "patch": {"title": "t"}, "unknown": 1},
        {"op": "explode", "pks": ["1"]},
        {"op": "update", "pks": [1], "patch": {"title": "t"}},
        {"op": "update", "pks": ["1"], "patch": {"title": {"a": [[[[[[[[[[1]]]]]]]]]]}}},
        {"op": "update", "pks": ["1"], "filter": {}, "patch": {"title": "t"}},
        {"op": "update", "pks": [], "patch": {}},
    ],
)
async def test_bad_input_is_a_4xx_problem_and_writes_nothing(
    client_for: ClientFor, conninfo: str, body: dict[str, Any]
) -> None:
    editor = await client_for("editor")
    before = log_size(conninfo)
    response = await bulk(editor, body)
    assert 400 <= response.status_code < 500, (response.status_code, response.text)
    problem(response, response.status_code)
    assert log_size(conninfo) == before


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        (b"", "application/json"),
        (b"{", "application/json"),
        (b"[]", "application/json"),
        (b'{"op": "delete", "pks": ["1"]}', "text/csv"),
        (b"[" * 10_000 + b"]" * 10_000, "application/json"),
        (
            b'{"op": "update", "filter": {"category_id": {"eq": 1e999}},'
            b' "patch": {"description": "x"}}',
            "application/json",
        ),
        (b'{"op": "update", "pks": ["1"], "patch": {"description": NaN}}', "application/json"),
        (b'{"op": "delete", "pks": ["1"], "q": "' + b"a" * 3_000_000 + b'"}', "application/json"),
    ],
)
async def test_a_body_that_is_not_a_bulk_request_is_a_4xx(
    client_for: ClientFor, conninfo: str, content: bytes, content_type: str
) -> None:
    editor = await client_for("editor")
    before = log_size(conninfo)
    response = await editor.post(
        "/api/r/courses/bulk", content=content, headers={"Content-Type": content_type}
    )
    assert 400 <= response.status_code < 500, (response.status_code, response.text[:300])
    assert log_size(conninfo) == before


async def test_a_job_id_out_of_range_or_not_a_number_is_a_4xx(client_for: ClientFor) -> None:
    editor = await client_for("editor")
    for job in ("0", "-1", "99999999999999999999", "abc", "1%00"):
        response = await editor.get(f"/api/jobs/{job}")
        assert 400 <= response.status_code < 500, (job, response.status_code, response.text)


@pytest.mark.parametrize("job", ["99999999999999999999", "0", "1" * 400])
async def test_a_socket_subscribed_to_a_job_that_cannot_be_is_told_not_found(
    socket_for: SocketFor, job: str
) -> None:
    ws = await socket_for("editor")
    await ws.send({"type": "subscribe", "topic": f"jobs/{job}"})
    frame = await ws.next()
    assert frame["type"] == "error", frame
    assert frame["code"] in ("not_found", "bad_topic", "bad_request"), frame
    # The socket lives on.
    await ws.send({"type": "ping"})
    assert (await ws.expect("pong"))["type"] == "pong"


@pytest.mark.parametrize(
    "flt",
    [
        {"status": {"in": []}},
        {"id": {"in": ["1", 2, True]}},
        {"start_date": {"gt": "2020-13-45"}},
        {"start_date": {"gt": "9999999-01-01"}},
        {"id": {"isnull": "yes"}},
        {"id": {"contains": "1"}},
        {"title": {"in": ["a,b"]}},
        {"title": {"gt": "\ud7ff\ue000\U0010ffff"}},
        {"category_id": {"eq": 1.5}},
        {"category_id": {"eq": 1e308}},
        {"title": {"eq": []}},
        {"title": {}},
    ],
)
async def test_an_odd_filter_is_a_4xx_or_matches_and_writes_within_it(
    client_for: ClientFor, conninfo: str, flt: dict[str, Any]
) -> None:
    editor = await client_for("editor")
    before = log_size(conninfo)
    response = await bulk(editor, {"op": "update", "filter": flt, "patch": {"description": "x"}})
    assert response.status_code in (202, 400, 422), (response.status_code, response.text)
    if response.status_code == 202:
        job = await _finished(editor, response.json()["job"])
        assert job["result"]["error"] is None
    else:
        problem(response, response.status_code)
        assert log_size(conninfo) == before
