"""Database access: the pool, transactions carrying the actor, migrations, embedded server."""

from collabadmin.db.engine import SYSTEM, Actor, Database, Row, Tx, libpq_url, normalise_url

__all__ = ["SYSTEM", "Actor", "Database", "Row", "Tx", "libpq_url", "normalise_url"]
