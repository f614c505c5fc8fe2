"""A workflow whose subject has a composite key: runs are named by the key's text."""

from __future__ import annotations

from typing import Any

from tests.adopt.keyed_server import KeyedServer, SocketOpener, keyed, keyed_socket
from tests.helpers import ok, problem

__all__ = ["keyed", "keyed_socket"]  # fixtures used by name below


async def test_a_run_on_a_composite_key_subject_follows_its_data(
    keyed: KeyedServer, keyed_socket: SocketOpener
) -> None:
    async with keyed.client() as client:
        start = {"subject": {"resource": "ck_link", "pk": "1,24"}}
        response = await client.post("/api/workflows/link-review/runs", json=start)
        run = ok(response, 201)
        assert run["subject"]["pk"] == "1,24"
        assert [s["done"] for s in run["steps"]] == [False, False]
        again = await client.post("/api/workflows/link-review/runs", json=start)
        assert again.status_code == 409, again.text  # one live run per subject
        missing = await client.post(
            "/api/workflows/link-review/runs",
            json={"subject": {"resource": "ck_link", "pk": "1,999"}},
        )
        problem(missing, 422)
        ws = await keyed_socket("editor")
        await ws.subscribe(f"workflow-runs/{run['id']}")
        record = ok(await client.get("/api/r/ck_link/1,24"))
        patched = await client.patch(
            "/api/r/ck_link/1,24",
            json={"note": "reviewed"},
            headers={"If-Match": f'"{record["_version"]}"'},
        )
        ok(patched)
        while True:
            frame: dict[str, Any] = await ws.expect("workflow")
            if frame["run"]["steps"][0]["done"]:
                break
        listed = ok(
            await client.get(
                "/api/workflow-runs", params={"subject_resource": "ck_link", "subject_pk": "1,24"}
            )
        )
        assert [r["id"] for r in listed["items"]] == [run["id"]]
