"""Composite keys over the API: URLs, writes, history, revert, drafts, sockets and presence."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx
import psycopg

from collabadmin.resources.keys import encode_key
from tests.adopt.keyed_server import KeyedServer, SocketOpener, keyed, keyed_socket
from tests.helpers import ok, problem

__all__ = ["keyed", "keyed_socket"]  # fixtures used by name below

# A text key value with the key separator, the escape character, a slash and
# characters outside the BMP: each must survive URLs, the log and topics.
ODD = "a,b%c/ü✓ 😀"
DAY = "2026-01-31"


def url_of(*values: str) -> str:
    """A key as a browser builds it: each value encodeURIComponent'd, joined by ','."""
    return ",".join(quote(v, safe="") for v in values)


async def write(
    client: httpx.AsyncClient, method: str, path: str, version: int, **kwargs: Any
) -> httpx.Response:
    headers = {"If-Match": f'"{version}"', **kwargs.pop("headers", {})}
    return await client.request(method, path, headers=headers, **kwargs)


async def all_pages(client: httpx.AsyncClient, path: str, **params: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        query = {**params, **({"cursor": cursor} if cursor else {})}
        page = ok(await client.get(path, params=query))
        items.extend(page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            return items


async def test_composite_key_in_meta_and_keyset_pages(keyed: KeyedServer) -> None:
    async with keyed.client() as client:
        meta = ok(await client.options("/api/r/ck_link"))
        assert meta["pk"] == ["left_id", "right_id"]
        fields = {f["name"]: f for f in meta["fields"]}
        assert fields["left_id"]["required"] is True
        assert fields["left_id"].get("read_only_after_create") is True
        rows = await all_pages(client, "/api/r/ck_link", limit="2")
        keys = [(r["left_id"], r["right_id"]) for r in rows]
        assert keys[:5] == [(1, 23), (1, 24), (2, 23), (3, 10), (10, 3)]
        # Ties on the sort field are broken by the whole key, in the sort's direction.
        by_right = await all_pages(client, "/api/r/ck_link", sort="-right_id", limit="1")
        right_keys = [(r["right_id"], r["left_id"]) for r in by_right][:5]
        assert right_keys == sorted(right_keys, reverse=True)
        assert len({(r["left_id"], r["right_id"]) for r in by_right}) == len(by_right)


async def test_get_patch_delete_restore_history_revert_by_composite_url(
    keyed: KeyedServer,
) -> None:
    async with keyed.client() as client:
        record = ok(await client.get("/api/r/ck_link/1,23"))
        assert (record["left_id"], record["right_id"], record["note"]) == (1, 23, "one-23")
        assert ok(await client.get("/api/r/ck_link/1,24"))["note"] == "one-24"
        # The whole key text URL-encoded (as generic URL builders send it) is the same key.
        assert ok(await client.get("/api/r/ck_link/1%2C23"))["note"] == "one-23"
        for bad in ("1", "1,23,4", "1,x", "1,99999999999", ",23", "1%2C23%2C4"):
            body = problem(await client.get(f"/api/r/ck_link/{bad}"), 404)
            assert "link" in body["detail"].lower()
        version = record["_version"]
        patched = ok(await write(client, "PATCH", "/api/r/ck_link/1,23", version,
                                 json={"note": "changed"}))  # fmt: skip
        assert patched["note"] == "changed"
        # A key column is the record's identity: it does not change once created.
        moved = await write(client, "PATCH", "/api/r/ck_link/1,23", patched["_version"],
                            json={"right_id": 99})  # fmt: skip
        assert moved.status_code == 422, moved.text
        deleted = ok(await write(client, "DELETE", "/api/r/ck_link/1,23", patched["_version"]))
        assert deleted["_deleted_at"] is not None
        restored = ok(
            await write(client, "POST", "/api/r/ck_link/1,23/restore", deleted["_version"])
        )
        assert restored["_deleted_at"] is None
        changes = ok(await client.get("/api/r/ck_link/1,23/history"))["items"]
        assert [c["op"] for c in changes] == ["restore", "delete", "update"]
        assert {c["pk"] for c in changes} == {"1,23"}
        update = changes[-1]
        reverted = ok(
            await client.post("/api/r/ck_link/1,23/revert", json={"change_id": update["id"]})
        )
        assert reverted["note"] == "one-23"
        latest = ok(await client.get("/api/r/ck_link/1,23/history"))["items"][0]
        assert (latest["source"], latest["pk"]) == ("revert", "1,23")
        # The neighbour sharing a key part was never touched.
        assert ok(await client.get("/api/r/ck_link/1,24"))["_version"] == 1


async def test_create_answers_the_composite_location_and_purge_keeps_history(
    keyed: KeyedServer,
) -> None:
    async with keyed.client() as editor, keyed.client("admin") as admin:
        response = await editor.post(
            "/api/r/ck_link", json={"left_id": 50, "right_id": 60, "note": "new"}
        )
        created = ok(response, 201)
        assert response.headers["location"] == "/api/r/ck_link/50,60"
        assert ok(await editor.get(response.headers["location"]))["note"] == "new"
        twice = await editor.post("/api/r/ck_link", json={"left_id": 50, "right_id": 60})
        assert twice.status_code in (409, 422), twice.text
        purged = await write(
            admin, "DELETE", "/api/r/ck_link/50,60?purge=true", created["_version"]
        )
        assert purged.status_code == 204, purged.text
        problem(await editor.get("/api/r/ck_link/50,60"), 404)
        audit = ok(await admin.get("/api/audit", params={"resource": "ck_link", "pk": "50,60"}))
        assert [c["op"] for c in audit["items"]] == ["purge", "insert"]


async def test_text_and_date_key_with_separator_percent_slash_and_unicode(
    keyed: KeyedServer,
) -> None:
    async with keyed.client() as client:
        response = await client.post(
            "/api/r/ck_label", json={"code": ODD, "day": DAY, "title": "odd"}
        )
        created = ok(response, 201)
        # A neighbour whose key text would collide if ',' were not escaped.
        ok(await client.post("/api/r/ck_label", json={"code": "a", "day": DAY, "title": "plain"}),
           201)  # fmt: skip
        location = response.headers["location"]
        assert location == "/api/r/ck_label/" + encode_key([ODD, DAY])
        assert ok(await client.get(location))["title"] == "odd"
        browser_url = "/api/r/ck_label/" + url_of(ODD, DAY)
        assert ok(await client.get(browser_url))["title"] == "odd"
        assert ok(await client.get("/api/r/ck_label/" + url_of("a", DAY)))["title"] == "plain"
        # What the web app sends: the key text, encodeURIComponent'd as a whole.
        whole = "/api/r/ck_label/" + quote(encode_key([ODD, DAY]), safe="")
        assert ok(await client.get(whole))["title"] == "odd"
        problem(await client.get("/api/r/ck_label/" + url_of("a", "2026-02-30")), 404)
        ok(await write(client, "PATCH", browser_url, created["_version"], json={"title": "odder"}))
        changes = ok(await client.get(browser_url + "/history"))["items"]
        assert [c["op"] for c in changes] == ["update", "insert"]
        assert {c["pk"] for c in changes} == {encode_key([ODD, DAY])}
        assert encode_key([ODD, DAY]).endswith(",2026-01-31")
    # Writes from outside the server are logged under the same key text.
    with psycopg.connect(keyed.conninfo, autocommit=True) as conn:
        conn.execute("UPDATE ck_label SET title = 'from psql' WHERE code = %s", (ODD,))
        logged = conn.execute(
            "SELECT pk, source FROM collabadmin.collabadmin_change WHERE resource = 'ck_label'"
            " ORDER BY id DESC LIMIT 1"
        ).fetchone()
    assert logged == (encode_key([ODD, DAY]), "db")


async def test_record_topic_of_a_composite_key_gets_its_changes_only(
    keyed: KeyedServer, keyed_socket: SocketOpener
) -> None:
    ws = await keyed_socket("reviewer")
    await ws.subscribe("r/ck_link/2,23")
    async with keyed.client() as client:
        other = ok(await client.get("/api/r/ck_link/1,24"))
        ok(await write(client, "PATCH", "/api/r/ck_link/1,24", other["_version"],
                       json={"note": "not yours"}))  # fmt: skip
        mine = ok(await client.get("/api/r/ck_link/2,23"))
        ok(await write(client, "PATCH", "/api/r/ck_link/2,23", mine["_version"],
                       json={"note": "yours"}))  # fmt: skip
    frame = await ws.expect("change", topic="r/ck_link/2,23")
    assert frame["change"]["pk"] == "2,23"
    assert frame["change"]["diff"]["note"]["new"] == "yours"
    await ws.quiet()
    # Frames are routed by the key's text: a topic spelling it otherwise is refused.
    await ws.send({"type": "subscribe", "topic": "r/ck_link/02,23"})
    error = await ws.expect("error")
    assert error["code"] == "bad_topic"
    assert "r/ck_link/2,23" in error["message"]


async def test_escaped_text_key_topic_gets_frames(
    keyed: KeyedServer, keyed_socket: SocketOpener
) -> None:
    async with keyed.client() as client:
        url = "/api/r/ck_label/" + url_of(ODD, DAY)
        record = ok(await client.get(url))
        topic = "r/ck_label/" + encode_key([ODD, DAY])
        ws = await keyed_socket("reviewer")
        await ws.subscribe(topic)
        ok(await write(client, "PATCH", url, record["_version"], json={"title": "seen"}))
    frame = await ws.expect("change", topic=topic)
    assert frame["change"]["diff"]["title"]["new"] == "seen"


async def test_presence_on_a_composite_key_record_and_its_list(
    keyed_socket: SocketOpener,
) -> None:
    alice = await keyed_socket("editor")
    bob = await keyed_socket("reviewer")
    watcher = await keyed_socket("admin")
    await alice.subscribe("r/ck_link/10,3")
    await bob.subscribe("r/ck_link/10,3")
    await watcher.subscribe("r/ck_link")
    await alice.send(
        {"type": "presence", "topic": "r/ck_link/10,3", "state": "editing", "field": "note"}
    )
    for ws in (alice, bob):
        frame = await ws.expect("presence", topic="r/ck_link/10,3")
        assert [(u["name"], u["state"], u["field"]) for u in frame["users"]] == [
            ("Editor", "editing", "note")
        ]
    listed = await watcher.expect("presence", topic="r/ck_link")
    while listed.get("pk") != "10,3":
        listed = await watcher.expect("presence", topic="r/ck_link")
    assert [u["name"] for u in listed["users"]] == ["Editor"]


async def test_draft_of_a_composite_key_record_publishes(keyed: KeyedServer) -> None:
    async with keyed.client() as author, keyed.client("reviewer") as reviewer:
        before = ok(await author.get("/api/r/ck_link/3,10"))
        draft = ok(
            await author.post("/api/r/ck_link/3,10/drafts", json={"data": {"note": "drafted"}}),
            201,
        )
        assert draft["pk"] == "3,10"
        ok(await author.post(f"/api/drafts/{draft['id']}/submit", json={}))
        ok(await reviewer.post(f"/api/drafts/{draft['id']}/approve", json={}))
        published = ok(await reviewer.post(f"/api/drafts/{draft['id']}/publish", json={}))
        assert published["status"] == "published"
        assert published["pk"] == "3,10"
        after = ok(await author.get("/api/r/ck_link/3,10"))
        assert (after["note"], after["_version"]) == ("drafted", before["_version"] + 1)
        latest = ok(await author.get("/api/r/ck_link/3,10/history"))["items"][0]
        assert (latest["source"], latest["pk"]) == ("draft", "3,10")
        listed = ok(await author.get("/api/drafts", params={"resource": "ck_link", "pk": "3,10"}))
        assert [d["id"] for d in listed["items"]] == [draft["id"]]


async def test_views_are_keyed_by_their_tables_key_or_a_configured_one(
    keyed: KeyedServer,
) -> None:
    async with keyed.client() as client:
        meta = ok(await client.options("/api/r/ck_link_view"))
        assert meta["pk"] == ["left_id", "right_id"]
        assert "change" not in meta["actions"]
        assert meta["read_only_reason"] == "A view: served read-only."
        assert ok(await client.get("/api/r/ck_link_view/1,24"))["right_id"] == 24
        refused = await write(client, "PATCH", "/api/r/ck_link_view/1,24", 1, json={"note": "x"})
        assert refused.status_code == 403, refused.text
        configured = ok(await client.options("/api/r/ck_label_codes"))
        assert configured["pk"] == "code"
        assert ok(await client.get("/api/r/ck_label_codes/a"))["shout"] == "A"


async def test_a_view_without_a_key_is_list_only(keyed: KeyedServer) -> None:
    async with keyed.client() as client:
        meta = ok(await client.options("/api/r/ck_pairs"))
        assert meta["pk"] is None
        assert meta["actions"] == ["view"] or "change" not in meta["actions"]
        links = ok(await client.get("/api/r/ck_link", params={"limit": "200"}))["items"]
        labels = ok(await client.get("/api/r/ck_label", params={"limit": "200"}))["items"]
        expected = sorted((link["left_id"], label["code"]) for link in links for label in labels)
        # Rows that tie on every column (left_id 1 twice) are each listed once,
        # whatever the page size.
        for limit in ("1", "2", "3", "50"):
            rows = await all_pages(client, "/api/r/ck_pairs", limit=limit)
            assert sorted((r["left_id"], r["code"]) for r in rows) == expected, limit
        assert len({r["left_id"] for r in links}) < len(links)  # there are such ties
        for method, path in (
            ("GET", "/api/r/ck_pairs/1"),
            ("PATCH", "/api/r/ck_pairs/1"),
            ("GET", "/api/r/ck_pairs/1/history"),
        ):
            body = problem(await write(client, method, path, 1, json={}), 404)
            assert "no key" in body["detail"]


async def test_a_table_without_a_key_is_read_only_with_a_reason(keyed: KeyedServer) -> None:
    async with keyed.client("admin") as client:
        meta = ok(await client.options("/api/r/ck_loose"))
        assert meta["pk"] is None
        assert "no primary key" in meta["read_only_reason"]
        assert "add" not in meta["actions"]
        assert [r["body"] for r in ok(await client.get("/api/r/ck_loose"))["items"]] == ["a", "b"]
        problem(await client.post("/api/r/ck_loose", json={"body": "c"}), 403)
        keyed_meta = ok(await client.options("/api/r/ck_link"))
        assert keyed_meta["read_only_reason"] is None
