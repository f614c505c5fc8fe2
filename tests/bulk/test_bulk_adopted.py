"""Bulk edits on adopted schemas: composite keys (odd text in them), enums, arrays, JSON."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx
import psycopg
from litestar import Litestar

from collabadmin.db.engine import libpq_url
from collabadmin.resources.keys import encode_key
from tests.adopt.conftest import admin, adopted_app, adopted_url
from tests.adopt.keyed_server import KeyedServer, SocketOpener, keyed, keyed_socket
from tests.bulk.conftest import changes, job_service
from tests.helpers import ok, problem

__all__ = ["admin", "adopted_app", "adopted_url", "keyed", "keyed_socket"]  # fixtures by name

ODD = "a,b%c/ü✓ 😀"
DAY = "2026-01-31"


def url_of(*values: str) -> str:
    """A key as a browser builds it: each value encodeURIComponent'd, joined by ','."""
    return ",".join(quote(v, safe="") for v in values)


async def bulk(client: httpx.AsyncClient, resource: str, body: Any) -> httpx.Response:
    return await client.post(f"/api/r/{resource}/bulk", json=body)


async def test_composite_keys_with_odd_text_by_keys(keyed: KeyedServer) -> None:
    with psycopg.connect(keyed.conninfo, autocommit=True) as conn:
        conn.execute("DELETE FROM ck_label")
        conn.execute(
            "INSERT INTO ck_label (code, day, title) VALUES (%s, %s, 'odd'), ('plain', %s, 'p'),"
            " ('other', %s, 'o')",
            (ODD, DAY, DAY, DAY),
        )
    odd, plain, other = url_of(ODD, DAY), url_of("plain", DAY), url_of("other", DAY)
    async with keyed.client() as client:
        seen = ok(await client.get(f"/api/r/ck_label/{odd}"))["_version"]
        ok(
            await client.patch(
                f"/api/r/ck_label/{other}", json={"title": "theirs"}, headers={"If-Match": '"1"'}
            )
        )
        result = ok(
            await bulk(
                client,
                "ck_label",
                {
                    "op": "update",
                    "pks": [odd, plain, other, url_of("nope", DAY)],
                    "patch": {"title": "bulk"},
                    "versions": {odd: seen, other: 1},
                },
            )
        )
        assert sorted(result["done"]) == sorted([odd, plain])
        assert [c["pk"] for c in result["conflicts"]] == [other]
        assert result["conflicts"][0]["conflicts"][0]["theirs"] == "theirs"
        assert result["not_found"] == [url_of("nope", DAY)]
        assert ok(await client.get(f"/api/r/ck_label/{odd}"))["title"] == "bulk"
        # Keys that cannot be keys of the table: wrong arity, a date that is no date.
        for bad in ("plain", f"plain,{DAY},x", "plain,notaday"):
            problem(await bulk(client, "ck_label", {"op": "delete", "pks": [bad]}), 422)
    # The log names the row by the key's text, as the trigger writes it.
    [logged] = [c for c in changes(keyed.conninfo, "ck_label") if c["source"] == "bulk"][:1]
    bulk_keys = {c["pk"] for c in changes(keyed.conninfo, "ck_label") if c["source"] == "bulk"}
    assert bulk_keys == {encode_key([ODD, DAY]), encode_key(["plain", DAY])}
    assert logged["version"] == 2


async def test_composite_keys_delete_restore_purge(keyed: KeyedServer) -> None:
    async with keyed.client() as client, keyed.client("admin") as admin_client:
        deleted = ok(await bulk(client, "ck_link", {"op": "delete", "pks": ["2,23", "10,3"]}))
        assert sorted(deleted["done"]) == ["10,3", "2,23"]
        assert ok(await client.get("/api/r/ck_link/2,23"))["_deleted_at"] is not None
        restored = ok(await bulk(client, "ck_link", {"op": "restore", "pks": ["2,23"]}))
        assert restored["done"] == ["2,23"]
        problem(await bulk(client, "ck_link", {"op": "purge", "pks": ["10,3"]}), 403)
        purged = ok(
            await bulk(
                admin_client, "ck_link", {"op": "purge", "pks": ["10,3"], "versions": {"10,3": 2}}
            )
        )
        assert purged["done"] == ["10,3"]
        problem(await client.get("/api/r/ck_link/10,3"), 404)
    ops = [(c["op"], c["source"]) for c in changes(keyed.conninfo, "ck_link", "10,3")]
    assert ops[-2:] == [("delete", "bulk"), ("purge", "bulk")]


