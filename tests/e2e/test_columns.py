"""A list's columns moved and resized from the header, kept in the user's settings."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.conftest import PASSWORD
from tests.e2e.conftest import sign_in


def _headers(page: Page) -> list[str]:
    buttons = page.locator("table.list thead tr").first.locator("th button.sort")
    # A header's name is its button's first text; the sort mark and its words follow.
    return [str(n) for n in buttons.evaluate_all("bs => bs.map(b => b.firstChild.textContent)")]


def test_drag_a_header_to_move_its_column_and_its_edge_to_resize_it(
    page: Page, live_server: str
) -> None:
    sign_in(page, live_server, "viewer", PASSWORD)
    page.goto(f"{live_server}/r/courses")
    expect(page.get_by_test_id("total")).to_contain_text("records")
    before = _headers(page)
    assert before.index("Title") < before.index("Status")

    head = page.locator("table.list thead tr").first
    head.locator("th", has_text="Status").drag_to(head.locator("th", has_text="Title"))
    moved = [n for n in before if n != "Status"]
    moved.insert(moved.index("Title"), "Status")
    expect(head.locator("th button.sort").nth(moved.index("Status"))).to_contain_text("Status")
    assert _headers(page) == moved

    # The title column's right edge, dragged 150 px to the right.
    edge = page.get_by_role("separator", name="Width of Title")
    box = edge.bounding_box()
    assert box is not None
    title = head.locator("th", has_text="Title")
    start_width = title.bounding_box()["width"]  # type: ignore[index]
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.mouse.move(box["x"] + 150, box["y"] + box["height"] / 2, steps=5)
    page.mouse.up()
    expect(edge).to_have_attribute("aria-valuenow", re.compile(r"^\d+$"))
    saved = int(edge.get_attribute("aria-valuenow") or 0)
    assert saved > start_width + 100
    assert title.bounding_box()["width"] > start_width + 100  # type: ignore[index]

    # From the keyboard: ← narrows it by 16 px; saved once the keys rest.
    edge.focus()
    with page.expect_response(
        lambda r: (
            "/api/prefs/views/courses" in r.url
            and r.request.method == "PUT"
            and f'"width":{saved - 16}' in (r.request.post_data or "")
        )
    ) as saving:
        page.keyboard.press("ArrowLeft")
        expect(edge).to_have_attribute("aria-valuenow", str(saved - 16))
    assert saving.value.ok

    # Both are the user's settings: they survive a reload.
    page.reload()
    expect(page.get_by_test_id("total")).to_contain_text("records")
    assert _headers(page) == moved
    assert head.locator("th", has_text="Title").bounding_box()["width"] > start_width + 80  # type: ignore[index]
