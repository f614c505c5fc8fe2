"""Alembic environment for collabadmin's own tables and the demo domain.

Two branches: ``core`` (users, sessions, tokens, the change log and the
capture functions) and ``demo`` (the course catalogue, which depends on
``core``). ``collabadmin db upgrade`` applies ``core@head``; the demo applies
``heads``. The version table is ``collabadmin_alembic_version`` so that an
application's own Alembic history can live in the same database.
"""

from __future__ import annotations

from sqlalchemy import create_engine, pool
from sqlalchemy.engine import Connection

from alembic import context

config = context.config
VERSION_TABLE = "collabadmin_alembic_version"


def _run(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=None, version_table=VERSION_TABLE)
    with context.begin_transaction():
        context.run_migrations()


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