async def test_a_filter_over_a_composite_key_runs_as_a_job_in_key_order(
    keyed: KeyedServer, keyed_socket: SocketOpener
) -> None:
    with psycopg.connect(keyed.conninfo, autocommit=True) as conn:
        conn.execute("INSERT INTO ck_link VALUES (1, 30, 'x'), (1, 31, 'x') ON CONFLICT DO NOTHING")
    async with keyed.client() as client:
        job = ok(
            await bulk(
                client,
                "ck_link",
                {"op": "update", "filter": {"left_id": {"eq": 1}}, "patch": {"note": "by filter"}},
            ),
            202,
        )["job"]
        ws = await keyed_socket("editor")
        await ws.subscribe(f"jobs/{job}")
        frame = await ws.expect("job")
        while frame["event"] == "progress":
            frame = await ws.expect("job")
        done = frame["result"]["done"]
        assert sorted(done) == ["1,23", "1,24", "1,30", "1,31"]
        rows = ok(await client.get("/api/r/ck_link", params={"filter[left_id]": "1"}))["items"]
        assert {r["note"] for r in rows} == {"by filter"}


async def test_enums_arrays_and_json_on_the_adopted_fixture(
    adopted_app: Litestar, admin: httpx.AsyncClient, adopted_url: str
) -> None:
    conninfo = libpq_url(adopted_url)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        ids = [
            r[0]
            for r in conn.execute(
                "INSERT INTO ticket (title, tags, status) VALUES"
                " ('bulk one', '{a}', 'new'), ('bulk two', '{b}', 'new'),"
                " ('bulk three', '{}', 'done')"
                " RETURNING ticket_id"
            ).fetchall()
        ]
    pks = [str(i) for i in ids]
    result = ok(
        await bulk(
            admin,
            "ticket",
            {
                "op": "update",
                "pks": pks,
                "patch": {"status": "in progress", "tags": ["x", "y,z"], "attrs": {"k": [1, 2]}},
            },
        )
    )
    assert sorted(result["done"], key=int) == pks
    body = ok(await admin.get(f"/api/r/ticket/{ids[0]}"))
    assert (body["status"], body["tags"], body["attrs"]) == (
        "in progress",
        ["x", "y,z"],
        {"k": [1, 2]},
    )
    # An enum value it does not have, a generated column, a bad array: 422, nothing written.
    for patch in ({"status": "nope"}, {"title_length": 3}, {"tags": "x"}):
        problem(await bulk(admin, "ticket", {"op": "update", "pks": pks, "patch": patch}), 422)
    # A filter on the array (has) and the enum, as the list filters.
    job = ok(
        await bulk(
            admin,
            "ticket",
            {
                "op": "update",
                "filter": {"tags": {"has": "y,z"}, "status": {"in": ["in progress"]}},
                "patch": {"done": True},
            },
        ),
        202,
    )["job"]
    await job_service(adopted_app).wait(job)
    finished = ok(await admin.get(f"/api/jobs/{job}"))
    assert sorted(finished["result"]["done"], key=int) == pks
    logged = [c for c in changes(conninfo, "ticket") if c["source"] == "bulk"]
    assert len(logged) == 6  # three rows, two bulk edits each
    # A view adopted read-only cannot be bulk-edited.
    problem(await bulk(admin, "open_ticket", {"op": "delete", "pks": pks}), 403)
