"""core: capture writes composite keys as API.md's key text

Revision ID: 0012_composite_keys
Revises: 0011_session_idle
Create Date: 2026-11-30

The capture trigger's second argument becomes a comma-separated list of key
columns (``'id'`` as before, or ``'film_id,actor_id'``), and the entry's
``pk`` is the key's text as URLs carry it: each value's JSON text with
``%`` escaped as ``%25`` and ``,`` as ``%2C``, joined by ``,``
(``collabadmin.resources.keys.encode_key``). For a single integer or UUID key
nothing changes; a text key holding ``%`` or ``,`` is now written escaped.

The only change to ``collabadmin_capture`` is where ``row_pk`` comes from:
``collabadmin_row_key(row, TG_ARGV[1])`` instead of ``row ->> TG_ARGV[1]``.
The function is otherwise the one of ``0009_audit_roles`` (SECURITY DEFINER,
fixed search_path, only the server role's settings trusted, the NOTIFY), and
is rebuilt from that migration's text so that the two cannot drift. A later
change to the capture function keeps the ``collabadmin_row_key`` call.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

from alembic import op

revision = "0012_composite_keys"
down_revision = "0011_session_idle"
branch_labels = None
depends_on = None

ROW_KEY = r"""
CREATE OR REPLACE FUNCTION collabadmin_row_key(row_data jsonb, key_columns text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT string_agg(replace(replace(row_data ->> k.name, '%', '%25'), ',', '%2C'), ','
                      ORDER BY k.ord)
      FROM unnest(string_to_array(key_columns, ',')) WITH ORDINALITY AS k(name, ord)
$$;
"""

# The three places the 0009 function reads the key, and what they become.
KEY_READS = {
    "row_pk := new_row ->> pk_column;": "row_pk := collabadmin_row_key(new_row, pk_column);",
    "row_pk := old_row ->> pk_column;": "row_pk := collabadmin_row_key(old_row, pk_column);",
}


def _audit_roles() -> ModuleType:
    path = Path(__file__).with_name("0009_audit_roles.py")
    spec = importlib.util.spec_from_file_location("collabadmin_migration_0009", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def composite_capture() -> str:
    """0009's capture function with the key read through ``collabadmin_row_key``."""
    script = str(_audit_roles().CAPTURE)
    for before, after in KEY_READS.items():
        if before not in script:
            raise RuntimeError(f"0009's capture function no longer reads the key as {before!r}")
        script = script.replace(before, after)
    return script


def upgrade() -> None:
    audit_roles = _audit_roles()
    path = audit_roles._search_path()
    op.execute(ROW_KEY)
    op.execute(composite_capture().replace("{path}", path))


def downgrade() -> None:
    audit_roles = _audit_roles()
    op.execute(str(audit_roles.CAPTURE).replace("{path}", audit_roles._search_path()))
    op.execute("DROP FUNCTION IF EXISTS collabadmin_row_key(jsonb, text)")
