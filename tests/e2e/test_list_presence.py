"""The list shows who else is on a row, live."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, expect

from tests.conftest import PASSWORD
from tests.e2e.conftest import sign_in

pytestmark = pytest.mark.usefixtures("fresh_data")


def test_a_row_shows_who_is_on_its_record(browser: Browser, live_server: str) -> None:
    editor_context = browser.new_context(viewport={"width": 1400, "height": 1000})
    viewer_context = browser.new_context()
    editor, viewer = editor_context.new_page(), viewer_context.new_page()
    try:
        sign_in(editor, live_server, "editor", PASSWORD)
        editor.goto(f"{live_server}/r/courses?filter[id][lte]=10")
        row = editor.locator("tr[data-pk='5']")
        expect(row).to_be_visible()
        expect(row.get_by_test_id("row-presence")).to_have_count(0)

        sign_in(viewer, live_server, "viewer", PASSWORD)
        viewer.goto(f"{live_server}/r/courses/5")
        stack = row.get_by_role("img", name="Also here: Viewer")
        expect(stack).to_be_visible()
        expect(stack).to_have_text("VI")
        # Nobody shows their own face: the viewer's own list has no stack on row 5.
        viewer.goto(f"{live_server}/r/courses?filter[id][lte]=10")
        expect(viewer.locator("tr[data-pk='5']")).to_be_visible()
        expect(row.get_by_test_id("row-presence")).to_have_count(0)
        expect(viewer.get_by_test_id("row-presence")).to_have_count(0)
    finally:
        editor_context.close()
        viewer_context.close()
