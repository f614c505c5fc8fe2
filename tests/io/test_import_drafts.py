"""Import as drafts: every line a submitted draft of one batch, published together by a reviewer."""

from __future__ import annotations

import psycopg

from tests.conftest import ClientFor
from tests.helpers import ok, problem
from tests.io.test_import import CSV, csv_bytes


async def test_an_import_staged_as_drafts_is_published_as_one_batch(
    client_for: ClientFor, conninfo: str
) -> None:
    editor, reviewer = await client_for("editor"), await client_for("reviewer")
    before = ok(await editor.get("/api/r/courses/11"))
    body = csv_bytes(
        [
            ["id", "title", "short_name"],
            [11, "Eleven, reviewed", before["short_name"]],
            [12, ok(await editor.get("/api/r/courses/12"))["title"], ""],
            ["", "Staged new course", "staged-1"],
        ]
    )
    # Line 3 leaves short_name empty on an existing course: a required field.
    refused = problem(
        await editor.post(
            "/api/r/courses/import",
            params={"dry_run": "false", "as": "drafts"},
            content=body,
            headers=CSV,
        ),
        422,
    )
    assert refused["rows"][1]["errors"][0]["field"] == "short_name"
    body = csv_bytes(
        [
            ["id", "title"],
            [11, "Eleven, reviewed"],
            [12, ok(await editor.get("/api/r/courses/12"))["title"]],
        ]
    )
    staged = ok(
        await editor.post(
            "/api/r/courses/import",
            params={"dry_run": "false", "as": "drafts"},
            content=body,
            headers=CSV,
        )
    )
    batch = staged["batch"]
    assert isinstance(batch, int)
    assert staged["applied"] is False
    assert [r["op"] for r in staged["rows"]] == ["update", "unchanged"]
    # Nothing live has changed; one submitted draft waits, in the batch.
    assert ok(await editor.get("/api/r/courses/11")) == before
    listed = ok(await reviewer.get("/api/drafts", params={"batch": str(batch)}))["items"]
    assert [(d["pk"], d["status"], d["data"], d["batch"]) for d in listed] == [
        ("11", "submitted", {"title": "Eleven, reviewed"}, batch)
    ]
    # An editor may not publish; a reviewer publishes the batch at once.
    problem(await editor.post(f"/api/drafts/batches/{batch}/publish"), 403)
    published = ok(await reviewer.post(f"/api/drafts/batches/{batch}/publish"))
    assert published == {"batch": batch, "published": [listed[0]["id"]]}
    assert ok(await editor.get("/api/r/courses/11"))["title"] == "Eleven, reviewed"
    with psycopg.connect(conninfo) as conn:
        sources = conn.execute(
            "SELECT source FROM collabadmin.collabadmin_change"
            " WHERE resource = 'courses' AND pk = '11' AND source <> 'db' ORDER BY id"
        ).fetchall()
    assert sources == [("draft",)]
    problem(await reviewer.post(f"/api/drafts/batches/{batch}/publish"), 404)


async def test_a_batch_with_a_conflicting_draft_publishes_nothing(client_for: ClientFor) -> None:
    editor, reviewer, colleague = (
        await client_for("editor"), await client_for("reviewer"), await client_for("admin")
    )  # fmt: skip
    body = csv_bytes([["id", "title"], [13, "Thirteen, staged"], [14, "Fourteen, staged"]])
    staged = ok(
        await editor.post(
            "/api/r/courses/import",
            params={"dry_run": "false", "as": "drafts"},
            content=body,
            headers=CSV,
        )
    )
    fourteen = ok(await colleague.get("/api/r/courses/14"))
    ok(
        await colleague.patch(
            "/api/r/courses/14",
            json={"title": "Fourteen, edited live"},
            headers={"If-Match": f'"{fourteen["_version"]}"'},
        )
    )
    refused = problem(await reviewer.post(f"/api/drafts/batches/{staged['batch']}/publish"), 409)
    assert refused["failures"][0]["conflicts"][0]["field"] == "title"
    assert ok(await editor.get("/api/r/courses/13"))["title"] != "Thirteen, staged"
    assert ok(await editor.get("/api/r/courses/14"))["title"] == "Fourteen, edited live"
