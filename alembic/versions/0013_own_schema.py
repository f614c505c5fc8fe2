"""core: collabadmin's own objects move to a schema of their own, ``collabadmin``

Revision ID: 0013_own_schema
Revises: 0012_capture_keeps_row_counts
Create Date: 2026-11-30

Until now every table, sequence and function of collabadmin lived in the
user's default schema, beside the user's own tables. They move, under the
names they had, to the schema ``collabadmin`` with ``ALTER ... SET SCHEMA``:
rows, indexes, constraints, owned sequences, row types, grants and the
triggers on collabadmin's own tables go with their objects. Triggers on the
user's tables name their functions by OID, so tracked tables keep being
captured without being touched.

Function bodies name collabadmin's objects unqualified; each moved function
gets a fixed ``search_path`` (``pg_catalog, collabadmin, pg_temp``) that
resolves them in the new schema, whoever calls it and whatever their own
``search_path``. The SECURITY DEFINER functions had theirs pinned to the old
schema: that is replaced, pg_temp staying last. The server role gets USAGE
on the schema here, so a server keeps working even when this revision is
applied by plain ``alembic upgrade``; ``db upgrade`` (re)grants the rest.

Alembic's version table (``collabadmin_alembic_version``) is moved by
``alembic/env.py``, before Alembic reads it, not here: it must be where
Alembic looks for it while this revision runs. The downgrade moves
everything back to the schema the migration connection creates in (the
user's default); env.py then moves the version table back and drops the
schema if nothing else is left in it.
"""

from __future__ import annotations

from alembic import op

revision = "0013_own_schema"
down_revision = "0012_capture_keeps_row_counts"
branch_labels = None
depends_on = None

SCHEMA = "collabadmin"
NEW_PATH = "pg_catalog, collabadmin, pg_temp"

# Every table of the core migrations that still exists at 0012
# (collabadmin_login_failure went in 0010). Sequences owned by their
# columns (bigserial) follow their tables.
TABLES = (
    "collabadmin_change",
    "collabadmin_user",
    "collabadmin_session",
    "collabadmin_api_token",
    "collabadmin_login_attempt",
    "collabadmin_seal",
    "collabadmin_seal_state",
    "collabadmin_verify_state",
    "collabadmin_retention_pass",
    "collabadmin_view_pref",
    "collabadmin_shared_view",
    "collabadmin_draft",
    "collabadmin_draft_event",
    "collabadmin_workflow_run",
)

# Every function, by signature, and whether it is SECURITY DEFINER with a
# pinned search_path (0009, 0012), which the downgrade puts back.
# collabadmin_app_role() is created by collabadmin.db.roles.provision.
FUNCTIONS = (
    ("collabadmin_app_role()", False),
    ("collabadmin_append_only()", True),
    ("collabadmin_bump_version()", False),
    ("collabadmin_capture()", True),
    ("collabadmin_chain_hash(text, text)", False),
    ("collabadmin_change_content(collabadmin_change)", False),
    ("collabadmin_credentials_changed()", False),
    ("collabadmin_key_part(text)", False),
    ("collabadmin_password_changed()", False),
    ("collabadmin_prune(bigint)", True),
    ("collabadmin_seal()", True),
    ("collabadmin_verify(boolean)", True),
)


def _default_schema() -> str:
    """The schema the old migrations created in: the connection's first existing one."""
    schema = op.get_bind().exec_driver_sql("SELECT quote_ident(current_schema())").scalar()
    if schema is None or schema == SCHEMA:
        raise RuntimeError("the migration connection has no default schema of the user's")
    return str(schema)


def upgrade() -> None:
    _default_schema()
    op.execute(
        "DO $$ BEGIN"
        f" IF to_regnamespace('{SCHEMA}') IS NULL THEN CREATE SCHEMA {SCHEMA}; END IF;"
        " END $$"
    )
    # Functions first: their signatures name collabadmin_change, resolved
    # through the search_path (the user's default schema first, then ours).
    for signature, _ in FUNCTIONS:
        op.execute(f"ALTER FUNCTION {signature} SET SCHEMA {SCHEMA}")
        op.execute(f"ALTER FUNCTION {SCHEMA}.{signature} SET search_path = {NEW_PATH}")
    for table in TABLES:
        op.execute(f"ALTER TABLE {table} SET SCHEMA {SCHEMA}")
    op.execute(
        "DO $$ BEGIN"
        f" EXECUTE format('GRANT USAGE ON SCHEMA {SCHEMA} TO %I',"
        f" {SCHEMA}.collabadmin_app_role());"
        " END $$"
    )


def downgrade() -> None:
    target = _default_schema()
    old_path = f"pg_catalog, {target}, pg_temp"
    for table in TABLES:
        op.execute(f"ALTER TABLE {SCHEMA}.{table} SET SCHEMA {target}")
    for signature, definer in FUNCTIONS:
        # The signature's collabadmin_change now resolves in the user's schema.
        op.execute(f"ALTER FUNCTION {SCHEMA}.{signature} SET SCHEMA {target}")
        if definer:
            op.execute(f"ALTER FUNCTION {target}.{signature} SET search_path = {old_path}")
        else:
            op.execute(f"ALTER FUNCTION {target}.{signature} RESET search_path")
    op.execute(
        "DO $$ BEGIN"
        f" EXECUTE format('REVOKE USAGE ON SCHEMA {SCHEMA} FROM %I',"
        f" {target}.collabadmin_app_role());"
        " END $$"
    )
