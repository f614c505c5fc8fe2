"""Relation fields in a real browser: chosen by name, shown by name, at desktop and phone sizes."""

from __future__ import annotations

import re
from typing import Any

import psycopg
import pytest
from playwright.sync_api import Browser, expect

from tests.conftest import PASSWORD
from tests.e2e.conftest import sign_in

pytestmark = pytest.mark.usefixtures("fresh_data")

SIZES = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}


def _one(conninfo: str, sql: str, *params: Any) -> Any:
    with psycopg.connect(conninfo) as conn:
        return conn.execute(sql, params).fetchone()


@pytest.mark.parametrize("size", SIZES)
def test_choose_a_category_by_typing_its_name_and_save(
    browser: Browser, live_server: str, conninfo: str, size: str
) -> None:
    pk, old_id, old_name = _one(
        conninfo,
        "SELECT c.id, c.category_id, k.name FROM courses c"
        " JOIN categories k ON k.id = c.category_id ORDER BY c.id LIMIT 1",
    )
    new_id, new_name = _one(
        conninfo, "SELECT id, name FROM categories WHERE id <> %s ORDER BY id DESC LIMIT 1", old_id
    )
    context = browser.new_context(viewport=SIZES[size])  # type: ignore[arg-type]
    page = context.new_page()
    try:
        sign_in(page, live_server, "editor", PASSWORD)
        page.goto(f"{live_server}/r/courses/{pk}")
        picker = page.get_by_role("combobox", name="Category")
        # The form names the category, not its key.
        expect(picker).to_have_value(old_name)

        # In the middle of the window, so that the suggestions show in the screenshot.
        picker.evaluate("e => e.scrollIntoView({block: 'center'})")
        picker.click()
        picker.fill(new_name[:4])
        suggestions = page.get_by_role("listbox", name="Category: suggestions")
        option = suggestions.get_by_role("option", name=re.compile(re.escape(new_name)))
        expect(option).to_be_visible()
        expect(picker).to_have_attribute("aria-expanded", "true")
        expect(suggestions).to_have_attribute("aria-busy", "false")
        page.screenshot(path=f"test-results/relation-picker-{size}.png", animations="disabled")
        option.click()
        expect(picker).to_have_value(new_name)
        expect(picker).to_have_attribute("aria-expanded", "false")

        page.get_by_role("button", name="Save", exact=True).click()
        expect(page.get_by_role("status").filter(has_text="Saved")).to_be_visible()
        assert _one(conninfo, "SELECT category_id FROM courses WHERE id = %s", pk) == (new_id,)

        page.reload()
        expect(page.get_by_role("combobox", name="Category")).to_have_value(new_name)
    finally:
        context.close()


def test_keyboard_alone_chooses_a_university(
    browser: Browser, live_server: str, conninfo: str
) -> None:
    pk, old_id = _one(
        conninfo, "SELECT id, university_id FROM courses ORDER BY id LIMIT 1 OFFSET 1"
    )
    new_id, new_name = _one(
        conninfo, "SELECT id, name FROM universities WHERE id <> %s ORDER BY id LIMIT 1", old_id
    )
    context = browser.new_context(viewport=SIZES["desktop"])  # type: ignore[arg-type]
    page = context.new_page()
    try:
        sign_in(page, live_server, "editor", PASSWORD)
        page.goto(f"{live_server}/r/courses/{pk}")
        picker = page.get_by_role("combobox", name="University")
        expect(picker).not_to_have_value(re.compile(r"^(#.*)?$"))
        picker.focus()
        page.keyboard.type(new_name)
        option = page.get_by_role("listbox", name="University: suggestions").get_by_role(
            "option", name=re.compile(f"^{re.escape(new_name)}")
        )
        expect(option.first).to_have_attribute("aria-selected", "true")
        page.keyboard.press("Enter")  # chooses; does not submit the form
        expect(picker).to_have_value(new_name)
        expect(page.get_by_test_id("version")).to_have_text("version 1")
        page.keyboard.press("Control+s")
        expect(page.get_by_test_id("version")).to_have_text("version 2")
        assert _one(conninfo, "SELECT university_id FROM courses WHERE id = %s", pk) == (new_id,)
    finally:
        context.close()


def test_lists_name_related_records(browser: Browser, live_server: str, conninfo: str) -> None:
    session, title = _one(
        conninfo,
        "SELECT s.id, c.title FROM sessions s JOIN courses c ON c.id = s.course_id"
        " ORDER BY s.starts_on, s.id LIMIT 1",
    )
    context = browser.new_context(viewport=SIZES["desktop"])  # type: ignore[arg-type]
    page = context.new_page()
    try:
        sign_in(page, live_server, "editor", PASSWORD)
        page.goto(f"{live_server}/r/sessions")
        row = page.locator(f"tbody tr[data-pk='{session}']")
        expect(row.locator("td").nth(1)).to_have_text(title)
        # The filter picks a course by name too.
        page.get_by_role("combobox", name="Filter Course").fill(title)
        page.get_by_role("option", name=re.compile(re.escape(title))).click()
        expect(page.get_by_role("combobox", name="Filter Course")).to_have_value(title)
        for cell in page.locator("tbody tr td:nth-child(2)").all_inner_texts():
            assert cell == title
    finally:
        context.close()


def test_names_follow_renames_and_deletes_live(
    browser: Browser, live_server: str, conninfo: str
) -> None:
    session, course, title = _one(
        conninfo,
        "SELECT s.id, c.id, c.title FROM sessions s JOIN courses c ON c.id = s.course_id"
        " ORDER BY s.starts_on, s.id LIMIT 1",
    )
    context = browser.new_context(viewport=SIZES["desktop"])  # type: ignore[arg-type]
    page = context.new_page()
    try:
        sign_in(page, live_server, "editor", PASSWORD)
        page.goto(f"{live_server}/r/sessions")
        cell = page.locator(f"tbody tr[data-pk='{session}'] td").nth(1)
        expect(cell).to_have_text(title)
        # Renamed by any SQL client: the list names it anew, with no reload.
        with psycopg.connect(conninfo) as conn:
            conn.execute(
                "UPDATE courses SET title = %s WHERE id = %s", (f"{title} (renamed)", course)
            )
        expect(cell).to_have_text(f"{title} (renamed)")
        # The session's form names it anew too.
        page.goto(f"{live_server}/r/sessions/{session}")
        picker = page.get_by_role("combobox", name="Course")
        expect(picker).to_have_value(f"{title} (renamed)")
        with psycopg.connect(conninfo) as conn:
            conn.execute("UPDATE courses SET title = %s WHERE id = %s", (title, course))
        expect(picker).to_have_value(title)
    finally:
        context.close()
