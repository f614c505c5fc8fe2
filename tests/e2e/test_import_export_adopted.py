"""Export and import in the browser on adopted schemas: every column type, composite keys."""

from __future__ import annotations

from pathlib import Path

import psycopg
from playwright.sync_api import Page, expect

from tests.conftest import PASSWORD
from tests.e2e.conftest import sign_in
from tests.e2e.test_composite_keys_browser import keyed_site  # noqa: F401 - the keyed server


def test_an_exported_list_imported_back_through_the_wizard_changes_nothing(
    page: Page, adopted_server: str, adopted_conninfo: str
) -> None:
    """The export's headers are labels: mapped back by the suggestions, every line unchanged."""
    with psycopg.connect(adopted_conninfo, autocommit=True) as conn:
        # The list as it comes, every column (other tests save the admin's columns).
        conn.execute("DELETE FROM collabadmin.collabadmin_view_pref WHERE resource = 'ticket'")
        conn.execute(
            "INSERT INTO ticket (title, status, tags, scores, price, ratio, due_on, due_at,"
            " happened_at, meta, attrs, attachment, spent, email, client_ip, done)"
            " VALUES ('Round trip, \"quoted\"', 'new', '{alpha,\"b c\"}', '{1,2}', 12.50, 0.125,"
            " '2026-12-01', '09:30', '2026-11-30 17:00:00+00', '{\"a\": [1, 2]}', '{\"k\": null}',"
            " '\\x00010203', '1 day 02:30:00', 'Someone@Example.org', '10.0.0.1', true)"
        )
        (before,) = conn.execute(
            "SELECT count(*) FROM collabadmin.collabadmin_change WHERE resource = 'ticket'"
        ).fetchone()  # type: ignore[misc]
    sign_in(page, adopted_server, "admin", PASSWORD)
    page.goto(f"{adopted_server}/r/ticket")
    total = page.get_by_test_id("total")
    expect(total).to_contain_text("record")
    count = int(total.inner_text().split()[0])
    with page.expect_download() as waiting:
        rows = f"{count} row{'s' if count != 1 else ''}"
        page.get_by_role("link", name=f"Export {rows} as CSV").click()
    exported = Path(waiting.value.path())

    page.get_by_role("link", name="Import…").click()
    page.get_by_label("Choose a file").set_input_files(
        files=[{"name": "ticket.csv", "mimeType": "text/csv", "buffer": exported.read_bytes()}]
    )
    # Labels suggested back to their fields; what is computed is left out.
    expect(page.get_by_label("Field for column Title", exact=True)).to_have_value("title")
    expect(page.get_by_label("Field for column Tags")).to_have_value("tags")
    expect(page.get_by_label("Field for column Title length")).to_have_value("")
    page.get_by_role("button", name="Preview the import").click()
    summary = page.get_by_test_id("import-summary")
    expect(summary).to_contain_text(f"{count} unchanged")
    expect(summary).to_contain_text("0 new")
    expect(summary).to_contain_text("0 to update")
    expect(page.locator("td.cell-error")).to_have_count(0)
    with psycopg.connect(adopted_conninfo) as conn:
        (after,) = conn.execute(
            "SELECT count(*) FROM collabadmin.collabadmin_change WHERE resource = 'ticket'"
        ).fetchone()  # type: ignore[misc]
    assert after == before


def test_import_lines_matched_by_a_composite_key(
    page: Page,
    keyed_site: str,  # noqa: F811 - the fixture imported above
    conninfo: str,
    tmp_path: Path,
) -> None:
    path = tmp_path / "links.csv"
    lines = ["left_id,right_id,note", "1,23,one-23 (imported)", "7,8,seven-8"]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    sign_in(page, keyed_site, "editor", PASSWORD)
    page.goto(f"{keyed_site}/r/ck_link/records/import")
    page.get_by_label("Choose a file").set_input_files(path)
    expect(page.get_by_text("Lines are matched to records by Left id + Right id.")).to_be_visible()
    page.get_by_role("button", name="Preview the import").click()
    expect(page.locator("tr[data-line='2']")).to_contain_text("update")
    expect(page.locator("tr[data-line='3']")).to_contain_text("new")
    page.get_by_role("button", name="Import 2 changes").click()
    expect(page.get_by_role("heading", name="Imported")).to_be_visible()
    with psycopg.connect(conninfo) as conn:
        rows = conn.execute(
            "SELECT left_id, right_id, note FROM ck_link"
            " WHERE (left_id, right_id) IN ((1, 23), (7, 8)) ORDER BY left_id"
        ).fetchall()
    assert rows == [(1, 23, "one-23 (imported)"), (7, 8, "seven-8")]
