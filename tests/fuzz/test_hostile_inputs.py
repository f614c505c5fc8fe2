"""Hostile inputs at every endpoint, as every role: a clear 4xx problem, never a 500.

The corpus is the inputs that used to answer 500: digits that pass
``str.isdigit()`` but are not ASCII (``²``, ``٣``, fullwidth digits) in page sizes,
ids, cursors and version headers; NUL characters in anything that would
reach PostgreSQL (query parameters, paths, headers, JSON bodies, the
unauthenticated login); JSON nested far deeper than any record; bodies
larger than the server accepts; odd static paths. After all of them, the
data must be exactly as before: nothing half-written.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import psycopg
import pytest

from collabadmin.inputs import ascii_int
from tests.conftest import ClientFor, Served
from tests.helpers import ok

ROLES = ("admin", "editor", "instructor", "reviewer", "auditor", "viewer")
FULLWIDTH_ONE = "\uff11"
UNICODE_DIGITS = ("²", "٣", FULLWIDTH_ONE, "1²", "٣٣")
NUL = "a\x00b"
NESTED = b"[" * 100_000 + b"]" * 100_000


def _deep_object(levels: int) -> bytes:
    return b'{"a":' * levels + b"1" + b"}" * levels


@dataclass(frozen=True)
class Hostile:
    """One hostile request; ``status`` is the exact answer wanted (None: any 4xx)."""

    method: str
    url: str
    status: int | None = None
    params: dict[str, str] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None

    def __str__(self) -> str:
        return f"{self.method} {self.url[:80]} {self.params or ''} {list(self.headers)}"


JSON = {"Content-Type": "application/json"}
MERGE = {"Content-Type": "application/merge-patch+json"}
LIST_ENDPOINTS = (
    "/api/r/courses",
    "/api/r/courses/1/history",
    "/api/audit",
    "/api/audit.csv",
    "/api/drafts",
    "/api/workflow-runs",
)
ID_PATHS = (
    "/api/r/courses/{}",
    "/api/r/courses/{}/history",
    "/api/drafts/{}",
    "/api/drafts/{}/comments",
    "/api/drafts/{}/preview",
    "/api/workflow-runs/{}",
)
JSON_POSTS = (
    ("POST", "/api/auth/login"),
    ("POST", "/api/r/courses"),
    ("PATCH", "/api/r/courses/1"),
    ("POST", "/api/r/courses/1/revert"),
    ("POST", "/api/r/courses/1/drafts"),
    ("POST", "/api/r/courses/drafts"),
    ("PATCH", "/api/drafts/1"),
    ("POST", "/api/drafts/1/comments"),
    ("POST", "/api/drafts/1/rebase"),
    ("POST", "/api/drafts/1/submit"),
    ("POST", "/api/views/courses"),
    ("PUT", "/api/prefs/views/courses"),
    ("POST", "/api/workflows/launch-course/runs"),
    ("PATCH", "/api/workflow-runs/1"),
    ("POST", "/api/auth/tokens"),
)
VERSIONED = {"If-Match": '"1"', "X-Base-Version": "1"}


def unicode_digit_requests() -> Iterator[Hostile]:
    for digits in UNICODE_DIGITS:
        for path in LIST_ENDPOINTS:
            yield Hostile("GET", path, 400, params={"limit": digits})
            yield Hostile("GET", path, 400, params={"cursor": digits})
        for template in ID_PATHS:
            yield Hostile("GET", template.format(digits), 404)
        yield Hostile("DELETE", f"/api/views/courses/{digits}", 404)
        yield Hostile("DELETE", f"/api/auth/tokens/{digits}")
        yield Hostile("GET", "/api/r/courses", 400, params={"filter[id]": digits})
        yield Hostile("GET", "/api/r/courses", 400, params={"filter[id][in]": f"1,{digits}"})
        yield Hostile("GET", "/api/r/courses", 400, params={"filter[price][gt]": digits})
        yield Hostile("GET", "/api/drafts", 400, params={"author": digits})
        yield Hostile("GET", "/api/audit", None, params={"actor": digits})
        for method, path in (("PATCH", "/api/r/courses/1"), ("PATCH", "/api/drafts/1")):
            yield Hostile(
                method, path, 428, headers={**MERGE, "If-Match": f'"{digits}"'}, body=b"{}"
            )
            base = {**MERGE, "X-Base-Version": digits}
            yield Hostile(method, path, 400, headers=base, body=b"{}")
        for method, path in (
            ("DELETE", "/api/r/courses/1"),
            ("POST", "/api/r/courses/1/restore"),
        ):
            yield Hostile(method, path, 428, headers={"If-Match": f'"{digits}"'})


def nul_requests() -> Iterator[Hostile]:
    query = {
        "/api/r/courses": (
            "q",
            "sort",
            "cursor",
            "deleted",
            "limit",
            "filter[title]",
            "filter[title][icontains]",
            "filter[title][in]",
            "filter[start_date][gte]",
        ),
        "/api/r/courses/1/history": ("cursor", "limit"),
        "/api/audit": ("q", "actor", "pk", "resource", "field", "since", "cursor"),
        "/api/audit.csv": ("q", "actor", "pk"),
        "/api/drafts": ("resource", "pk", "author", "status", "cursor"),
        "/api/workflow-runs": ("workflow", "subject_resource", "subject_pk", "cursor"),
        "/api/stats/courses": ("field", "filter[title]"),
        "/api/views/courses": ("x",),
    }
    for path, names in query.items():
        for name in names:
            yield Hostile("GET", path, 400, params={name: NUL})
    for path in ("/api/r/courses/%00", "/api/r/%00", "/api/drafts/%00", "/api/r/courses/1%00"):
        yield Hostile("GET", path, 400)
    for header in ("If-Match", "X-Base-Version", "X-Request-ID", "Accept-Language"):
        yield Hostile("PATCH", "/api/r/courses/1", 400, headers={**MERGE, header: NUL}, body=b"{}")
    bodies = {
        "/api/auth/login": {"username": NUL, "password": "x"},
        "/api/r/courses": {"title": NUL},
        "/api/r/courses/1": {"title": NUL},
        "/api/r/courses/1/revert": {"change_id": 1, "fields": [NUL]},
        "/api/r/courses/1/drafts": {"data": {"title": NUL}},
        "/api/r/courses/drafts": {"data": {"title": NUL}},
        "/api/drafts/1": {"data": {NUL: 1}},
        "/api/drafts/1/comments": {"comment": NUL},
        "/api/drafts/1/rebase": {"resolutions": {NUL: "theirs"}},
        "/api/drafts/1/submit": {"comment": NUL},
        "/api/views/courses": {"name": NUL},
        "/api/prefs/views/courses": {"columns": [NUL]},
        "/api/workflows/launch-course/runs": {"subject": NUL},
        "/api/workflow-runs/1": {"note": NUL},
        "/api/auth/tokens": {"name": NUL},
    }
    for method, path in JSON_POSTS:
        raw = json.dumps(bodies[path]).encode()
        yield Hostile(method, path, 400, headers={**JSON, **VERSIONED}, body=raw)


def nesting_and_size_requests() -> Iterator[Hostile]:
    for method, path in JSON_POSTS:
        headers = {**JSON, **VERSIONED}
        yield Hostile(method, path, 400, headers=headers, body=NESTED)
        yield Hostile(method, path, 400, headers=headers, body=b'{"x":' + NESTED + b"}")
        yield Hostile(method, path, 400, headers=headers, body=_deep_object(40))
        yield Hostile(method, path, 413, headers=headers, body=b'{"x":"' + b"a" * 1_100_000 + b'"}')


def odd_path_requests() -> Iterator[Hostile]:
    for path in (
        "/assets/%00",
        "/assets/..%2f..%2fpyproject.toml",
        "/assets/%2e%2e/%2e%2e/pyproject.toml",
        "/assets/" + "a" * 5000,
        "/assets/%ff%fe",
        "/%00",
        "/..%5c..%5cetc",
    ):
        yield Hostile("GET", path)


def every_request() -> list[Hostile]:
    return [
        *unicode_digit_requests(),
        *nul_requests(),
        *nesting_and_size_requests(),
        *odd_path_requests(),
    ]


def assert_refused(hostile: Hostile, response: httpx.Response) -> None:
    assert response.status_code < 500, (str(hostile), response.status_code, response.text[:300])
    # Odd static paths may fall back to the SPA (200, text/html); every refusal is a problem.
    if response.status_code >= 400:
        assert response.headers["content-type"].startswith("application/problem+json"), (
            str(hostile),
            response.headers.get("content-type"),
        )
        body = response.json()
        assert body["status"] == response.status_code
        assert body["detail"]
    if hostile.status is not None and response.status_code not in (401, 403):
        # A role refused the action outright may answer 403 before looking at the input.
        assert response.status_code == hostile.status, (
            str(hostile),
            response.status_code,
            response.text[:300],
        )


def _header_bytes(value: str) -> bytes:
    """As a client would put it on the wire: Latin-1 where it fits (``²`` is 0xB2), else UTF-8."""
    try:
        return value.encode("latin-1")
    except UnicodeEncodeError:
        return value.encode("utf-8")


async def send(client: httpx.AsyncClient, hostile: Hostile) -> httpx.Response:
    return await client.request(
        hostile.method,
        hostile.url,
        params=hostile.params,
        headers={k: _header_bytes(v) for k, v in hostile.headers.items()},
        content=hostile.body,
    )


def snapshot(conninfo: str) -> dict[str, Any]:
    """Every row of the domain tables, the drafts, views, runs and the change log, hashed."""
    tables = (
        "courses",
        "sessions",
        "instructors",
        "course_instructors",
        "categories",
        "universities",
        "collabadmin.collabadmin_change",
        "collabadmin.collabadmin_draft",
        "collabadmin.collabadmin_draft_event",
        "collabadmin.collabadmin_shared_view",
        "collabadmin.collabadmin_view_pref",
        "collabadmin.collabadmin_workflow_run",
    )
    with psycopg.connect(conninfo) as conn:
        present = {
            t for t in tables if conn.execute("SELECT to_regclass(%s)", (t,)).fetchone() != (None,)
        }
        return {
            t: conn.execute(
                f"SELECT count(*), md5(coalesce(string_agg(x::text, ',' ORDER BY x::text), ''))"
                f" FROM {t} x"
            ).fetchone()
            for t in tables
            if t in present
        }


async def test_unicode_digits_are_refused_everywhere(client_for: ClientFor) -> None:
    for role in ROLES:
        client = await client_for(role)
        for hostile in unicode_digit_requests():
            assert_refused(hostile, await send(client, hostile))


async def test_nul_bytes_are_refused_at_the_edge(client_for: ClientFor) -> None:
    for role in ("admin", "instructor", "viewer"):
        client = await client_for(role)
        for hostile in nul_requests():
            assert_refused(hostile, await send(client, hostile))


async def test_nul_in_the_unauthenticated_login_is_a_400(anon: httpx.AsyncClient) -> None:
    for username in (NUL, "\x00", "admin\x00"):
        response = await anon.post("/api/auth/login", json={"username": username, "password": "x"})
        assert response.status_code == 400, response.text
        assert "NUL" in response.json()["detail"]
    response = await anon.get("/api/auth/me", params={"x": NUL})
    assert response.status_code == 400


async def test_deep_nesting_and_huge_bodies(client_for: ClientFor) -> None:
    for role in ("admin", "viewer"):
        client = await client_for(role)
        for hostile in nesting_and_size_requests():
            assert_refused(hostile, await send(client, hostile))


async def test_nesting_within_the_limit_is_still_accepted(client_for: ClientFor) -> None:
    """The depth bound refuses only bodies no record needs: 10 levels reach validation."""
    admin = await client_for("admin")
    body = b'{"title": "x", "zz": ' + _deep_object(10) + b"}"
    response = await admin.post("/api/r/courses", content=body, headers=JSON)
    assert response.status_code == 422, response.text  # validation, not the nesting refusal
    assert "zz" in {e["field"] for e in response.json()["errors"]}


async def test_odd_static_paths(served: Served) -> None:
    async with httpx.AsyncClient(base_url=served.http) as client:
        for hostile in odd_path_requests():
            response = await client.get(hostile.url)
            assert_refused(hostile, response)
            assert b"[project]" not in response.content  # never a file outside the bundle


async def test_hostile_inputs_over_a_real_socket(served: Served, conninfo: str) -> None:
    """The same corpus through uvicorn (raw paths and headers as a client sends them)."""
    async with httpx.AsyncClient(base_url=served.http, timeout=30) as client:
        login = ok(
            await client.post(
                "/api/auth/login",
                json={"username": "admin", "password": "correct horse battery staple"},
            )
        )
        client.headers["X-CSRF-Token"] = login["csrf_token"]
        for hostile in every_request():
            if any("\x00" in v for v in hostile.headers.values()):
                continue  # an HTTP client refuses to send these; the in-process tests cover them
            assert_refused(hostile, await send(client, hostile))


async def test_nothing_is_half_written(client_for: ClientFor, conninfo: str) -> None:
    before = snapshot(conninfo)
    corpus = every_request()
    for role in ROLES:
        client = await client_for(role)
        for hostile in corpus:
            if hostile.url.startswith("/api/"):
                assert_refused(hostile, await send(client, hostile))
    assert snapshot(conninfo) == before


@pytest.mark.parametrize("digits", UNICODE_DIGITS)
def test_ascii_int_refuses_non_ascii_digits(digits: str) -> None:
    assert digits.isdigit() or not digits.isascii()
    assert ascii_int(digits) is None
    assert ascii_int("42") == 42
    assert ascii_int("-42", signed=True) == -42
    assert ascii_int("-42") is None
    assert ascii_int(" 42") is None
    assert ascii_int("4_2") is None
    assert ascii_int("1" * 19) is None
