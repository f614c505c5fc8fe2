"""A course's sessions and instructors on its page, edited there and followed live elsewhere."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from playwright.sync_api import Browser, BrowserContext, Locator, Page, expect

from tests.conftest import PASSWORD, taught_courses
from tests.e2e.conftest import sign_in

pytestmark = pytest.mark.usefixtures("fresh_data")

DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


def _one(conninfo: str, sql: str, *params: Any) -> Any:
    with psycopg.connect(conninfo) as conn:
        return conn.execute(sql, params).fetchone()


def _course_with_sessions_and_instructors(conninfo: str) -> int:
    row = _one(
        conninfo,
        "SELECT c.id FROM courses c WHERE c.deleted_at IS NULL"
        " AND EXISTS (SELECT 1 FROM sessions s WHERE s.course_id = c.id AND s.deleted_at IS NULL)"
        " AND EXISTS (SELECT 1 FROM course_instructors ci"
        "             WHERE ci.course_id = c.id AND ci.deleted_at IS NULL)"
        " ORDER BY c.id LIMIT 1",
    )
    return int(row[0])


def _session_count(conninfo: str, course: int) -> int:
    row = _one(
        conninfo,
        "SELECT count(*) FROM sessions WHERE course_id = %s AND deleted_at IS NULL",
        course,
    )
    return int(row[0])


@pytest.fixture
def two(browser: Browser) -> Iterator[tuple[BrowserContext, BrowserContext]]:
    first = browser.new_context(viewport=DESKTOP)  # type: ignore[arg-type]
    second = browser.new_context(viewport=DESKTOP)  # type: ignore[arg-type]
    yield first, second
    first.close()
    second.close()


def _sessions(page: Page) -> Locator:
    return page.get_by_test_id("related-sessions")


def _session_rows(page: Page) -> Locator:
    return _sessions(page).locator("tbody tr")


def _session_row(page: Page, pk: int) -> Locator:
    return _sessions(page).locator(f"tr[data-pk='{pk}']")


def test_a_session_added_on_a_course_page_appears_live_in_another_browser(
    two: tuple[BrowserContext, BrowserContext], live_server: str, conninfo: str
) -> None:
    course = _course_with_sessions_and_instructors(conninfo)
    before = _session_count(conninfo, course)
    editor, admin = two[0].new_page(), two[1].new_page()
    sign_in(editor, live_server, "editor", PASSWORD)
    sign_in(admin, live_server, "admin", PASSWORD)
    for page in (editor, admin):
        page.goto(f"{live_server}/r/courses/{course}")
        expect(_session_rows(page)).to_have_count(before)
        expect(_sessions(page).get_by_role("heading")).to_have_text(f"Sessions ({before})")

    _sessions(editor).get_by_role("button", name="Add session").click()
    form = editor.get_by_role("form", name="New session")
    # The course is this one: not asked for.
    expect(form.get_by_label("Course")).to_have_count(0)
    form.get_by_label("Starts on").fill("2027-02-01")
    form.get_by_label("Ends on").fill("2027-02-05")
    form.get_by_label("Enrollment open").check()
    form.get_by_role("button", name="Add session").click()
    expect(form).to_have_count(0)

    added = _one(
        conninfo,
        "SELECT id, course_id, enrollment_open FROM sessions"
        " WHERE starts_on = '2027-02-01' AND ends_on = '2027-02-05'",
    )
    assert (added[1], added[2]) == (course, True)
    expect(_session_rows(editor)).to_have_count(before + 1)
    # The other browser is told, with no reload: the row appears, the count follows.
    expect(_session_rows(admin)).to_have_count(before + 1)
    expect(_session_row(admin, added[0])).to_contain_text("Yes")
    expect(_sessions(admin).get_by_role("heading")).to_have_text(f"Sessions ({before + 1})")

    # Editing a row is presence on it: the other browser sees who edits, then the saved value.
    editor.get_by_role("button", name=f"Edit session #{added[0]}").click()
    row_form = editor.get_by_role("form", name=f"Edit session #{added[0]}")
    row_form.get_by_label("Ends on").fill("2027-02-06")
    expect(_session_row(admin, added[0]).get_by_test_id("row-presence")).to_have_attribute(
        "aria-label", re.compile(r"Editor \(editing\)")
    )
    # A link away asks first, naming the panel; Escape stays, with the edit.
    editor.get_by_role("heading", level=1).get_by_role("link", name="Courses").click()
    leave = editor.get_by_role("alertdialog", name="Leave without saving?")
    expect(leave).to_contain_text("Your changes to Sessions are not saved.")
    editor.keyboard.press("Escape")
    expect(leave).to_have_count(0)
    expect(row_form.get_by_label("Ends on")).to_have_value("2027-02-06")
    row_form.get_by_role("button", name="Save").click()
    expect(row_form).to_have_count(0)
    expect(_session_row(admin, added[0])).to_contain_text("2027-02-06")
    assert _one(
        conninfo, "SELECT ends_on::text, version FROM sessions WHERE id = %s", added[0]
    ) == (
        "2027-02-06",
        2,
    )
    # Closing the form says "left": the row shows nobody any more.
    expect(_session_row(admin, added[0]).get_by_test_id("row-presence")).to_have_count(0)


def test_a_session_deleted_while_it_is_edited_says_so_and_keeps_the_edit(
    two: tuple[BrowserContext, BrowserContext], live_server: str, conninfo: str
) -> None:
    course = _course_with_sessions_and_instructors(conninfo)
    session = int(
        _one(
            conninfo,
            "SELECT min(id) FROM sessions WHERE course_id = %s AND deleted_at IS NULL",
            course,
        )[0]
    )
    editor, admin = two[0].new_page(), two[1].new_page()
    sign_in(editor, live_server, "editor", PASSWORD)
    sign_in(admin, live_server, "admin", PASSWORD)
    for page in (editor, admin):
        page.goto(f"{live_server}/r/courses/{course}")
        expect(_session_row(page, session)).to_be_visible()

    editor.get_by_role("button", name=f"Edit session #{session}").click()
    row_form = editor.get_by_role("form", name=f"Edit session #{session}")
    row_form.get_by_label("Ends on").fill("2027-03-09")

    admin.get_by_role("button", name=f"Delete session #{session}").click()
    expect(_session_row(admin, session)).to_have_count(0)

    expect(row_form.get_by_role("alert")).to_contain_text(
        "Admin deleted this session while you were editing it"
    )
    expect(row_form.get_by_label("Ends on")).to_have_value("2027-03-09")
    expect(row_form.get_by_role("button", name="Save")).to_be_disabled()
    # Restored, the edit is saved after all.
    row_form.get_by_role("button", name="Restore it and keep editing").click()
    expect(row_form.get_by_role("alert")).to_have_count(0)
    row_form.get_by_role("button", name="Save").click()
    expect(row_form).to_have_count(0)
    assert _one(
        conninfo, "SELECT ends_on::text, deleted_at FROM sessions WHERE id = %s", session
    ) == (
        "2027-03-09",
        None,
    )
    expect(_session_row(admin, session)).to_contain_text("2027-03-09")


def test_adding_and_removing_an_instructor(
    two: tuple[BrowserContext, BrowserContext], live_server: str, conninfo: str
) -> None:
    course = _course_with_sessions_and_instructors(conninfo)
    far_id, far_name = _one(
        conninfo,
        "SELECT i.id, i.name FROM instructors i WHERE i.deleted_at IS NULL AND NOT EXISTS"
        " (SELECT 1 FROM course_instructors ci WHERE ci.course_id = %s AND ci.instructor_id = i.id)"
        " ORDER BY i.id LIMIT 1",
        course,
    )
    editor, admin = two[0].new_page(), two[1].new_page()
    sign_in(editor, live_server, "editor", PASSWORD)
    sign_in(admin, live_server, "admin", PASSWORD)
    for page in (editor, admin):
        page.goto(f"{live_server}/r/courses/{course}")
        expect(
            page.get_by_role("list", name="Instructors").get_by_role("listitem").first
        ).to_be_visible()
    chips = editor.get_by_role("list", name="Instructors")
    expect(chips.get_by_role("link", name=far_name)).to_have_count(0)

    picker = editor.get_by_role("combobox", name="Add instructor")
    picker.fill(far_name.split()[0])
    editor.get_by_role("listbox", name="Add instructor: suggestions").get_by_role(
        "option", name=re.compile(re.escape(far_name))
    ).click()
    expect(chips.get_by_role("link", name=far_name)).to_be_visible()
    expect(editor.get_by_text(f"Added {far_name}.")).to_be_visible()
    linked = _one(
        conninfo,
        "SELECT id FROM course_instructors WHERE course_id = %s AND instructor_id = %s"
        " AND deleted_at IS NULL",
        course,
        far_id,
    )
    assert linked is not None
    other = admin.get_by_role("list", name="Instructors").get_by_role("link", name=far_name)
    expect(other).to_be_visible()
    expect(other).to_have_attribute("href", f"/r/instructors/{far_id}")

    # Choosing one already there says so and links nothing twice.
    picker.fill(far_name.split()[0])
    editor.get_by_role("listbox", name="Add instructor: suggestions").get_by_role(
        "option", name=re.compile(re.escape(far_name))
    ).click()
    expect(editor.get_by_text(f"{far_name} is already one of the instructors.")).to_be_visible()

    chips.get_by_role("button", name=f"Remove {far_name}").click()
    expect(chips.get_by_role("link", name=far_name)).to_have_count(0)
    expect(other).to_have_count(0)
    assert _one(
        conninfo, "SELECT deleted_at IS NOT NULL FROM course_instructors WHERE id = %s", linked[0]
    ) == (True,)
    # Undo puts it back, for both.
    editor.get_by_test_id("toasts").get_by_role("button", name="Undo").click()
    expect(chips.get_by_role("link", name=far_name)).to_be_visible()
    expect(other).to_be_visible()


def test_creating_a_course_with_the_form(browser: Browser, live_server: str, conninfo: str) -> None:
    context = browser.new_context(viewport=DESKTOP)  # type: ignore[arg-type]
    page = context.new_page()
    try:
        sign_in(page, live_server, "editor", PASSWORD)
        page.goto(f"{live_server}/r/courses")
        page.get_by_role("link", name="New course").click()
        expect(page).to_have_url(re.compile(r"/r/courses/records/new$"))
        expect(page.get_by_role("heading", name="New course")).to_be_visible()
        page.get_by_label("Title").fill("Sea Ice Physics")
        short_name = page.get_by_label("Short name")

        # A pasted name longer than 20 characters is kept whole and said to be too long.
        short_name.fill("sea-ice-physics-for-beginners")
        expect(short_name).to_have_value("sea-ice-physics-for-beginners")
        expect(page.get_by_text("At most 20 characters: this is 29, 9 too many")).to_be_visible()

        # The server's 422, in words under the field; nothing typed is lost.
        short_name.fill("Sea Ice 101")
        page.get_by_label("Status").select_option("open")
        page.get_by_role("button", name="Create course").click()
        message = page.locator(".field", has=short_name).locator(".error")
        expect(message).to_have_text(
            "Use lower-case letters, digits, dots and hyphens only, such as cs-101."
        )
        expect(short_name).to_have_attribute("aria-invalid", "true")
        expect(short_name).to_be_focused()
        assert "[a-z" not in page.locator("body").inner_text()  # the regex is never shown
        expect(page.get_by_label("Title")).to_have_value("Sea Ice Physics")
        expect(short_name).to_have_value("Sea Ice 101")
        page.evaluate("window.scrollTo(0, 0)")
        page.screenshot(path="test-results/new-record-422.png", animations="disabled")

        short_name.fill("sea-ice-101")
        expect(message).to_have_count(0)
        page.get_by_role("button", name="Create course").click()
        expect(page).to_have_url(re.compile(r"/r/courses/\d+$"))
        expect(page.get_by_role("heading", name=re.compile("Sea Ice Physics"))).to_be_visible()
        expect(page.get_by_test_id("version")).to_have_text("version 1")
        row = _one(conninfo, "SELECT title, status FROM courses WHERE short_name = 'sea-ice-101'")
        assert row == ("Sea Ice Physics", "open")
        # A new course has no sessions yet, and says so.
        expect(_sessions(page)).to_contain_text("No sessions of this course yet.")
    finally:
        context.close()


def test_who_may_do_what_in_the_panels(browser: Browser, live_server: str, conninfo: str) -> None:
    """An instructor changes session dates only; a viewer changes nothing; neither adds a course."""
    taught = taught_courses(conninfo)[0]
    context = browser.new_context(viewport=DESKTOP)  # type: ignore[arg-type]
    page = context.new_page()
    try:
        sign_in(page, live_server, "instructor", PASSWORD)
        page.goto(f"{live_server}/r/courses/{taught}")
        expect(_session_rows(page).first).to_be_visible()
        expect(_sessions(page).get_by_role("button", name="Add session")).to_have_count(0)
        expect(
            _sessions(page).get_by_role("button", name=re.compile("^Delete session"))
        ).to_have_count(0)
        # Not allowed to see the course's instructors link table: no such panel.
        expect(page.get_by_test_id("related-instructors")).to_have_count(0)
        _sessions(page).get_by_role("button", name=re.compile("^Edit session")).first.click()
        row_form = _sessions(page).get_by_role("form", name=re.compile("^Edit session"))
        expect(row_form.get_by_label("Starts on")).to_be_enabled()
        expect(row_form.get_by_label("Enrollment open")).to_be_disabled()
        page.goto(f"{live_server}/r/courses")
        expect(page.get_by_role("heading", name="Courses")).to_be_visible()
        expect(page.get_by_role("link", name="New course")).to_have_count(0)
    finally:
        context.close()
    context = browser.new_context(viewport=DESKTOP)  # type: ignore[arg-type]
    page = context.new_page()
    try:
        sign_in(page, live_server, "viewer", PASSWORD)
        page.goto(f"{live_server}/r/courses/{taught}")
        expect(_session_rows(page).first).to_be_visible()
        expect(_sessions(page).get_by_role("button")).to_have_count(0)
        expect(page.get_by_role("list", name="Instructors").get_by_role("button")).to_have_count(0)
        expect(page.get_by_role("combobox", name="Add instructor")).to_have_count(0)
        page.goto(f"{live_server}/r/courses/records/new")
        expect(page.get_by_text("You may not add courses.")).to_be_visible()
    finally:
        context.close()


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_the_course_page_with_its_panels(
    browser: Browser, live_server: str, conninfo: str, size: str
) -> None:
    viewport = DESKTOP if size == "desktop" else PHONE
    course = _course_with_sessions_and_instructors(conninfo)
    context = browser.new_context(viewport=viewport, has_touch=size == "phone")  # type: ignore[arg-type]
    page = context.new_page()
    try:
        sign_in(page, live_server, "editor", PASSWORD)
        page.goto(f"{live_server}/r/courses/{course}")
        expect(_session_rows(page).first).to_be_visible()
        expect(
            page.get_by_role("list", name="Instructors").get_by_role("link").first
        ).to_be_visible()
        # No wider than the window: the rows fold into cards on a phone.
        width = int(page.evaluate("document.documentElement.scrollWidth"))
        assert width <= viewport["width"]
        _sessions(page).get_by_role("button", name=re.compile("^Edit session")).first.click()
        row_form = _sessions(page).get_by_role("form", name=re.compile("^Edit session"))
        expect(row_form.get_by_label("Starts on")).to_be_visible()
        assert int(page.evaluate("document.documentElement.scrollWidth")) <= viewport["width"]
        page.get_by_test_id("related").scroll_into_view_if_needed()
        page.screenshot(path=f"test-results/child-rows-{size}.png", animations="disabled")
        if size == "phone":
            # On a phone too: a session is added from the course.
            before = _session_count(conninfo, course)
            _sessions(page).get_by_role("button", name="Add session").click()
            form = page.get_by_role("form", name="New session")
            form.get_by_label("Starts on").fill("2027-04-05")
            form.get_by_label("Ends on").fill("2027-04-09")
            form.get_by_role("button", name="Add session").click()
            expect(_session_rows(page)).to_have_count(before + 1)
    finally:
        context.close()
