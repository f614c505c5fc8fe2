"""Where collabadmin keeps its own objects: the schema ``collabadmin``, apart from the user's.

Every table, sequence and function collabadmin creates lives there (moved by
migration ``0013_own_schema``), under the names it always had
(``collabadmin.collabadmin_change``), so that triggers, docs and auditors'
queries stay recognisable. Runtime code never relies on ``search_path``:
SQLAlchemy tables carry ``schema=OWN_SCHEMA`` and raw SQL names these
objects qualified. The schema is never served nor tracked.

This module imports nothing, so that migrations and every package can use it.
"""

from __future__ import annotations

__all__ = ["OWN_SCHEMA", "OWN_SEARCH_PATH"]

OWN_SCHEMA = "collabadmin"

# The fixed search_path of every collabadmin function: pg_catalog first, so
# that built-ins cannot be shadowed; pg_temp last, so that nobody's temporary
# objects can stand in for ours.
OWN_SEARCH_PATH = f"pg_catalog, {OWN_SCHEMA}, pg_temp"
