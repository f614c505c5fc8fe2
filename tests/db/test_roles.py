"""Who may write history: the owner, the server's restricted role, and everyone else.

An *outsider* here is a LOGIN role of its own with nothing but UPDATE on
``courses``, as another service of the company would have. Roles are
cluster-wide, so its name is derived from the test database's.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import make_conninfo
from psycopg.rows import dict_row

from collabadmin.db.engine import SYSTEM, Database
from collabadmin.db.roles import DatabaseRoleError, app_role_name, server_role

pytestmark = pytest.mark.usefixtures("fresh_data")

Conn = psycopg.Connection[dict[str, Any]]

LOG_WRITES = (
    "INSERT INTO collabadmin.collabadmin_change (resource, pk, op, source, version, diff)"
    " VALUES ('courses', '1', 'update', 'api', 9, '{}')",
    "UPDATE collabadmin.collabadmin_change SET actor_name = 'someone' WHERE id = 1",
    "DELETE FROM collabadmin.collabadmin_change WHERE id = 1",
    "TRUNCATE collabadmin.collabadmin_change",
    "INSERT INTO collabadmin.collabadmin_seal (seq, change_id, hash) VALUES (999, 1, 'x')",
    "UPDATE collabadmin.collabadmin_seal_state SET last_hash = 'x'",
    "UPDATE collabadmin.collabadmin_verify_state SET first_bad = NULL",
    "INSERT INTO collabadmin.collabadmin_retention_pass VALUES (pg_current_xact_id())",
    "SELECT collabadmin.collabadmin_prune(1)",
)


def _connect(conninfo: str, **overrides: str) -> Conn:
    return psycopg.connect(
        make_conninfo(conninfo, **overrides), autocommit=True, row_factory=dict_row
    )


@pytest.fixture
def owner(conninfo: str) -> Iterator[Conn]:
    with _connect(conninfo) as conn:
        yield conn


@pytest.fixture
def app_role(owner: Conn) -> str:
    row = owner.execute("SELECT collabadmin.collabadmin_app_role()::text AS r").fetchone()
    assert row is not None
    return str(row["r"])


@pytest.fixture
def outsider(owner: Conn, conninfo: str) -> Iterator[tuple[str, Conn]]:
    database = owner.execute("SELECT current_database() AS d").fetchone()
    assert database is not None
    name = f"{database['d']}_outsider"
    role = sql.Identifier(name)
    owner.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(role))
    owner.execute(sql.SQL("CREATE ROLE {} LOGIN").format(role))
    owner.execute(sql.SQL("GRANT UPDATE ON courses TO {}").format(role))
    try:
        with _connect(conninfo, user=name) as conn:
            yield name, conn
    finally:
        owner.execute(sql.SQL("DROP OWNED BY {}").format(role))
        owner.execute(sql.SQL("DROP ROLE {}").format(role))


def _last_entries(owner: Conn, count: int) -> list[dict[str, Any]]:
    return owner.execute(
        "SELECT * FROM collabadmin.collabadmin_change ORDER BY id DESC LIMIT %s", (count,)
    ).fetchall()


def test_the_server_role_is_derived_from_the_database_and_fits_a_name() -> None:
    assert app_role_name("shop") == "collabadmin_app_shop"
    long_a, long_b = "x" * 60 + "a", "x" * 60 + "b"
    assert len(app_role_name(long_a).encode()) <= 63
    assert app_role_name(long_a) != app_role_name(long_b)  # truncation keeps them apart
    assert len(app_role_name("é" * 40).encode()) <= 63


def test_the_server_role_owns_nothing_and_is_no_superuser(owner: Conn, app_role: str) -> None:
    row = owner.execute(
        "SELECT r.rolsuper, r.rolcanlogin, r.rolcreaterole, r.rolbypassrls,"
        " (SELECT count(*) FROM pg_class c WHERE c.relowner = r.oid) AS owned,"
        " (SELECT count(*) FROM pg_proc p WHERE p.proowner = r.oid) AS functions"
        " FROM pg_roles r WHERE r.rolname = %s",
        (app_role,),
    ).fetchone()
    assert row == {
        "rolsuper": False,
        "rolcanlogin": False,
        "rolcreaterole": False,
        "rolbypassrls": False,
        "owned": 0,
        "functions": 0,
    }
    # The capture function belongs to the owner and runs as it.
    capture = owner.execute(
        "SELECT prosecdef, proowner::regrole::text AS owner, proconfig FROM pg_proc"
        " WHERE oid = 'collabadmin.collabadmin_capture()'::regprocedure"
    ).fetchone()
    assert capture is not None
    assert capture["prosecdef"] is True
    assert capture["owner"] != app_role
    # Its unqualified names resolve in collabadmin's schema; pg_temp last.
    assert capture["proconfig"] == ["search_path=pg_catalog, collabadmin, pg_temp"]


def test_an_outsider_with_only_update_writes_and_is_recorded_as_itself(
    owner: Conn, outsider: tuple[str, Conn]
) -> None:
    name, conn = outsider
    # Without SELECT it cannot even filter by id: it updates every course.
    updated = conn.execute("UPDATE courses SET description = 'from the outside'").rowcount
    assert updated == 60
    entries = _last_entries(owner, updated)
    assert {(e["resource"], e["source"], e["db_role"], e["actor_id"]) for e in entries} == {
        ("courses", "db", name, None)
    }


def test_an_outsider_cannot_speak_for_a_user(owner: Conn, outsider: tuple[str, Conn]) -> None:
    name, conn = outsider
    with conn.transaction():
        conn.execute(
            "SELECT set_config('collabadmin.actor_id', '1', true),"
            " set_config('collabadmin.actor_name', 'Admin', true),"
            " set_config('collabadmin.source', 'api', true),"
            " set_config('collabadmin.request_id', 'req-forged-0001', true)"
        )
        conn.execute("UPDATE courses SET description = 'forged'")
    [entry] = _last_entries(owner, 1)
    assert (entry["source"], entry["actor_id"], entry["actor_name"], entry["request_id"]) == (
        "db",
        None,
        None,
        None,
    )
    assert entry["db_role"] == name


def test_an_outsider_cannot_become_the_server_role(
    outsider: tuple[str, Conn], app_role: str
) -> None:
    _, conn = outsider
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(app_role)))
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute("SELECT set_config('role', %s, false)", (app_role,))


@pytest.mark.parametrize("statement", LOG_WRITES)
def test_an_outsider_cannot_write_the_log(outsider: tuple[str, Conn], statement: str) -> None:
    _, conn = outsider
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute(statement)


@pytest.mark.parametrize("statement", LOG_WRITES)
def test_the_server_role_cannot_write_the_log(conninfo: str, app_role: str, statement: str) -> None:
    with _connect(conninfo, options=f"-c role={app_role}") as server:
        current = server.execute("SELECT current_user::text AS r").fetchone()
        assert current == {"r": app_role}
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            server.execute(statement)


def test_the_server_role_may_seal_and_verify_but_not_prune(owner: Conn, app_role: str) -> None:
    owner.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(app_role)))
    try:
        sealed = owner.execute("SELECT collabadmin.collabadmin_seal() AS n").fetchone()
        assert sealed is not None
        assert sealed["n"] > 0
        result = owner.execute("SELECT * FROM collabadmin.collabadmin_verify(true)").fetchone()
        assert result == {"checked": sealed["n"], "first_bad": None}
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            owner.execute("SELECT collabadmin.collabadmin_prune(1)")
    finally:
        owner.execute("RESET ROLE")


def test_no_setting_unlocks_the_log_even_for_its_owner(owner: Conn) -> None:
    owner.execute("SELECT collabadmin.collabadmin_seal()")
    owner.execute("SET collabadmin.retention = 'on'")  # what unlocked it before
    for statement in (
        "DELETE FROM collabadmin.collabadmin_change WHERE id = 1",
        "UPDATE collabadmin.collabadmin_change SET pk = 'x' WHERE id = 1",
        "TRUNCATE collabadmin.collabadmin_change",
        "DELETE FROM collabadmin.collabadmin_seal",
    ):
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            owner.execute(statement)
    row = owner.execute(
        "SELECT count(*) AS n FROM collabadmin.collabadmin_change WHERE id = 1"
    ).fetchone()
    assert row == {"n": 1}


def test_nobody_may_build_a_trigger_on_the_capture_function(
    owner: Conn, outsider: tuple[str, Conn]
) -> None:
    name, conn = outsider
    # Give the outsider a schema and a table of its own, and let it see into
    # collabadmin's schema: it still cannot attach the capture function and
    # name any resource it likes.
    schema = sql.Identifier(f"{name}_own")
    owner.execute(sql.SQL("CREATE SCHEMA {} AUTHORIZATION {}").format(schema, sql.Identifier(name)))
    owner.execute(sql.SQL("GRANT USAGE ON SCHEMA collabadmin TO {}").format(sql.Identifier(name)))
    try:
        conn.execute(sql.SQL("CREATE TABLE {}.t (id int, version int)").format(schema))
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="function"):
            conn.execute(
                sql.SQL(
                    "CREATE TRIGGER fake AFTER INSERT ON {}.t FOR EACH ROW"
                    " EXECUTE FUNCTION collabadmin.collabadmin_capture('courses', 'id')"
                ).format(schema)
            )
    finally:
        owner.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(schema))


async def test_the_servers_pool_works_as_the_server_role(database_url: str, app_role: str) -> None:
    db = Database(database_url, pool_size=1)
    try:
        async with db.connection() as tx:
            row = await tx.row("SELECT current_user::text AS c, session_user::text AS s")
            assert row == {"c": app_role, "s": "postgres"}
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                await tx.run(LOG_WRITES[0])
        async with db.transaction(SYSTEM, source="workflow") as tx:
            await tx.run("UPDATE courses SET description = 'by the server' WHERE id = 7")
        async with db.read() as tx:
            entry = await tx.row(
                "SELECT source, db_role FROM collabadmin.collabadmin_change ORDER BY id DESC"
                " LIMIT 1"
            )
        assert entry == {"source": "workflow", "db_role": app_role}
    finally:
        await db.dispose()


async def test_a_role_that_must_set_role_first_learns_the_server_role_from_the_catalogue(
    owner: Conn, app_role: str, conninfo: str
) -> None:
    # A login role that may become the server role, but inherits none of its
    # rights: it cannot use collabadmin's schema until it has switched.
    database = owner.execute("SELECT current_database() AS d").fetchone()
    assert database is not None
    name = f"{database['d']}_switcher"
    role = sql.Identifier(name)
    owner.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(role))
    owner.execute(sql.SQL("CREATE ROLE {} LOGIN NOINHERIT").format(role))
    owner.execute(sql.SQL("GRANT {} TO {}").format(sql.Identifier(app_role), role))
    try:
        with _connect(conninfo, user=name) as conn:
            usable = conn.execute(
                "SELECT has_schema_privilege('collabadmin', 'USAGE') AS u"
            ).fetchone()
            assert usable == {"u": False}
        assert await server_role(make_conninfo(conninfo, user=name)) == app_role
        db = Database(conninfo.replace("postgres@", f"{name}@", 1), pool_size=1)
        try:
            async with db.read() as tx:
                assert await tx.value("SELECT current_user::text") == app_role
                seen = await tx.value("SELECT count(*) FROM collabadmin.collabadmin_user")
        finally:
            await db.dispose()
        users = owner.execute("SELECT count(*) AS n FROM collabadmin.collabadmin_user").fetchone()
        assert users == {"n": seen}
    finally:
        owner.execute(sql.SQL("DROP ROLE {}").format(role))


async def test_a_server_that_cannot_become_its_role_refuses_to_start(
    conninfo: str, outsider: tuple[str, Conn]
) -> None:
    name, _ = outsider
    with pytest.raises(DatabaseRoleError, match="cannot act as collabadmin's server role"):
        await server_role(make_conninfo(conninfo, user=name))


def test_serve_refuses_a_database_role_that_cannot_become_the_server_role(
    conninfo: str, outsider: tuple[str, Conn]
) -> None:
    name, _ = outsider
    result = subprocess.run(
        [sys.executable, "-m", "collabadmin.cli", "serve", "--port", "0",
         "--app", "collabadmin.demo.app:create_demo_app"],
        env={"DATABASE_URL": conninfo.replace("postgres@", f"{name}@", 1), "PATH": "/usr/bin:/bin"},
        capture_output=True, text=True, check=False, timeout=60,
    )  # fmt: skip
    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stderr.startswith(f"collabadmin: the database role {name} cannot act as")
    assert "GRANT" in result.stderr


def test_user_create_as_a_role_that_cannot_become_the_server_role_says_so(
    conninfo: str, outsider: tuple[str, Conn]
) -> None:
    name, _ = outsider
    result = subprocess.run(
        [sys.executable, "-m", "collabadmin.cli", "user", "create", "someone", "--role", "viewer"],
        env={"DATABASE_URL": conninfo.replace("postgres@", f"{name}@", 1), "PATH": "/usr/bin:/bin"},
        capture_output=True, text=True, check=False, timeout=60,
    )  # fmt: skip
    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stderr.startswith(f"collabadmin: the database role {name} cannot act as")
    assert "Traceback" not in result.stderr
