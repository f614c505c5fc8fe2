"""Database access: engines, transactions carrying the actor, migrations, embedded server."""

from collabadmin.db.engine import Actor, Database, normalise_url

__all__ = ["Actor", "Database", "normalise_url"]
