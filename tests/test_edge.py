"""The HTTP edge: every typed body is read, checked and converted in one place.

``POST /api/r/{resource}/{pk}/revert`` takes a typed body (``RevertRequest``);
what it answers for bad bodies is what every typed route answers.
"""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import ClientFor
from tests.helpers import field_errors, problem

REVERT = "/api/r/courses/1/revert"


@pytest.fixture
async def editor(client_for: ClientFor) -> httpx.AsyncClient:
    return await client_for("editor")


async def test_a_body_that_is_not_json_is_refused_before_the_handler(
    editor: httpx.AsyncClient,
) -> None:
    body = problem(
        await editor.post(REVERT, content=b"change_id=1", headers={"content-type": "text/plain"}),
        415,
    )
    assert "application/json" in body["detail"]
    problem(
        await editor.post(
            REVERT, content=b'{"change_id": 1', headers={"content-type": "application/json"}
        ),
        400,
    )
    deep = b"[" * 200 + b"]" * 200
    assert (
        "nested"
        in problem(
            await editor.post(
                REVERT,
                content=b'{"fields": ' + deep + b"}",
                headers={"content-type": "application/json"},
            ),
            400,
        )["detail"]
    )
    problem(await editor.post(REVERT, json={"change_id": 1, "fields": ["a\u0000b"]}), 400)


async def test_the_body_as_a_whole_must_be_an_object(editor: httpx.AsyncClient) -> None:
    assert (
        problem(await editor.post(REVERT, json=[1]), 400)["detail"]
        == "The body must be a JSON object."
    )
    assert (
        problem(
            await editor.post(REVERT, content=b"", headers={"content-type": "application/json"}),
            400,
        )["detail"]
        == "A JSON body is required."
    )


async def test_every_field_at_fault_is_listed_in_one_422(editor: httpx.AsyncClient) -> None:
    errors = field_errors(
        await editor.post(REVERT, json={"fields": [1, "ok", None], "extra": True})
    )
    assert errors == {
        "change_id": "This field is required.",
        "extra": "Unknown field.",
        "fields.0": "Expected text, got an integer.",
    }
    errors = field_errors(await editor.post(REVERT, json={"change_id": True}))
    assert errors == {"change_id": "Expected an integer, got true or false."}
    # merge-patch+json is JSON too.
    response = await editor.post(
        REVERT,
        content=b'{"change_id": 0}',
        headers={"content-type": "application/merge-patch+json"},
    )
    assert field_errors(response) == {"change_id": "The id of a change of this record."}
