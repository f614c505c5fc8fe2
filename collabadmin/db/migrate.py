"""Run collabadmin's Alembic migrations programmatically.

The scripts live in the repository's top-level ``alembic/`` folder; a wheel
carries them as ``collabadmin/_alembic`` (see pyproject.toml).
"""

from __future__ import annotations

from pathlib import Path

from alembic.config import Config
from sqlalchemy import create_engine, pool

from alembic import command
from collabadmin.db.engine import normalise_url

__all__ = ["CORE", "EVERYTHING", "script_location", "upgrade"]

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


def upgrade(url: str, target: str = EVERYTHING) -> None:
    """Apply migrations up to ``target`` (``core@head`` or ``heads``).

    A transaction-scoped advisory lock serialises concurrent starts (several
    server instances, parallel test workers) on one database.
    """
    engine = create_engine(normalise_url(url), poolclass=pool.NullPool)
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql("SELECT pg_advisory_xact_lock(74221001)")
            config = _config(url)
            config.attributes["connection"] = conn
            command.upgrade(config, target)
    finally:
        engine.dispose()
