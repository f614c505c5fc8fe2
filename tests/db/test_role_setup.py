"""Setting the roles up without a superuser, as on a managed database (RDS and the like).

Each test gets a database of its own, owned by a non-superuser *owner* role,
and runs ``collabadmin db upgrade`` as that owner. Roles are cluster-wide,
so every name here carries a random token and everything is dropped again.
"""

from __future__ import annotations

import asyncio
import secrets
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from sqlalchemy.engine import make_url

from collabadmin.db.engine import SYSTEM, Database, libpq_url, normalise_url
from collabadmin.db.roles import app_role_name, server_role


@dataclass
class Cluster:
    admin: str  # a superuser's conninfo
    database: str
    owner: str
    roles: list[str]

    def owner_conninfo(self) -> str:
        """A postgresql:// URL, as DATABASE_URL takes it."""
        url = make_url(normalise_url(self.admin)).set(username=self.owner, database=self.database)
        return libpq_url(url.render_as_string(hide_password=False))

    def admin_sql(self, statement: sql.Composable | str, database: str | None = None) -> None:
        with psycopg.connect(
            make_conninfo(self.admin, dbname=database or conninfo_to_dict(self.admin)["dbname"]),
            autocommit=True,
        ) as conn:
            conn.execute(statement)


@pytest.fixture
def cluster(conninfo: str) -> Iterator[Cluster]:
    token = secrets.token_hex(4)
    here = Cluster(conninfo, f"collabadmin_roles_{token}", f"collabadmin_owner_{token}", [])
    here.roles.append(here.owner)
    here.admin_sql(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(here.owner)))
    here.admin_sql(
        sql.SQL("CREATE DATABASE {} OWNER {}").format(
            sql.Identifier(here.database), sql.Identifier(here.owner)
        )
    )
    try:
        yield here
    finally:
        here.admin_sql(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(here.database))
        )
        for role in [app_role_name(here.database), *reversed(here.roles)]:
            here.admin_sql(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)))


def _upgrade(conninfo: str, app_role: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {"DATABASE_URL": conninfo, "PATH": "/usr/bin:/bin"}
    if app_role:
        env["COLLABADMIN_APP_ROLE"] = app_role
    return subprocess.run(
        [sys.executable, "-m", "collabadmin.cli", "db", "upgrade"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


async def _server_writes(conninfo: str) -> tuple[str, str]:
    """The role a server connected with ``conninfo`` works as, and whether it may write the log."""
    db = Database(conninfo, pool_size=1)
    try:
        async with db.transaction(SYSTEM, source="workflow") as tx:
            await tx.run(
                "INSERT INTO collabadmin.collabadmin_user (username, display_name) VALUES"
                " ('u', 'U')"
            )
            role = await tx.value("SELECT current_user::text")
            can_write_log = await tx.value(
                "SELECT has_table_privilege('collabadmin.collabadmin_change', 'INSERT')"
            )
    finally:
        await db.dispose()
    return str(role), str(can_write_log)


def test_an_owner_with_createrole_gets_a_server_role_it_can_switch_to(cluster: Cluster) -> None:
    cluster.admin_sql(sql.SQL("ALTER ROLE {} CREATEROLE").format(sql.Identifier(cluster.owner)))
    result = _upgrade(cluster.owner_conninfo())
    assert result.returncode == 0, result.stderr
    expected = app_role_name(cluster.database)
    assert asyncio.run(server_role(cluster.owner_conninfo())) == expected
    role, can_write_log = asyncio.run(_server_writes(cluster.owner_conninfo()))
    assert (role, can_write_log) == (expected, "False")
    # Running it again changes nothing and fails nothing.
    assert _upgrade(cluster.owner_conninfo()).returncode == 0


def test_an_owner_without_createrole_is_told_what_to_do(cluster: Cluster) -> None:
    result = _upgrade(cluster.owner_conninfo())
    assert result.returncode == 1
    assert "the owner needs CREATEROLE" in result.stderr
    assert "COLLABADMIN_APP_ROLE" in result.stderr


def test_an_operator_created_role_named_in_the_setting_is_used(cluster: Cluster) -> None:
    chosen = f"{cluster.owner}_app"
    cluster.roles.append(chosen)
    cluster.admin_sql(sql.SQL("CREATE ROLE {} NOLOGIN").format(sql.Identifier(chosen)))
    cluster.admin_sql(
        sql.SQL("GRANT {} TO {}").format(sql.Identifier(chosen), sql.Identifier(cluster.owner))
    )
    result = _upgrade(cluster.owner_conninfo(), app_role=chosen)
    assert result.returncode == 0, result.stderr
    # Recorded in the database: later upgrades and servers need no setting.
    assert _upgrade(cluster.owner_conninfo()).returncode == 0
    with psycopg.connect(cluster.owner_conninfo()) as conn:
        recorded = conn.execute("SELECT collabadmin.collabadmin_app_role()::text").fetchone()
    assert recorded == (chosen,)
    role, can_write_log = asyncio.run(_server_writes(cluster.owner_conninfo()))
    assert (role, can_write_log) == (chosen, "False")


def test_a_superuser_is_refused_as_the_server_role(cluster: Cluster) -> None:
    mighty = f"{cluster.owner}_mighty"
    cluster.roles.append(mighty)
    cluster.admin_sql(sql.SQL("CREATE ROLE {} SUPERUSER NOLOGIN").format(sql.Identifier(mighty)))
    result = _upgrade(cluster.owner_conninfo(), app_role=mighty)
    assert result.returncode == 1
    assert "must not be a superuser" in result.stderr
