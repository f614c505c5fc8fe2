"""An import never overwrites what its user did not see: changes since the preview conflict."""

from __future__ import annotations

import asyncio

import httpx
import psycopg

from tests.conftest import ClientFor
from tests.helpers import ok, patch_record, problem
from tests.io.test_import import CSV, csv_bytes


async def edit(client: httpx.AsyncClient, pk: int, body: dict[str, str]) -> None:
    """A colleague's PATCH of what it has just read (read again if it moved meanwhile)."""
    while True:
        version = ok(await client.get(f"/api/r/courses/{pk}"))["_version"]
        response = await patch_record(client, "courses", pk, body, if_match=version)
        if response.status_code != 412:
            ok(response)
            return


def logged(conninfo: str, pk: str) -> list[tuple[str, str, list[str]]]:
    with psycopg.connect(conninfo) as conn:
        rows = conn.execute(
            "SELECT op, source, ARRAY(SELECT jsonb_object_keys(diff) ORDER BY 1)"
            " FROM collabadmin.collabadmin_change"
            " WHERE resource = 'courses' AND pk = %s AND source <> 'db' ORDER BY id",
            (pk,),
        ).fetchall()
    return [(r[0], r[1], list(r[2])) for r in rows]


async def test_a_patch_between_preview_and_apply_is_a_conflict_and_nothing_is_lost(
    client_for: ClientFor, conninfo: str
) -> None:
    importer, colleague = await client_for("editor"), await client_for("admin")
    course = ok(await importer.get("/api/r/courses/2"))
    body = csv_bytes(
        [
            ["id", "title", "status"],
            [2, "Title from the file", course["status"]],
            [3, "Three", "open"],
        ]
    )
    preview = ok(await importer.post("/api/r/courses/import", content=body, headers=CSV))
    assert preview["rows"][0] == {
        "line": 2, "op": "update", "pk": "2", "version": course["_version"],
        "errors": [], "conflicts": [],
    }  # fmt: skip
    three_before = ok(await importer.get("/api/r/courses/3"))
    await edit(colleague, 2, {"title": "Colleague's title"})
    refused = problem(
        await importer.post(
            "/api/r/courses/import",
            params={"dry_run": "false", "preview": str(preview["preview"])},
            content=body,
            headers=CSV,
        ),
        409,
    )
    assert refused["rows"][0]["conflicts"] == [
        {"field": "title", "base": course["title"], "theirs": "Colleague's title",
         "yours": "Title from the file"}
    ]  # fmt: skip
    assert refused["summary"]["conflicts"] == 1
    # Nothing written: not line 2, not line 3 either.
    assert ok(await importer.get("/api/r/courses/2"))["title"] == "Colleague's title"
    assert ok(await importer.get("/api/r/courses/3")) == three_before
    assert [entry[:2] for entry in logged(conninfo, "2")] == [("update", "api")]
    assert logged(conninfo, "3") == []


async def test_a_change_to_a_field_the_file_leaves_alone_merges(
    client_for: ClientFor, conninfo: str
) -> None:
    importer, colleague = await client_for("editor"), await client_for("admin")
    body = csv_bytes([["id", "title"], [4, "Four from the file"]])
    preview = ok(await importer.post("/api/r/courses/import", content=body, headers=CSV))
    await edit(colleague, 4, {"description": "Colleague's description"})
    applied = ok(
        await importer.post(
            "/api/r/courses/import",
            params={"dry_run": "false", "preview": str(preview["preview"])},
            content=body,
            headers=CSV,
        )
    )
    assert applied["summary"]["update"] == 1
    course = ok(await importer.get("/api/r/courses/4"))
    assert course["title"] == "Four from the file"
    assert course["description"] == "Colleague's description"
    assert logged(conninfo, "4") == [
        ("update", "api", ["description"]),
        ("update", "import", ["title"]),
    ]


async def test_the_preview_must_be_of_the_same_file_and_user(client_for: ClientFor) -> None:
    importer, other = await client_for("editor"), await client_for("admin")
    body = csv_bytes([["id", "title"], [6, "Six"]])
    preview = ok(await importer.post("/api/r/courses/import", content=body, headers=CSV))
    params = {"dry_run": "false", "preview": str(preview["preview"])}
    changed = csv_bytes([["id", "title"], [6, "Six, edited after the preview"]])
    refused = problem(
        await importer.post("/api/r/courses/import", params=params, content=changed, headers=CSV),
        409,
    )
    assert "previewed" in refused["detail"]
    problem(
        await other.post("/api/r/courses/import", params=params, content=body, headers=CSV), 404
    )
    ok(await importer.post("/api/r/courses/import", params=params, content=body, headers=CSV))
    # A preview serves one apply.
    problem(
        await importer.post("/api/r/courses/import", params=params, content=body, headers=CSV),
        404,
    )


async def test_concurrent_patches_during_an_apply_are_never_lost(
    client_for: ClientFor, conninfo: str
) -> None:
    importer, colleague = await client_for("editor"), await client_for("admin")
    lines = [[pk, f"Imported {pk}"] for pk in range(10, 40)]
    body = csv_bytes([["id", "title"], *lines])
    preview = ok(await importer.post("/api/r/courses/import", content=body, headers=CSV))
    params = {"dry_run": "false", "preview": str(preview["preview"])}

    async def colleague_edits() -> list[int]:
        for pk in range(10, 40, 3):
            await edit(colleague, pk, {"title": f"Colleague {pk}"})
        return [200]

    applied, statuses = await asyncio.gather(
        importer.post("/api/r/courses/import", params=params, content=body, headers=CSV),
        colleague_edits(),
    )
    assert set(statuses) == {200}
    titles = {
        pk: ok(await importer.get(f"/api/r/courses/{pk}"))["title"] for pk in range(10, 40, 3)
    }
    # Whatever the order, every colleague's title is there (a conflict refused
    # the whole import) or the import ran first and the colleague's came after.
    assert titles == {pk: f"Colleague {pk}" for pk in range(10, 40, 3)}
    if applied.status_code == 409:
        for pk in range(10, 40):
            assert all(entry[1] != "import" for entry in logged(conninfo, str(pk)))
    else:
        assert applied.status_code == 200
        for pk in range(10, 40, 3):
            assert [entry[1] for entry in logged(conninfo, str(pk))] == ["import", "api"]
