"""A field label that looks like a formula is written as text in the header, and read back."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator

import pytest
from litestar import Litestar

from collabadmin.app import create_app
from collabadmin.demo.policy import demo_policy
from collabadmin.demo.resources import demo_registry
from collabadmin.settings import Settings
from tests.conftest import anonymous_client
from tests.helpers import ok, running
from tests.io.test_import import CSV

PASSWORD = "correct horse battery staple"
LABEL = '=HYPERLINK("http://example.invalid")'


@pytest.fixture
async def formula_label_app(
    database_url: str, demo_users: None, fresh_data: None
) -> AsyncIterator[Litestar]:
    registry = demo_registry()
    registry.get("courses").fields["title"].label = LABEL
    policy = demo_policy()
    policy.check(registry)
    application = create_app(
        Settings(database_url=database_url, pool_size=4), registry, policy=policy
    )
    async with running(application):
        yield application


async def test_a_formula_looking_label_is_neutralised_in_both_formats(
    formula_label_app: Litestar,
) -> None:
    from openpyxl import load_workbook  # noqa: PLC0415

    params = {"columns": "id,title", "filter[id][lte]": "3"}
    async with anonymous_client(formula_label_app) as editor:
        login = ok(
            await editor.post("/api/auth/login", json={"username": "editor", "password": PASSWORD})
        )
        editor.headers["X-CSRF-Token"] = login["csrf_token"]
        body = (await editor.get("/api/r/courses.csv", params=params)).content
        header = next(csv.reader(io.StringIO(body.decode("utf-8-sig"), newline="")))
        assert header[1] == "'" + LABEL
        content = (await editor.get("/api/r/courses.xlsx", params=params)).content
        sheet = load_workbook(io.BytesIO(content)).worksheets[0]
        title = next(sheet.iter_rows(max_row=1))[1]
        assert (title.data_type, title.value) == ("s", "'" + LABEL)
        # The import reads the neutralised label back as the field's.
        answer = ok(await editor.post("/api/r/courses/import", content=body, headers=CSV))
        assert answer["summary"]["unchanged"] == 3, answer
