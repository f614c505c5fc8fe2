"""The deleted view of a list: who deleted what, restore, and purge with a confirmation."""

from __future__ import annotations

import re
from typing import Any

import psycopg
import pytest
from playwright.sync_api import Page, expect

from tests.conftest import PASSWORD
from tests.e2e.conftest import sign_in

pytestmark = pytest.mark.usefixtures("fresh_data")


def _one(conninfo: str, sql: str, *params: Any) -> Any:
    with psycopg.connect(conninfo) as conn:
        return conn.execute(sql, params).fetchone()


def test_restore_a_record_from_the_trash(page: Page, live_server: str, conninfo: str) -> None:
    pk, title = _one(conninfo, "SELECT id, title FROM courses ORDER BY id LIMIT 1 OFFSET 4")
    sign_in(page, live_server, "editor", PASSWORD)
    page.goto(f"{live_server}/r/courses/{pk}")
    page.get_by_role("button", name="Delete", exact=True).click()
    toasts = page.get_by_test_id("toasts")
    expect(toasts).to_contain_text(re.compile(r"It stays under Courses . Deleted"))
    expect(page.locator(".deleted-note")).to_contain_text("by Editor")

    # Long after the undo toast: the list's deleted view has it, with who deleted it.
    page.get_by_role("navigation", name="Resources").get_by_role("link", name="Courses").click()
    expect(page.get_by_test_id("total")).to_have_text("59 records")
    page.get_by_role("group", name="Which records").get_by_role("button", name="Deleted").click()
    expect(page).to_have_url(re.compile(r"deleted=only"))
    expect(page.get_by_role("heading", name="Deleted courses")).to_be_visible()
    expect(page).to_have_title("Deleted courses \N{EN DASH} collabadmin")
    expect(page.get_by_test_id("total")).to_have_text("1 record")
    row = page.locator(f"tbody tr[data-pk='{pk}']")
    expect(row).to_contain_text(title)
    expect(row.locator(".deleted-by")).to_contain_text(re.compile(r"by Editor, .*ago|now"))
    # An editor may restore, not purge.
    expect(row.get_by_role("button", name=re.compile("^Purge"))).to_have_count(0)
    page.screenshot(path="test-results/trash.png", animations="disabled")

    row.get_by_role("button", name=f"Restore {title}").click()
    expect(page.get_by_test_id("toasts")).to_contain_text(f"Restored course “{title}”")
    expect(row).to_have_count(0)
    expect(page.get_by_text("No deleted courses.")).to_be_visible()
    assert _one(conninfo, "SELECT deleted_at FROM courses WHERE id = %s", pk) == (None,)

    page.get_by_role("group", name="Which records").get_by_role("button", name="Records").click()
    expect(page.get_by_test_id("total")).to_have_text("60 records")


def test_purge_asks_first(page: Page, live_server: str, conninfo: str) -> None:
    # A course with sessions cannot be purged (they refer to it); a new one can.
    taught = _one(conninfo, "SELECT course_id FROM sessions ORDER BY id LIMIT 1")[0]
    title = "Purge me"
    with psycopg.connect(conninfo, autocommit=True) as conn:
        row = conn.execute(
            "INSERT INTO courses (title, short_name, status) VALUES (%s, 'purge-me', 'draft')"
            " RETURNING id",
            (title,),
        ).fetchone()
        assert row is not None
        pk = row[0]
        conn.execute("UPDATE courses SET deleted_at = now() WHERE id = ANY(%s)", ([pk, taught],))
    sign_in(page, live_server, "admin", PASSWORD)
    page.goto(f"{live_server}/r/courses?deleted=only")
    row = page.locator(f"tbody tr[data-pk='{pk}']")
    # Deleted by SQL outside the server: the change log says so.
    expect(row.locator(".deleted-by")).to_contain_text("by the database")

    purge = row.get_by_role("button", name=f"Purge {title}")
    purge.click()
    dialog = page.get_by_role("alertdialog", name=f"Purge course “{title}”?")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("button", name="Cancel")).to_be_focused()
    # Tab stays inside the dialog.
    page.keyboard.press("Tab")
    expect(dialog.get_by_role("button", name="Purge for good")).to_be_focused()
    page.keyboard.press("Tab")
    expect(dialog.get_by_role("button", name="Cancel")).to_be_focused()
    page.keyboard.press("Escape")
    expect(dialog).to_have_count(0)
    expect(purge).to_be_focused()
    assert _one(conninfo, "SELECT count(*) FROM courses WHERE id = %s", pk) == (1,)

    purge.click()
    dialog.get_by_role("button", name="Purge for good").click()
    expect(page.get_by_test_id("toasts")).to_contain_text(f"Purged course “{title}”")
    expect(row).to_have_count(0)
    assert _one(conninfo, "SELECT count(*) FROM courses WHERE id = %s", pk) == (0,)

    # The database refuses to purge a course its sessions refer to: the dialog says so.
    taught_row = page.locator(f"tbody tr[data-pk='{taught}']")
    taught_row.get_by_role("button", name=re.compile("^Purge")).click()
    refused = page.get_by_role("alertdialog")
    refused.get_by_role("button", name="Purge for good").click()
    expect(refused.get_by_role("alert")).to_contain_text("Not purged: ")
    refused.get_by_role("button", name="Cancel").click()
    assert _one(conninfo, "SELECT count(*) FROM courses WHERE id = %s", taught) == (1,)
