"""``collabadmin db track`` / ``untrack`` through the command line, and what psql sees after."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from collabadmin.db.tracking import key_text
from tests.adopt.cli_database import connect, odd_db, run_cli
from tests.conftest import _server_database

__all__ = ["odd_db"]


def _lines(output: str) -> dict[str, str]:
    """Report lines by table (the text before the first ':')."""
    found = {}
    for line in output.splitlines():
        if ":" in line and not line.startswith(" "):
            name, _, rest = line.partition(":")
            found[name] = rest.strip()
    return found


def _triggers(url: str, table: str) -> list[str]:
    with connect(url) as conn:
        rows = conn.execute(
            "SELECT tgname FROM pg_trigger WHERE tgrelid = %s::regclass AND NOT tgisinternal"
            " ORDER BY tgname",
            (table,),
        ).fetchall()
    return [r[0] for r in rows]


def _columns(url: str, table: str) -> set[str]:
    with connect(url) as conn:
        rows = conn.execute(
            "SELECT attname FROM pg_attribute WHERE attrelid = %s::regclass AND attnum > 0"
            " AND NOT attisdropped",
            (table,),
        ).fetchall()
    return {r[0] for r in rows}


def _entries(url: str, resource: str) -> list[tuple[Any, ...]]:
    with connect(url) as conn:
        return conn.execute(
            "SELECT pk, op, version_before, version FROM collabadmin.collabadmin_change"
            " WHERE resource = %s ORDER BY id",
            (resource,),
        ).fetchall()


def test_db_upgrade_says_how_many_tables_are_not_tracked(odd_db: str) -> None:
    result = run_cli(odd_db, "db", "upgrade")
    assert result.returncode == 0, result.stderr
    # film, actor, film_actor, tag, payment, event (not loose, stamped: refused).
    assert result.stdout.splitlines() == [
        "database is up to date",
        "6 table(s) of schema public are not tracked (served read-only):"
        " `collabadmin db track --all --dry-run` shows what tracking them would do",
    ]
    assert run_cli(odd_db, "db", "track", "--all").returncode == 0
    assert run_cli(odd_db, "db", "upgrade").stdout.splitlines() == ["database is up to date"]


def test_dry_run_prints_the_sql_and_the_locks_and_changes_nothing(odd_db: str) -> None:
    result = run_cli(odd_db, "db", "track", "--all", "--dry-run")
    assert result.returncode == 0, result.stderr
    report = _lines(result.stdout)
    assert report["film"].startswith("would track; key (film_id); adds version, deleted_at")
    assert "ACCESS EXCLUSIVE" in report["film"]
    assert report["film_actor"].startswith("would track; key (film_id, actor_id)")
    assert (
        "CREATE TRIGGER collabadmin_capture AFTER INSERT OR UPDATE OR DELETE ON"
        ' "public"."film_actor" FOR EACH ROW EXECUTE FUNCTION'
        " collabadmin.collabadmin_capture('film_actor', 'film_id', 'actor_id');"
    ) in result.stdout
    assert 'ALTER TABLE "public"."film" ADD COLUMN IF NOT EXISTS version' in result.stdout
    assert _triggers(odd_db, "film") == ["film_touch"]
    assert "version" not in _columns(odd_db, "film")


def test_track_all_reports_each_table_and_refuses_unsafe_ones_with_a_reason(
    odd_db: str,
) -> None:
    result = run_cli(odd_db, "db", "track", "--all")
    assert result.returncode == 0, result.stderr
    report = _lines(result.stdout)
    assert report["film"].startswith("tracked; key (film_id)")
    assert report["film_actor"].startswith("tracked; key (film_id, actor_id)")
    assert report["tag"].startswith("tracked; key (code)")  # unique NOT NULL, no primary key
    assert report["payment"].startswith("tracked; key (id, paid)")  # the partitioned parent
    assert "payment_2026" not in report  # partitions follow their parent
    assert report["loose"].startswith("not tracked, no primary key and no unique index")
    assert report["stamped"].startswith("not tracked, it already has a version column of type")
    assert "film_titles" not in report  # --all takes tables only
    assert not any(name.startswith("collabadmin_") for name in report)
    assert _triggers(odd_db, "film") == [
        "collabadmin_capture",
        "film_touch",
        "zz_collabadmin_version",
    ]
    assert {"version", "deleted_at"} <= _columns(odd_db, "payment_2026")

    again = run_cli(odd_db, "db", "track", "--all")
    assert _lines(again.stdout)["film"] == "already tracked, key (film_id)"


def test_named_tables_that_cannot_be_tracked_fail_with_their_reasons(odd_db: str) -> None:
    result = run_cli(
        odd_db, "db", "track", "film_titles", "remote_thing", "payment_2026", "nothing_here"
    )
    assert result.returncode == 1
    report = _lines(result.stdout)
    assert report["film_titles"] == "not tracked, a view: served read-only, nothing to track"
    assert report["remote_thing"].startswith("not tracked, a foreign table")
    assert report["payment_2026"] == ("not tracked, a partition of payment: track payment instead")
    assert report["nothing_here"] == "not tracked, no such table in schema public"
    assert "some tables named could not be tracked" in result.stderr


def test_psql_sees_the_same_row_counts_and_trigger_effects_after_tracking(
    odd_db: str,
) -> None:
    statements = [
        "UPDATE film SET title = title",  # changes nothing but the app's own trigger
        "UPDATE actor SET name = name",  # changes nothing at all
        "UPDATE actor SET name = name WHERE actor_id = 1",
        "UPDATE film_actor SET role = role WHERE film_id = 1",
        "UPDATE tag SET label = label",
        "UPDATE payment SET amount = amount",
        "UPDATE actor SET name = name || '.' WHERE actor_id = 2",
        "DELETE FROM film_actor WHERE film_id = 2",
        "DELETE FROM actor WHERE actor_id = 999",
    ]

    def run_all() -> tuple[list[int], list[int]]:
        with connect(odd_db) as conn:
            counts = [conn.execute(s).rowcount for s in statements]
            touches = [r[0] for r in conn.execute("SELECT touches FROM film ORDER BY film_id")]
        return counts, touches

    before_counts, before_touches = run_all()
    assert run_cli(odd_db, "db", "track", "--all").returncode == 0
    with connect(odd_db) as conn:
        conn.execute("INSERT INTO film_actor VALUES (2, 2, 'lead')")
    actor_entries = len(_entries(odd_db, "actor"))
    after_counts, after_touches = run_all()

    assert after_counts == before_counts == [2, 2, 1, 2, 2, 2, 1, 1, 0]
    # The application's trigger ran for every row, as before tracking.
    assert [a - b for a, b in zip(after_touches, before_touches, strict=True)] == [1, 1]
    with connect(odd_db) as conn:
        versions = dict(conn.execute("SELECT actor_id, version FROM actor").fetchall())
        film_versions = [r[0] for r in conn.execute("SELECT version FROM film ORDER BY film_id")]
        tag_versions = {r[0] for r in conn.execute("SELECT version FROM tag")}
    # A write that changes nothing writes nothing: no bump, no entry...
    assert versions == {1: 1, 2: 2}
    assert tag_versions == {1}
    assert [e[1:] for e in _entries(odd_db, "actor")[actor_entries:]] == [("update", 1, 2)]
    # ...but a row the application's trigger changed is a change, versioned.
    assert film_versions == [2, 2]
    assert [e[1:] for e in _entries(odd_db, "film")] == [("update", 1, 2), ("update", 1, 2)]


def test_outside_writes_of_version_are_refused_by_name(odd_db: str) -> None:
    assert run_cli(odd_db, "db", "track", "actor").returncode == 0
    with connect(odd_db) as conn:
        with pytest.raises(psycopg.errors.CheckViolation) as refused:
            conn.execute("UPDATE actor SET version = 5 WHERE actor_id = 1")
        assert refused.value.sqlstate == "23514"
        assert refused.value.diag.column_name == "version"
        assert 'column "version" of "actor" is maintained by collabadmin' in str(refused.value)
        # Saving the version that was read (as an ORM saving every column) is fine.
        saved = conn.execute("UPDATE actor SET version = 1, name = 'P.' WHERE actor_id = 1")
        assert saved.rowcount == 1
        row = conn.execute("SELECT version FROM actor WHERE actor_id = 1").fetchone()
    assert row == (2,)


def test_keys_are_logged_in_the_url_form_composite_and_schema_qualified(odd_db: str) -> None:
    result = run_cli(odd_db, "db", "track", "film_actor", "tag", "Sales.Orders")
    assert result.returncode == 0, result.stdout + result.stderr
    assert _lines(result.stdout)['"Sales"."Orders"'].startswith("tracked; key (OrderId)")
    with connect(odd_db) as conn:
        conn.execute("INSERT INTO tag VALUES ('x,y', 'comma')")
        conn.execute("UPDATE film_actor SET role = 'cameo' WHERE film_id = 1 AND actor_id = 2")
        conn.execute('UPDATE "Sales"."Orders" SET "Note" = \'changed\'')
        conn.execute("CREATE TABLE link (a text, b text, PRIMARY KEY (a, b))")
    assert run_cli(odd_db, "db", "track", "link").returncode == 0
    with connect(odd_db) as conn:
        conn.execute("INSERT INTO link VALUES ('a,b%c é', '2/3')")
    assert [e[:2] for e in _entries(odd_db, "tag")] == [("x,y", "insert")]
    assert [e[:2] for e in _entries(odd_db, "film_actor")] == [("1,2", "update")]
    assert [e[:2] for e in _entries(odd_db, "Sales.Orders")] == [("1", "update")]
    [(pk, _, _, _)] = _entries(odd_db, "link")
    assert pk == "a%2Cb%25c%20%C3%A9,2%2F3" == key_text(["a,b%c é", "2/3"])


def test_untrack_removes_the_triggers_and_keeps_the_columns(odd_db: str) -> None:
    assert run_cli(odd_db, "db", "track", "film").returncode == 0
    result = run_cli(odd_db, "db", "untrack", "film", "actor")
    assert result.returncode == 0, result.stderr
    report = _lines(result.stdout)
    assert report["film"] == "untracked"
    assert report["actor"] == "not tracked, nothing to do"
    assert _triggers(odd_db, "film") == ["film_touch"]
    assert {"version", "deleted_at"} <= _columns(odd_db, "film")
    with connect(odd_db) as conn:
        conn.execute("UPDATE film SET title = 'untracked write'")
    assert _entries(odd_db, "film") == []


def test_track_needs_tables_or_all(odd_db: str) -> None:
    result = run_cli(odd_db, "db", "track")
    assert result.returncode == 1
    assert result.stderr.strip() == "collabadmin: name the tables to (un)track, or --all"


def test_tables_tracked_under_the_old_trigger_name_are_brought_up_to_date(odd_db: str) -> None:
    # As 0001..0011 attached it: the version trigger sorted before most
    # application triggers and saw rows before they changed them.
    with connect(odd_db) as conn:
        conn.execute(
            "ALTER TABLE film ADD COLUMN version integer NOT NULL DEFAULT 1,"
            " ADD COLUMN deleted_at timestamptz;"
            "CREATE TRIGGER collabadmin_version BEFORE INSERT OR UPDATE ON film"
            " FOR EACH ROW EXECUTE FUNCTION collabadmin.collabadmin_bump_version();"
            "CREATE TRIGGER collabadmin_capture AFTER INSERT OR UPDATE OR DELETE ON film"
            " FOR EACH ROW EXECUTE FUNCTION collabadmin.collabadmin_capture('film', 'film_id')"
        )
    result = run_cli(odd_db, "db", "track", "film")
    assert result.returncode == 0, result.stderr
    assert _lines(result.stdout)["film"].startswith("tracked; key (film_id); no new columns")
    assert _triggers(odd_db, "film") == [
        "collabadmin_capture",
        "film_touch",
        "zz_collabadmin_version",
    ]


def test_track_before_db_upgrade_says_to_run_it(database_url: str) -> None:
    for url in _server_database(database_url):
        result = run_cli(url, "db", "track", "--all")
        assert result.returncode == 1
        assert "run `collabadmin db upgrade` first" in result.stderr


def test_a_table_held_by_a_long_transaction_fails_fast_instead_of_queueing_everyone(
    odd_db: str,
) -> None:
    with connect(odd_db) as reader:
        with reader.transaction():
            reader.execute("SELECT count(*) FROM film").fetchone()  # holds ACCESS SHARE
            result = run_cli(odd_db, "db", "track", "film", "actor")
        assert result.returncode == 1
        report = _lines(result.stdout)
        assert report["film"] == (
            "FAILED, the table stayed locked by other sessions for 5s; try again"
        )
        assert report["actor"].startswith("tracked; key (actor_id)")
        assert "some tables could not be changed" in result.stderr
    assert "version" not in _columns(odd_db, "film")
    again = run_cli(odd_db, "db", "track", "film")
    assert again.returncode == 0, again.stdout
