"""The capture triggers (DESIGN invariants 1 and 2), exercised with plain SQL.

These talk to PostgreSQL directly, as psql or another service would: the
guarantees must hold without the server in the way.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from psycopg.rows import dict_row

from collabadmin.db.tracking import tracking_sql

pytestmark = pytest.mark.usefixtures("fresh_data")


@pytest.fixture
def sql(conninfo: str) -> Iterator[psycopg.Connection[dict[str, Any]]]:
    with psycopg.connect(conninfo, autocommit=True, row_factory=dict_row) as conn:
        yield conn


def changes(
    sql: psycopg.Connection[dict[str, Any]], resource: str, pk: int
) -> list[dict[str, Any]]:
    return sql.execute(
        "SELECT * FROM collabadmin.collabadmin_change WHERE resource = %s AND pk = %s ORDER BY id",
        (resource, str(pk)),
    ).fetchall()


def version(sql: psycopg.Connection[dict[str, Any]], table: str, pk: int) -> int:
    row = sql.execute(f"SELECT version FROM {table} WHERE id = %s", (pk,)).fetchone()
    assert row is not None
    return int(row["version"])


def test_insert_writes_one_entry_at_version_1(sql: psycopg.Connection[dict[str, Any]]) -> None:
    row = sql.execute(
        "INSERT INTO universities (name, country) VALUES ('Uni X', 'CH') RETURNING id, version"
    ).fetchone()
    assert row is not None
    assert row["version"] == 1
    [entry] = changes(sql, "universities", row["id"])
    assert entry["op"] == "insert"
    assert entry["version"] == 1
    assert entry["version_before"] is None
    assert entry["diff"]["name"] == {"old": None, "new": "Uni X"}
    assert "version" not in entry["diff"]


def test_update_bumps_version_by_one_and_diffs_only_changed_fields(
    sql: psycopg.Connection[dict[str, Any]],
) -> None:
    before = len(changes(sql, "courses", 1))
    sql.execute("UPDATE courses SET title = 'Renamed', status = status WHERE id = 1")
    assert version(sql, "courses", 1) == 2
    entries = changes(sql, "courses", 1)
    assert len(entries) == before + 1
    last = entries[-1]
    assert last["op"] == "update"
    assert (last["version_before"], last["version"]) == (1, 2)
    assert list(last["diff"]) == ["title"]
    assert last["diff"]["title"]["new"] == "Renamed"


def test_update_that_changes_nothing_writes_nothing(
    sql: psycopg.Connection[dict[str, Any]],
) -> None:
    before = len(changes(sql, "courses", 2))
    result = sql.execute("UPDATE courses SET title = title, status = status WHERE id = 2")
    # The row is reported as without tracking (ORMs rely on it), but it
    # keeps its version and no entry is written.
    assert result.rowcount == 1
    assert version(sql, "courses", 2) == 1
    assert len(changes(sql, "courses", 2)) == before


def test_clients_that_write_another_version_are_refused_by_name(
    sql: psycopg.Connection[dict[str, Any]],
) -> None:
    with pytest.raises(psycopg.errors.CheckViolation) as refused:
        sql.execute("UPDATE courses SET version = 99 WHERE id = 3")
    assert refused.value.diag.column_name == "version"
    assert refused.value.diag.constraint_name == "collabadmin_version"
    assert 'column "version"' in str(refused.value)
    with pytest.raises(psycopg.errors.CheckViolation):
        sql.execute("UPDATE courses SET version = 99, title = 'x' WHERE id = 3")
    assert version(sql, "courses", 3) == 1
    with pytest.raises(psycopg.errors.CheckViolation):
        sql.execute("INSERT INTO categories (name, short_name, version) VALUES ('C', 'c-x', 50)")


def test_clients_that_write_the_version_the_trigger_sets_are_accepted(
    sql: psycopg.Connection[dict[str, Any]],
) -> None:
    # An ORM saving every column it read, or one keeping its own +1 version.
    sql.execute("UPDATE courses SET version = 1, title = title WHERE id = 3")
    assert version(sql, "courses", 3) == 1
    sql.execute("UPDATE courses SET version = 1, title = 'read and saved' WHERE id = 3")
    assert version(sql, "courses", 3) == 2
    sql.execute("UPDATE courses SET version = version + 1, title = 'bumped' WHERE id = 3")
    assert version(sql, "courses", 3) == 3
    row = sql.execute(
        "INSERT INTO categories (name, short_name, version)"
        " VALUES ('C', 'c-y', 1) RETURNING version"
    ).fetchone()
    assert row is not None
    assert row["version"] == 1


def test_soft_delete_restore_and_purge_ops(sql: psycopg.Connection[dict[str, Any]]) -> None:
    row = sql.execute(
        "INSERT INTO universities (name, country) VALUES ('Temp', 'FR') RETURNING id"
    ).fetchone()
    assert row is not None
    pk = row["id"]
    sql.execute("UPDATE universities SET deleted_at = now() WHERE id = %s", (pk,))
    sql.execute("UPDATE universities SET deleted_at = NULL WHERE id = %s", (pk,))
    sql.execute("UPDATE universities SET country = 'DE' WHERE id = %s", (pk,))
    sql.execute("DELETE FROM universities WHERE id = %s", (pk,))
    entries = changes(sql, "universities", pk)
    assert [e["op"] for e in entries] == ["insert", "delete", "restore", "update", "purge"]
    assert [e["version"] for e in entries] == [1, 2, 3, 4, 4]
    purge = entries[-1]
    assert purge["diff"]["name"] == {"old": "Temp", "new": None}
    assert purge["diff"]["country"] == {"old": "DE", "new": None}
    assert purge["diff"]["deleted_at"] == {"old": None, "new": None}


def test_outside_writes_record_the_database_role_and_source_db(
    sql: psycopg.Connection[dict[str, Any]],
) -> None:
    sql.execute("UPDATE courses SET description = 'from psql' WHERE id = 4")
    last = changes(sql, "courses", 4)[-1]
    assert last["source"] == "db"
    assert last["actor_id"] is None
    role = sql.execute("SELECT current_user AS r").fetchone()
    assert role is not None
    assert last["db_role"] == role["r"]


def test_actor_and_source_come_from_transaction_settings(
    sql: psycopg.Connection[dict[str, Any]],
) -> None:
    # Only the server's role is believed (tests/db/test_roles.py shows the
    # rest); a superuser may act as it, as the server does.
    with sql.transaction():
        sql.execute("SELECT set_config('role', collabadmin.collabadmin_app_role(), true)")
        sql.execute(
            "SELECT set_config('collabadmin.actor_id', '42', true),"
            " set_config('collabadmin.actor_name', 'Alice', true),"
            " set_config('collabadmin.source', 'workflow', true),"
            " set_config('collabadmin.request_id', 'req-123456', true)"
        )
        sql.execute("UPDATE courses SET description = 'by alice' WHERE id = 5")
    last = changes(sql, "courses", 5)[-1]
    assert (last["actor_id"], last["actor_name"], last["source"], last["request_id"]) == (
        42,
        "Alice",
        "workflow",
        "req-123456",
    )
    app_role = sql.execute("SELECT collabadmin.collabadmin_app_role()::text AS r").fetchone()
    assert app_role is not None
    assert last["db_role"] == app_role["r"]
    # SET LOCAL semantics: the next transaction is anonymous again.
    sql.execute("UPDATE courses SET description = 'after' WHERE id = 5")
    assert changes(sql, "courses", 5)[-1]["source"] == "db"


def test_multi_row_statement_writes_one_entry_per_row_in_one_transaction(
    sql: psycopg.Connection[dict[str, Any]],
) -> None:
    before = sql.execute("SELECT max(id) AS m FROM collabadmin.collabadmin_change").fetchone()
    assert before is not None
    sql.execute("UPDATE courses SET status = 'closed' WHERE id IN (6, 7, 8) AND status <> 'closed'")
    sql.execute("UPDATE courses SET internal_notes = 'bulk' WHERE id IN (6, 7, 8)")
    rows = sql.execute(
        "SELECT pk, txid::text AS txid FROM collabadmin.collabadmin_change"
        " WHERE id > %s AND diff ? 'internal_notes'",
        (before["m"],),
    ).fetchall()
    assert sorted(r["pk"] for r in rows) == ["6", "7", "8"]
    assert len({r["txid"] for r in rows}) == 1


def test_rolled_back_writes_leave_no_entry(sql: psycopg.Connection[dict[str, Any]]) -> None:
    before = len(changes(sql, "courses", 9))
    with pytest.raises(psycopg.errors.CheckViolation), sql.transaction():  # noqa: PT012
        sql.execute("UPDATE courses SET description = 'kept?' WHERE id = 9")
        sql.execute("UPDATE courses SET status = 'bogus' WHERE id = 9")
    assert len(changes(sql, "courses", 9)) == before
    assert version(sql, "courses", 9) == 1


def test_change_notifies_with_a_tiny_payload(conninfo: str) -> None:
    with psycopg.connect(conninfo, autocommit=True) as listener:
        listener.execute("LISTEN collabadmin_change")
        with psycopg.connect(conninfo, autocommit=True) as writer:
            writer.execute("UPDATE courses SET description = 'wake' WHERE id = 10")
        notes = list(listener.notifies(timeout=5, stop_after=1))
    assert len(notes) == 1
    assert notes[0].payload == ""


def test_notify_can_be_switched_off_for_poll_mode(conninfo: str) -> None:
    with psycopg.connect(conninfo, autocommit=True) as listener:
        listener.execute("LISTEN collabadmin_change")
        with psycopg.connect(conninfo) as writer:
            writer.execute("SET LOCAL collabadmin.notify = 'off'")
            writer.execute("UPDATE courses SET description = 'quiet' WHERE id = 11")
            writer.commit()
            writer.execute("UPDATE courses SET description = 'loud' WHERE id = 11")
            writer.commit()
        notes = list(listener.notifies(timeout=5, stop_after=1))
        assert len(notes) == 1
        assert list(listener.notifies(timeout=0.2)) == []


def test_a_change_only_the_bytes_show_is_versioned_and_logged(
    sql: psycopg.Connection[dict[str, Any]],
) -> None:
    # numeric 1.0 and 1.00 are equal as JSON, but the row did change.
    sql.execute("CREATE TABLE priced (id integer PRIMARY KEY, price numeric)")
    try:
        for statement in tracking_sql("priced"):
            sql.execute(statement.encode())
        sql.execute("INSERT INTO priced VALUES (1, 1.0)")
        sql.execute("UPDATE priced SET price = 1.00")
        row = sql.execute("SELECT version, price::text AS p FROM priced").fetchone()
        assert row == {"version": 2, "p": "1.00"}
        ops = sql.execute(
            "SELECT op, version_before, version FROM collabadmin.collabadmin_change"
            " WHERE resource = 'priced' ORDER BY id"
        ).fetchall()
        assert [(o["op"], o["version_before"], o["version"]) for o in ops] == [
            ("insert", None, 1),
            ("update", 1, 2),
        ]
    finally:
        sql.execute("DROP TABLE priced")
