"""collabadmin: a collaborative admin for PostgreSQL.

Versioned partial updates with optimistic locking, soft delete, a field-level
change log captured by database triggers, and live changes over websockets.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
