"""A list's state in its address: a two-key sort and filters survive a reload, open from a
link in another browser, and Back from a record returns to the same rows and position."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import unquote

import psycopg
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.conftest import PASSWORD
from tests.e2e.conftest import sign_in

pytestmark = pytest.mark.usefixtures("fresh_data")

DESKTOP = {"width": 1280, "height": 800}


def _rows(conninfo: str, sql: str, *params: Any) -> list[Any]:
    with psycopg.connect(conninfo) as conn:
        return conn.execute(sql, params).fetchall()


def _shown_keys(page: Page) -> list[str]:
    keys = page.locator("tbody tr").evaluate_all("rs => rs.map(r => r.dataset.pk)")
    return [str(k) for k in keys]


def test_a_two_key_sort_and_filters_survive_a_reload_and_open_from_a_link(
    browser: Browser, live_server: str, conninfo: str
) -> None:
    category, name = _rows(
        conninfo,
        "SELECT category_id, k.name FROM courses c JOIN categories k ON k.id = c.category_id"
        " WHERE c.deleted_at IS NULL GROUP BY 1, 2 ORDER BY count(*) DESC, 1 LIMIT 1",
    )[0]
    expected = [
        str(r[0])
        for r in _rows(
            conninfo,
            "SELECT id FROM courses WHERE deleted_at IS NULL AND category_id = %s"
            " ORDER BY status, start_date DESC NULLS LAST, id",
            category,
        )
    ]
    editor_context = browser.new_context(viewport=DESKTOP)  # type: ignore[arg-type]
    page = editor_context.new_page()
    try:
        sign_in(page, live_server, "editor", PASSWORD)
        page.get_by_role("navigation", name="Resources").get_by_role("link", name="Courses").click()
        expect(page.get_by_test_id("total")).to_have_text("60 records")
        expect(page).to_have_title("Courses \N{EN DASH} collabadmin")

        status = page.get_by_role("columnheader", name=re.compile("^Status"))
        start = page.get_by_role("columnheader", name=re.compile("^Start date"))
        status.get_by_role("button").click()
        expect(status).to_have_attribute("aria-sort", "ascending")
        # Shift+click adds a second key (ascending), a second Shift+click turns it around.
        start.get_by_role("button").click(modifiers=["Shift"])
        expect(start.get_by_role("button")).to_have_accessible_name(
            re.compile("sorted 2nd ascending")
        )
        start.get_by_role("button").click(modifiers=["Shift"])
        expect(start.get_by_role("button")).to_have_accessible_name(
            re.compile("sorted 2nd descending")
        )
        expect(status.locator(".sort-mark")).to_have_text("▲1")
        expect(start.locator(".sort-mark")).to_have_text("▼2")
        expect(status).to_have_attribute("aria-sort", "ascending")  # the leading key

        page.get_by_role("combobox", name="Filter Category").fill(name)
        page.get_by_role("option", name=re.compile(f"^{re.escape(name)}")).click()
        expect(page.get_by_test_id("total")).to_have_text(f"{len(expected)} records")
        expect(page).to_have_url(
            re.compile(rf"\?sort=status,-start_date&filter\[category_id\]\[eq\]={category}$")
        )
        assert _shown_keys(page) == expected
        page.evaluate("document.activeElement.blur()")
        page.get_by_test_id("list-scroller").evaluate("b => b.scrollTo(0, 0)")
        page.set_viewport_size({"width": 1440, "height": 800})
        page.screenshot(path="test-results/list-two-key-sort.png", animations="disabled")
        page.set_viewport_size(DESKTOP)  # type: ignore[arg-type]

        page.reload()
        expect(page.get_by_test_id("total")).to_have_text(f"{len(expected)} records")
        expect(page.get_by_role("combobox", name="Filter Category")).to_have_value(name)
        expect(start.locator(".sort-mark")).to_have_text("▼2")
        assert _shown_keys(page) == expected
        link = page.url
    finally:
        editor_context.close()

    # Someone else opens the link (signing in on the way): the same list, in the same order.
    viewer_context = browser.new_context(viewport=DESKTOP)  # type: ignore[arg-type]
    viewer = viewer_context.new_page()
    try:
        viewer.goto(link)
        viewer.get_by_label("Username").fill("viewer")
        viewer.get_by_label("Password").fill(PASSWORD)
        viewer.get_by_role("button", name="Sign in").click()
        expect(viewer.get_by_test_id("total")).to_have_text(f"{len(expected)} records")
        assert unquote(viewer.url) == unquote(link)
        expect(viewer.get_by_role("combobox", name="Filter Category")).to_have_value(name)
        expect(
            viewer.get_by_role("columnheader", name=re.compile("^Start date")).locator(".sort-mark")
        ).to_have_text("▼2")
        assert _shown_keys(viewer) == expected
    finally:
        viewer_context.close()


def test_search_as_you_type_and_back_to_the_same_place(
    page: Page, live_server: str, conninfo: str
) -> None:
    page.set_viewport_size(DESKTOP)  # type: ignore[arg-type]
    long_text = ("A very long description that goes on and on " * 6).strip()
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("UPDATE courses SET description = %s WHERE id = 1", (long_text,))
    sign_in(page, live_server, "editor", PASSWORD)
    page.goto(f"{live_server}/r/courses?sort=id")
    expect(page.get_by_test_id("total")).to_have_text("60 records")

    # One line per record: a long text is cut, the tooltip has it all.
    cell = page.locator("tbody tr[data-pk='1'] td").nth(3).locator(".cell")
    expect(cell).to_have_attribute("title", long_text)
    heights = page.locator("tbody tr").evaluate_all(
        "rs => rs.slice(0, 10).map(r => r.getBoundingClientRect().height)"
    )
    assert max(heights) < 40, heights
    assert max(heights) - min(heights) < 2, heights

    # The header stays while the table scrolls; the next page loads as the end comes into view.
    box = page.get_by_test_id("list-scroller")
    expect(page.locator("tbody tr")).to_have_count(50)
    box.evaluate("b => b.scrollTo(0, b.scrollHeight)")
    expect(page.locator("tbody tr")).to_have_count(60)
    box.evaluate("b => b.scrollTo(0, b.scrollHeight)")
    tops = box.evaluate(
        "b => [b.getBoundingClientRect().top, b.querySelector('thead').getBoundingClientRect().top]"
    )
    assert abs(tops[0] - tops[1]) < 2, tops
    scrolled = box.evaluate("b => b.scrollTop")
    assert scrolled > 500

    # Back from a record: the same rows, where they were.
    page.locator("tbody tr[data-pk='58']").get_by_role("link").click()
    expect(page.get_by_test_id("version")).to_be_visible()
    course = _rows(conninfo, "SELECT title FROM courses WHERE id = 58")[0][0]
    expect(page).to_have_title(f"{course} \N{EN DASH} Courses \N{EN DASH} collabadmin")
    page.go_back()
    expect(page.locator("tbody tr")).to_have_count(60)
    page.wait_for_function(
        "least => document.querySelector('[data-testid=list-scroller]').scrollTop >= least",
        arg=scrolled - 5,
    )

    # Search as you type: no Enter, the list follows after a pause, and the address has it.
    title = _rows(conninfo, "SELECT title FROM courses WHERE id = 7")[0][0]
    page.get_by_role("searchbox", name="Search Courses").press_sequentially(title, delay=20)
    expect(page.get_by_test_id("total")).to_have_text(re.compile(r"^[1-9]\d* records?$"))
    expect(page.locator("tbody tr[data-pk='7']")).to_be_visible()
    expect(page).to_have_url(re.compile(r"q=" + re.escape(title.split()[0])))
    page.reload()
    expect(page.get_by_role("searchbox", name="Search Courses")).to_have_value(title)
    expect(page.locator("tbody tr[data-pk='7']")).to_be_visible()
