"""The two database roles: the owner, and the restricted role the server works as.

The *owner* is whoever runs ``collabadmin db upgrade``: it owns the schema,
the change log and the functions that write it. The *server role* owns
nothing. It may read and write the domain tables and collabadmin's own
working tables, but only read the change log and its seals; entries reach
the log only through the capture trigger, which runs as the owner
(``SECURITY DEFINER``) and believes the ``collabadmin.actor_*`` settings only
when the writing role is the server role.

``provision`` (run by every ``db upgrade``, and by the migration that
introduced the split) creates the server role if it is missing, records its
name in the database (``collabadmin_app_role()``) and (re)grants what it
needs. Roles are cluster-wide while grants are per database, so the default
name is derived from the database's name (``collabadmin_app_<database>``):
many databases on one cluster, e.g. concurrent test runs, never share one.

:func:`server_role` is what a server does when it opens its pool: it works
as the server role, switching to it with ``SET ROLE`` when ``DATABASE_URL``
names the owner or a superuser.
"""

from __future__ import annotations

import hashlib
import logging
from typing import Protocol

import psycopg
from psycopg import sql

__all__ = [
    "LOG_TABLES",
    "DatabaseRoleError",
    "app_role_name",
    "provision",
    "server_role",
    "set_role_statement",
]

log = logging.getLogger("collabadmin.db.roles")

PREFIX = "collabadmin_app_"
MAX_NAME_BYTES = 63  # NAMEDATALEN - 1

# Readable by the server role, never writable by it.
LOG_TABLES = (
    "collabadmin_change",
    "collabadmin_seal",
    "collabadmin_seal_state",
    "collabadmin_verify_state",
)
# Not even readable: the owner's own bookkeeping.
PRIVATE_TABLES = ("collabadmin_retention_pass", "collabadmin_alembic_version")
# The functions the server calls; every other collabadmin function that
# writes the log (prune, the trigger functions) is the owner's alone.
SERVER_FUNCTIONS = ("collabadmin_seal()", "collabadmin_verify(boolean)")


class DatabaseRoleError(RuntimeError):
    """The roles are not set up so that the server can work as its restricted role."""


class _Executes(Protocol):
    def exec_driver_sql(self, statement: str) -> object: ...


def app_role_name(database: str) -> str:
    """``collabadmin_app_<database>``, shortened with a digest to fit 63 bytes."""
    name = PREFIX + database
    if len(name.encode()) <= MAX_NAME_BYTES:
        return name
    digest = hashlib.sha256(database.encode()).hexdigest()[:10]
    room = MAX_NAME_BYTES - len(PREFIX) - len(digest) - 1
    head = database.encode()[:room].decode(errors="ignore")
    return f"{PREFIX}{head}_{digest}"


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _run(conn: _Executes, statement: str) -> object:
    # The driver reads % as a placeholder even without parameters.
    return conn.exec_driver_sql(statement.replace("%", "%%"))


def _scalar(conn: _Executes, statement: str) -> object:
    return _run(conn, statement).scalar()  # type: ignore[attr-defined]


