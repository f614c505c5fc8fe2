"""The two database roles: the owner, and the restricted role the server works as.

The *owner* is whoever runs ``collabadmin db upgrade``: it owns the schema
``collabadmin``, the change log and the functions that write it. The
*server role* owns nothing. It may read and write the domain tables and
collabadmin's own working tables, but only read the change log and its
seals, and never read the owner's bookkeeping; entries reach the log only
through the capture trigger, which runs as the owner (``SECURITY DEFINER``)
and believes the ``collabadmin.actor_*`` settings only when the writing role
is the server role.

``provision`` (run by every ``db upgrade``, and by the migration that
introduced the split) creates the server role if it is missing, records its
name in the database (``collabadmin.collabadmin_app_role()``) and (re)grants
what it needs. Roles are cluster-wide while grants are per database, so the default
name is derived from the database's name (``collabadmin_app_<database>``):
many databases on one cluster, e.g. concurrent test runs, never share one.

:func:`server_role` is what a server does when it opens its pool: it works
as the server role, switching to it with ``SET ROLE`` when ``DATABASE_URL``
names the owner or a superuser.
"""

from __future__ import annotations

import hashlib
import logging
import re
from typing import Protocol

import psycopg
from psycopg import sql

from collabadmin.db.quoting import quote_ident, quote_literal
from collabadmin.own import OWN_SCHEMA, OWN_SEARCH_PATH

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

# Names within collabadmin's schema (see collabadmin.own).
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


def _run(conn: _Executes, statement: str) -> object:
    # The driver reads % as a placeholder even without parameters.
    return conn.exec_driver_sql(statement.replace("%", "%%"))


def _scalar(conn: _Executes, statement: str) -> object:
    return _run(conn, statement).scalar()  # type: ignore[attr-defined]


def provision(
    conn: _Executes, requested: str | None = None, *, own_schema: str | None = OWN_SCHEMA
) -> str:
    """Create (if missing) and grant the server role; returns its name.

    ``conn`` is a SQLAlchemy connection of the owner, inside the migration
    transaction. The name is, in order: ``requested`` (the operator's
    ``COLLABADMIN_APP_ROLE``), the one this database already records, or
    the default derived from the database's name. Idempotent.

    The server role gets the user's default schema (its tables, sequences,
    and those created later) and collabadmin's schema ``own_schema`` (every
    table and sequence but the log, read-only, and the private ones). The
    migration that introduced the roles (``0009_audit_roles``) passes
    ``own_schema=None``: its objects were still in the user's default
    schema, named unqualified, and that is what it does on a fresh database.
    """
    own = f"{own_schema}." if own_schema else ""
    function = f"{own}collabadmin_app_role"
    recorded = None
    if _scalar(conn, f"SELECT to_regprocedure('{function}()') IS NOT NULL"):
        recorded = _scalar(conn, f"SELECT {function}()::text")
    database = str(_scalar(conn, "SELECT current_database()"))
    role = requested or (str(recorded) if recorded else None) or app_role_name(database)
    schema = quote_ident(str(_scalar(conn, "SELECT current_schema()")))
    r, lit = quote_ident(role), quote_literal(role)
    refused = quote_literal(
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
    # Like every function of collabadmin's, a fixed search_path (0013):
    # CREATE OR REPLACE would otherwise drop it.
    fixed = f" SET search_path = {OWN_SEARCH_PATH}" if own_schema else ""
    statements = [
        f"CREATE OR REPLACE FUNCTION {function}() RETURNS name"
        f" LANGUAGE sql IMMUTABLE PARALLEL SAFE{fixed} AS $$ SELECT {lit}::name $$",
        f"GRANT USAGE ON SCHEMA {schema} TO {r}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {schema} TO {r}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {schema} TO {r}",
        # Tables the owner creates later (an application's own migrations).
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA {schema}"
        f" GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {r}",
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} GRANT USAGE, SELECT ON SEQUENCES TO {r}",
    ]
    if own_schema:
        # collabadmin's working tables; no default privileges here: a table a
        # later release adds is granted by the next db upgrade, after the
        # revokes below have had their say.
        statements += [
            f"GRANT USAGE ON SCHEMA {own_schema} TO {r}",
            f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {own_schema} TO {r}",
            f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {own_schema} TO {r}",
        ]
    log_tables = ", ".join(own + t for t in LOG_TABLES)
    private = ", ".join(own + t for t in PRIVATE_TABLES)
    statements += [
        f"REVOKE ALL ON {log_tables} FROM {r}",
        f"GRANT SELECT ON {log_tables} TO {r}",
        f"REVOKE ALL ON {private} FROM {r}",
        f"REVOKE ALL ON SEQUENCE {own}collabadmin_change_id_seq FROM {r}",
        *(f"GRANT EXECUTE ON FUNCTION {own}{fn} TO {r}" for fn in SERVER_FUNCTIONS),
    ]
    for statement in statements:
        _run(conn, statement)
    return role


