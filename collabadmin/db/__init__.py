"""Database access: the pool, transactions carrying the actor, migrations, embedded server."""

from collabadmin.db.engine import SYSTEM, Actor, Database, Row, Tx, libpq_url, normalise_url
from collabadmin.own import OWN_SCHEMA

__all__ = ["OWN_SCHEMA", "SYSTEM", "Actor", "Database", "Row", "Tx", "libpq_url", "normalise_url"]
