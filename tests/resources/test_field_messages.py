"""A field's 422 message is for a person: a declared message, or plain words, never a regex."""

from __future__ import annotations

import pytest

from collabadmin.demo.resources import SHORT_NAME, SHORT_NAME_MESSAGE
from collabadmin.resources.fields import PATTERN_MESSAGE, Field, ValueInvalid
from tests.conftest import ClientFor
from tests.helpers import field_errors, ok


@pytest.mark.parametrize(
    ("resource", "body"),
    [
        ("courses", {"title": "Compilers", "short_name": "Compilers 201", "status": "draft"}),
        ("categories", {"name": "Law", "short_name": "LAW!"}),
    ],
)
async def test_a_short_name_off_its_pattern_is_told_what_is_expected(
    client_for: ClientFor, resource: str, body: dict[str, str]
) -> None:
    editor = await client_for("editor")
    response = await editor.post(f"/api/r/{resource}", json=body)
    assert field_errors(response) == {"short_name": SHORT_NAME_MESSAGE}
    # Neither the message nor the problem's detail quotes the regular expression.
    assert SHORT_NAME not in response.text
    assert "[a-z" not in response.text
    fixed = {**body, "short_name": "compilers-201"}
    assert ok(await editor.post(f"/api/r/{resource}", json=fixed), 201)["short_name"] == (
        "compilers-201"
    )


def test_a_pattern_without_a_message_is_refused_in_plain_words() -> None:
    field = Field(name="code", pattern=r"^[A-Z]{3}-\d{4}$")
    with pytest.raises(ValueInvalid) as refused:
        field.check("abc")
    assert str(refused.value) == PATTERN_MESSAGE
    assert "[A-Z]" not in str(refused.value)
    assert field.check("ABC-2026") == "ABC-2026"


async def test_too_long_is_refused_whole_with_the_limit(client_for: ClientFor) -> None:
    """The server never cuts a value to fit: a 21-character short name is a 422, not 20 kept."""
    editor = await client_for("editor")
    body = {"title": "Long names", "short_name": "a" * 21, "status": "draft"}
    response = await editor.post("/api/r/courses", json=body)
    assert field_errors(response) == {"short_name": "At most 20 characters."}