def provision(conn: _Executes, requested: str | None = None) -> str:
    """Create (if missing) and grant the server role; returns its name.

    ``conn`` is a SQLAlchemy connection of the owner, inside the migration
    transaction. The name is, in order: ``requested`` (the operator's
    ``COLLABADMIN_APP_ROLE``), the one this database already records, or
    the default derived from the database's name. Idempotent.
    """
    recorded = None
    if _scalar(conn, "SELECT to_regprocedure('collabadmin_app_role()') IS NOT NULL"):
        recorded = _scalar(conn, "SELECT collabadmin_app_role()::text")
    database = str(_scalar(conn, "SELECT current_database()"))
    role = requested or (str(recorded) if recorded else None) or app_role_name(database)
    schema = _ident(str(_scalar(conn, "SELECT current_schema()")))
    r, lit = _ident(role), _literal(role)
    refused = _literal(
        f"cannot create the server role {role}: the owner needs CREATEROLE, or create it"
        " yourself (NOLOGIN, no other rights) and name it in COLLABADMIN_APP_ROLE"
    )
    _run(
        conn,
        "DO $$ BEGIN"
        f" IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = {lit}) THEN"
        f"  CREATE ROLE {r} NOLOGIN;"
        " END IF;"
        " EXCEPTION"
        "  WHEN duplicate_object OR unique_violation THEN NULL;"  # created concurrently
        f"  WHEN insufficient_privilege THEN RAISE EXCEPTION USING MESSAGE = {refused},"
        "    ERRCODE = 'insufficient_privilege';"
        " END $$",
    )
    unsafe = _scalar(
        conn,
        "SELECT r.rolsuper OR r.rolbypassrls OR r.rolname = current_user"
        " OR pg_has_role(r.oid, current_user, 'MEMBER')"
        f" FROM pg_roles r WHERE r.rolname = {lit}",
    )
    if unsafe:
        raise DatabaseRoleError(
            f"the server role {role} must not be a superuser, bypass row security,"
            " be the owner or be a member of the owner"
        )
    # The owner (unless a superuser, who may be anyone) becomes a member of
    # the server role so that a server connected as the owner can SET ROLE
    # to it. The reverse membership is what the check above refuses.
    _run(
        conn,
        "DO $$ BEGIN"
        f" IF NOT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user)"
        f"    AND NOT pg_has_role(current_user, {lit}, 'MEMBER') THEN"
        f"  EXECUTE format('GRANT %I TO %I', {lit}, current_user);"
        " END IF;"
        " EXCEPTION WHEN insufficient_privilege THEN"
        f"  RAISE WARNING 'the owner cannot grant itself %: connect the server as a member of it',"
        f"   {lit};"
        " END $$",
    )
    for statement in (
        f"CREATE OR REPLACE FUNCTION collabadmin_app_role() RETURNS name"
        f" LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT {lit}::name $$",
        f"GRANT USAGE ON SCHEMA {schema} TO {r}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {schema} TO {r}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {schema} TO {r}",
        # Tables the owner creates later (an application's own migrations).
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA {schema}"
        f" GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {r}",
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} GRANT USAGE, SELECT ON SEQUENCES TO {r}",
        f"REVOKE ALL ON {', '.join(LOG_TABLES)} FROM {r}",
        f"GRANT SELECT ON {', '.join(LOG_TABLES)} TO {r}",
        f"REVOKE ALL ON {', '.join(PRIVATE_TABLES)} FROM {r}",
        f"REVOKE ALL ON SEQUENCE collabadmin_change_id_seq FROM {r}",
        *(f"GRANT EXECUTE ON FUNCTION {fn} TO {r}" for fn in SERVER_FUNCTIONS),
    ):
        _run(conn, statement)
    return role


async def server_role(conninfo: str) -> str | None:
    """The role to ``SET ROLE`` to on each pooled connection, or None if already it.

    Raises :class:`DatabaseRoleError` when the connecting role can neither
    be the server role nor switch to it: the server would otherwise write
    with rights it must not have, and its users' changes would be recorded
    as anonymous database changes.
    """
    async with await psycopg.AsyncConnection.connect(conninfo, autocommit=True) as conn:
        found = await (
            await conn.execute("SELECT to_regprocedure('collabadmin_app_role()') IS NOT NULL")
        ).fetchone()
        if not found or not found[0]:
            raise DatabaseRoleError(
                "the database has no collabadmin server role: run `collabadmin db upgrade`"
            )
        row = await (
            await conn.execute(
                "SELECT collabadmin_app_role()::text, session_user::text,"
                " (SELECT pg_has_role(session_user, r.oid, 'MEMBER')"
                "    FROM pg_roles r WHERE r.rolname = collabadmin_app_role())"
            )
        ).fetchone()
    assert row is not None
    role, session, member = row
    if member is None:
        raise DatabaseRoleError(
            f"the server role {role} does not exist on this cluster:"
            " run `collabadmin db upgrade` to create it"
        )
    if session == role:
        return None
    if member:
        return str(role)
    raise DatabaseRoleError(
        f"the database role {session} cannot act as collabadmin's server role {role}:"
        f" connect as {role}, or GRANT {role} TO {session}"
    )


def set_role_statement(role: str) -> sql.Composed:
    """``SET ROLE`` for ``role``, quoted."""
    return sql.SQL("SET ROLE {}").format(sql.Identifier(role))
