"""Alembic environment for collabadmin's own objects and the demo domain.

Two branches: ``core`` (users, sessions, tokens, the change log and the
capture functions) and ``demo`` (the course catalogue, which depends on
``core``). ``collabadmin db upgrade`` applies ``core@head``; the demo applies
``heads``. The version table is ``collabadmin_alembic_version`` so that an
application's own Alembic history can live in the same database.

Since ``0013_own_schema`` collabadmin's objects live in the schema
``collabadmin``, and so does the version table, which that revision cannot
move itself (Alembic reads and writes it around every revision). This
environment keeps it beside the change log, in one transaction with the
migrations:

* before Alembic reads it: a version table still in the user's default
  schema (a deployment made before 0013) moves to ``collabadmin``, creating
  the schema if needed (a fresh database too);
* after the migrations: if the change log is not in ``collabadmin`` (0013
  not applied, e.g. after a downgrade below it), the version table moves
  back to the user's default schema, where older releases look for it, and
  the schema is dropped if nothing else is in it.

The migration connection's ``search_path`` becomes the user's followed by
``collabadmin`` (for this transaction only), so that old migrations keep
doing exactly what they did: their unqualified ``CREATE TABLE`` still lands
in the user's default schema, and their unqualified names of collabadmin's
functions (``collabadmin_capture()`` in a demo trigger) still resolve, before
the move and after it. Branches are ordered by dependency only, so on a
fresh database the demo may run before 0013 or after it.
"""

from __future__ import annotations

from sqlalchemy import create_engine, pool
from sqlalchemy.engine import Connection

from alembic import context

config = context.config
VERSION_TABLE = "collabadmin_alembic_version"
OWN_SCHEMA = "collabadmin"  # collabadmin.own.OWN_SCHEMA


def _scalar(connection: Connection, statement: str) -> object:
    return connection.exec_driver_sql(statement).scalar()


def _default_schema(connection: Connection) -> str:
    """The schema unqualified CREATEs land in, quoted; refuses a connection without one."""
    schema = _scalar(connection, "SELECT quote_ident(current_schema())")
    if schema is None or schema == OWN_SCHEMA:
        raise RuntimeError(
            "the database connection has no schema of its own to create tables in"
            f" (search_path is {_scalar(connection, 'SHOW search_path')!s}):"
            f" set a search_path whose first existing schema is not {OWN_SCHEMA}"
        )
    return str(schema).replace("%", "%%")  # the driver reads % even without parameters


def _before(connection: Connection) -> None:
    """Move a version table left in the user's default schema; set the search_path."""
    _default_schema(connection)
    if _scalar(connection, f"SELECT to_regnamespace('{OWN_SCHEMA}') IS NULL"):
        connection.exec_driver_sql(f"CREATE SCHEMA {OWN_SCHEMA}")
    # Resolved by the connection's own search_path, as releases before 0013 did.
    old = _scalar(
        connection,
        f"SELECT c.oid::regclass::text FROM pg_class c"
        f" WHERE c.oid = to_regclass('{VERSION_TABLE}')"
        f" AND c.relnamespace <> '{OWN_SCHEMA}'::regnamespace",
    )
    if old is not None:
        if _scalar(connection, f"SELECT to_regclass('{OWN_SCHEMA}.{VERSION_TABLE}') IS NOT NULL"):
            raise RuntimeError(
                f"two collabadmin version tables: {old} and {OWN_SCHEMA}.{VERSION_TABLE};"
                " keep the one that matches the database and drop the other"
            )
        moved = str(old).replace("%", "%%")
        connection.exec_driver_sql(f"ALTER TABLE {moved} SET SCHEMA {OWN_SCHEMA}")
    connection.exec_driver_sql(
        "SELECT set_config('search_path',"
        f" current_setting('search_path') || ', {OWN_SCHEMA}', true)"
    )


def _after(connection: Connection) -> None:
    """Below 0013, put the version table back where older releases read it."""
    if _scalar(connection, f"SELECT to_regclass('{OWN_SCHEMA}.collabadmin_change') IS NOT NULL"):
        return
    target = _default_schema(connection)
    if _scalar(connection, f"SELECT to_regclass('{OWN_SCHEMA}.{VERSION_TABLE}') IS NOT NULL"):
        connection.exec_driver_sql(f"ALTER TABLE {OWN_SCHEMA}.{VERSION_TABLE} SET SCHEMA {target}")
    # Everything in a schema depends on it (pg_depend), as DROP SCHEMA RESTRICT checks.
    empty = _scalar(
        connection,
        "SELECT NOT EXISTS (SELECT 1 FROM pg_depend"
        " WHERE refclassid = 'pg_namespace'::regclass"
        f" AND refobjid = '{OWN_SCHEMA}'::regnamespace)",
    )
    if empty:
        connection.exec_driver_sql(f"DROP SCHEMA {OWN_SCHEMA}")


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=None,
        version_table=VERSION_TABLE,
        version_table_schema=OWN_SCHEMA,
    )
    with context.begin_transaction():
        _before(connection)
        context.run_migrations()
        _after(connection)


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("no database URL given to Alembic")
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.connect() as conn:
        _run(conn)


if context.is_offline_mode():
    raise RuntimeError("collabadmin migrations run online only")
run_migrations_online()