# collabadmin's schema, and the function recording the server role's name.
# Read from the catalogue, which every role may read: a role that cannot use
# the schema (one that must SET ROLE first, or one that may not act as the
# server at all) still learns which role it would have to be.
_RECORDED = f"""
SELECT has_schema_privilege(n.oid, 'USAGE') AS usable, p.prosrc AS source
  FROM pg_namespace n
  LEFT JOIN pg_proc p ON p.pronamespace = n.oid AND p.proname = 'collabadmin_app_role'
 WHERE n.nspname = '{OWN_SCHEMA}'
"""
# The body provision() writes: SELECT '<name, quotes doubled>'::name
_BODY = re.compile(r"SELECT\s+'((?:[^']|'')*)'::name")


def _recorded_name(source: str) -> str | None:
    found = _BODY.search(source)
    return found.group(1).replace("''", "'") if found else None


async def server_role(conninfo: str) -> str | None:
    """The role to ``SET ROLE`` to on each pooled connection, or None if already it.

    Raises :class:`DatabaseRoleError` when the connecting role can neither
    be the server role nor switch to it: the server would otherwise write
    with rights it must not have, and its users' changes would be recorded
    as anonymous database changes.

    Only the server role (and the owner) may use the schema ``collabadmin``;
    a role that may become the server role only by ``SET ROLE`` cannot call
    ``collabadmin.collabadmin_app_role()`` before it has, so the name is read
    from the function's body in the catalogue then.
    """
    async with await psycopg.AsyncConnection.connect(conninfo, autocommit=True) as conn:
        recorded = await (await conn.execute(_RECORDED)).fetchone()
        if recorded is None or recorded[1] is None:
            raise DatabaseRoleError(
                "the database has no collabadmin server role: run `collabadmin db upgrade`"
            )
        usable, source = recorded
        if usable:
            named = await (
                await conn.execute(f"SELECT {OWN_SCHEMA}.collabadmin_app_role()::text")
            ).fetchone()
            role = str(named[0]) if named else None
        else:
            role = _recorded_name(str(source))
        if role is None:
            raise DatabaseRoleError(
                f"{OWN_SCHEMA}.collabadmin_app_role() names no role: run `collabadmin db upgrade`"
            )
        row = await (
            await conn.execute(
                "SELECT session_user::text,"
                " (SELECT pg_has_role(session_user, r.oid, 'MEMBER')"
                "    FROM pg_roles r WHERE r.rolname = %s)",
                (role,),
            )
        ).fetchone()
    assert row is not None
    session, member = row
    if member is None:
        raise DatabaseRoleError(
            f"the server role {role} does not exist on this cluster:"
            " run `collabadmin db upgrade` to create it"
        )
    if session == role:
        return None
    if member:
        return role
    raise DatabaseRoleError(
        f"the database role {session} cannot act as collabadmin's server role {role}:"
        f" connect as {role}, or GRANT {role} TO {session}"
    )


def set_role_statement(role: str) -> sql.Composed:
    """``SET ROLE`` for ``role``, quoted."""
    return sql.SQL("SET ROLE {}").format(sql.Identifier(role))
