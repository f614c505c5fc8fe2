"""Run collabadmin's Alembic migrations programmatically.

The scripts live in the repository's top-level ``alembic/`` folder; a wheel
carries them as ``collabadmin/_alembic`` (see pyproject.toml).
"""

from __future__ import annotations

import os
from pathlib import Path

from alembic.config import Config
from sqlalchemy import create_engine, pool

from alembic import command
from collabadmin.db.engine import normalise_url
from collabadmin.db.roles import provision
from collabadmin.own import OWN_SCHEMA

__all__ = ["CORE", "EVERYTHING", "downgrade", "script_location", "upgrade"]

CORE = "core@head"
EVERYTHING = "heads"


def script_location() -> Path:
    package = Path(__file__).resolve().parent.parent
    for candidate in (package / "_alembic", package.parent / "alembic"):
        if (candidate / "env.py").exists():
            return candidate
    raise RuntimeError("collabadmin's migrations are missing from this installation")


def _config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(script_location()))
    config.set_main_option("path_separator", "os")
    config.set_main_option("sqlalchemy.url", normalise_url(url).replace("%", "%%"))
    return config


def upgrade(url: str, target: str = EVERYTHING, *, app_role: str | None = None) -> None:
    """Apply migrations up to ``target`` (``core@head`` or ``heads``), then provision roles.

    A transaction-scoped advisory lock serialises concurrent starts (several
    server instances, parallel test workers) on one database. The server
    role (``app_role``, else ``COLLABADMIN_APP_ROLE``, else the one recorded
    or derived, see :mod:`collabadmin.db.roles`) is created if missing and
    granted every table that exists now, on every run: a database restored
    on another cluster, or tables an application created since, are covered.
    """
    engine = create_engine(normalise_url(url), poolclass=pool.NullPool)
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql("SELECT pg_advisory_xact_lock(74221001)")
            config = _config(url)
            config.attributes["connection"] = conn
            config.attributes["app_role"] = app_role
            command.upgrade(config, target)
            # A target before 0013_own_schema (tests of migrations) leaves the
            # objects in the user's schema: provision them where they are.
            moved = conn.exec_driver_sql(
                f"SELECT to_regnamespace('{OWN_SCHEMA}') IS NOT NULL"
            ).scalar()
            requested = app_role or os.environ.get("COLLABADMIN_APP_ROLE") or None
            provision(conn, requested, own_schema=OWN_SCHEMA if moved else None)
    finally:
        engine.dispose()


def downgrade(url: str, target: str) -> None:
    """Undo migrations down to ``target`` (a revision id, or ``base``).

    Only for migrations that can be undone: the role split
    (``0009_audit_roles``) and the capture bodies of
    ``0012_capture_keeps_row_counts`` cannot; ``0013_own_schema`` can.
    """
    engine = create_engine(normalise_url(url), poolclass=pool.NullPool)
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql("SELECT pg_advisory_xact_lock(74221001)")
            config = _config(url)
            config.attributes["connection"] = conn
            command.downgrade(config, target)
    finally:
        engine.dispose()
