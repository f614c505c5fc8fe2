"""core: tracking that existing clients do not notice; composite row keys

Revision ID: 0012_capture_keeps_row_counts
Revises: 0011_session_idle
Create Date: 2026-11-30

Adopting a database means its existing clients (psql sessions, ORMs, other
services) keep seeing what they saw before tracking:

* ``collabadmin_bump_version`` no longer cancels an UPDATE that changes
  nothing (returning NULL made PostgreSQL report 0 rows, which ORMs read as
  "the row is gone": Django's ``save()`` then INSERTs, Hibernate raises a
  stale-state error). The row is kept as it is, with its version; the
  capture trigger sees no difference and writes no entry, so "a write that
  changes nothing writes nothing" still holds.
* A client that writes ``version`` to anything but what the trigger would
  set (the same version for a no-op, one more otherwise; 1 on insert) is
  refused: SQLSTATE 23514 (check_violation), constraint
  ``collabadmin_version``, column ``version``. Writing the current value (an
  ORM saving every column it read) is accepted.
* The version trigger is renamed ``zz_collabadmin_version`` so that it runs
  after the application's own BEFORE triggers (PostgreSQL fires them in
  name order): a trigger that stamps ``last_update = now()`` is then seen as
  the change it is, and gets its version bump.
* ``collabadmin_capture`` takes the row key as one or more column names
  after the resource name, and writes the key as the API's URL form: the
  column's text for one column; for several, each value percent-encoded
  (as ``urllib.parse.quote(value, safe="")``) and joined by ``,``.

Everything else about capture is as 0009_audit_roles left it: it runs as the
owner, and trusts the ``collabadmin.actor_*`` settings only from the server
role.
"""

from __future__ import annotations

from alembic import op

revision = "0012_capture_keeps_row_counts"
down_revision = "0011_session_idle"
branch_labels = None
depends_on = None

VERSION = r"""
CREATE OR REPLACE FUNCTION collabadmin_bump_version() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    written integer := NEW.version;
    wanted  integer;
BEGIN
    IF TG_OP = 'INSERT' THEN
        wanted := 1;
        written := coalesce(written, 1);
    ELSE
        NEW.version := OLD.version;
        -- A row that changes nothing keeps its version (and the capture
        -- trigger, finding no difference, writes no entry). It is not
        -- cancelled: the statement still reports it, as without tracking.
        wanted := CASE WHEN NEW *= OLD THEN OLD.version ELSE OLD.version + 1 END;
        IF written IS NOT DISTINCT FROM OLD.version THEN
            written := wanted;  -- not written, or rewritten as read: accepted
        END IF;
    END IF;
    IF written IS DISTINCT FROM wanted THEN
        RAISE EXCEPTION 'column "version" of "%" is maintained by collabadmin: it would be %, not %',
              TG_TABLE_NAME, wanted, coalesce(written::text, 'NULL')
        USING ERRCODE = 'check_violation',
              COLUMN = 'version',
              CONSTRAINT = 'collabadmin_version',
              SCHEMA = TG_TABLE_SCHEMA,
              TABLE = TG_TABLE_NAME,
              HINT = 'leave "version" out of INSERT and UPDATE statements';
    END IF;
    NEW.version := wanted;
    RETURN NEW;
END
$$;
"""

KEY_PART = r"""
-- One value of a composite key as the API's URL form writes it: UTF-8
-- bytes, everything but A-Z a-z 0-9 - . _ ~ percent-encoded (upper-case
-- hex), as Python's urllib.parse.quote(value, safe="").
CREATE OR REPLACE FUNCTION collabadmin_key_part(value text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT coalesce(string_agg(
               CASE WHEN b BETWEEN 48 AND 57 OR b BETWEEN 65 AND 90 OR b BETWEEN 97 AND 122
                         OR b IN (45, 46, 95, 126)
                    THEN chr(b)
                    ELSE '%' || upper(lpad(to_hex(b), 2, '0'))
               END, '' ORDER BY i), '')
      FROM (SELECT i, get_byte(raw, i) AS b
              FROM (SELECT convert_to(value, 'UTF8') AS raw) r,
                   generate_series(0, octet_length(raw) - 1) AS i) bytes
$$;
"""

CAPTURE = r"""
CREATE OR REPLACE FUNCTION collabadmin_capture() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = {path} AS $$
DECLARE
    resource_name text := TG_ARGV[0];
    key_columns   text[] := TG_ARGV[1:];
    old_row       jsonb;
    new_row       jsonb;
    keyed_row     jsonb;
    change_diff   jsonb;
    change_op     text;
    row_pk        text;
    before_v      integer;
    after_v       integer;
    -- The role that made the change. Inside this function current_user is
    -- the owner, so it is read from the session: the role it switched to
    -- with SET ROLE (which PostgreSQL allows only to members of that role),
    -- else the role it logged in as.
    writer        name := CASE WHEN current_setting('role') = 'none' THEN session_user
                               ELSE current_setting('role')::name END;
    trusted       boolean := writer = collabadmin_app_role();
BEGIN
    IF TG_OP = 'INSERT' THEN
        new_row := to_jsonb(NEW) - 'version';
        SELECT coalesce(jsonb_object_agg(key, jsonb_build_object('old', NULL, 'new', value)), '{}')
          INTO change_diff
          FROM jsonb_each(new_row) WHERE value <> 'null'::jsonb;
        change_op := 'insert';
        keyed_row := new_row;
        after_v := NEW.version;
    ELSIF TG_OP = 'UPDATE' THEN
        old_row := to_jsonb(OLD) - 'version';
        new_row := to_jsonb(NEW) - 'version';
        SELECT coalesce(jsonb_object_agg(n.key, jsonb_build_object('old', o.value, 'new', n.value)), '{}')
          INTO change_diff
          FROM jsonb_each(new_row) n JOIN jsonb_each(old_row) o USING (key)
         WHERE n.value IS DISTINCT FROM o.value;
        -- A row the statement left as it was: the version trigger kept its
        -- version, and nothing is written (DESIGN: a write that changes
        -- nothing writes nothing). Both conditions: a change jsonb cannot
        -- see (numeric 1.0 to 1.00) raised the version and is still logged.
        IF change_diff = '{}'::jsonb AND NEW.version IS NOT DISTINCT FROM OLD.version THEN
            RETURN NULL;
        END IF;
        IF (old_row -> 'deleted_at') = 'null'::jsonb AND (new_row -> 'deleted_at') <> 'null'::jsonb THEN
            change_op := 'delete';
        ELSIF (old_row -> 'deleted_at') <> 'null'::jsonb AND (new_row -> 'deleted_at') = 'null'::jsonb THEN
            change_op := 'restore';
        ELSE
            change_op := 'update';
        END IF;
        keyed_row := new_row;
        before_v := OLD.version;
        after_v := NEW.version;
    ELSE
        old_row := to_jsonb(OLD) - 'version';
        SELECT coalesce(jsonb_object_agg(key, jsonb_build_object('old', value, 'new', NULL)), '{}')
          INTO change_diff
          FROM jsonb_each(old_row);
        change_op := 'purge';
        keyed_row := old_row;
        before_v := OLD.version;
        after_v := OLD.version;
    END IF;

    IF coalesce(array_length(key_columns, 1), 0) <= 1 THEN
        row_pk := keyed_row ->> coalesce(key_columns[1], 'id');
    ELSE
        SELECT string_agg(collabadmin_key_part(keyed_row ->> k.name), ',' ORDER BY k.n)
          INTO row_pk
          FROM unnest(key_columns) WITH ORDINALITY AS k(name, n);
    END IF;

    -- Only the server role speaks for a user; anyone else's settings are ignored.
    IF trusted THEN
        INSERT INTO collabadmin_change
            (resource, pk, op, actor_id, actor_name, db_role, source, request_id,
             version_before, version, diff)
        VALUES (
            resource_name, row_pk, change_op,
            nullif(current_setting('collabadmin.actor_id', true), '')::bigint,
            nullif(current_setting('collabadmin.actor_name', true), ''),
            writer,
            coalesce(nullif(current_setting('collabadmin.source', true), ''), 'db'),
            nullif(current_setting('collabadmin.request_id', true), ''),
            before_v, after_v, change_diff
        );
    ELSE
        INSERT INTO collabadmin_change
            (resource, pk, op, db_role, source, version_before, version, diff)
        VALUES (resource_name, row_pk, change_op, writer, 'db', before_v, after_v, change_diff);
    END IF;

    -- A tiny wake-up: payloads never carry data. Write-heavy deployments
    -- turn this off (collabadmin.notify = off) and let the hub poll the log.
    IF coalesce(current_setting('collabadmin.notify', true), '') <> 'off' THEN
        PERFORM pg_notify('collabadmin_change', '');
    END IF;
    RETURN NULL;
END
$$;
REVOKE EXECUTE ON FUNCTION collabadmin_capture() FROM PUBLIC;
"""

# Tables tracked before this revision carry the version trigger under its
# old name, which sorts before most application triggers.
RENAME = r"""
DO $$
DECLARE
    t record;
BEGIN
    FOR t IN
        SELECT tg.tgrelid::regclass AS tab
          FROM pg_trigger tg
         WHERE tg.tgname = 'collabadmin_version'
           AND tg.tgfoid = 'collabadmin_bump_version()'::regprocedure
    LOOP
        EXECUTE format('ALTER TRIGGER collabadmin_version ON %s RENAME TO zz_collabadmin_version',
                       t.tab);
    END LOOP;
END
$$;
"""


def _search_path() -> str:
    schema = op.get_bind().exec_driver_sql("SELECT quote_ident(current_schema())").scalar()
    return f"pg_catalog, {schema}, pg_temp"


def upgrade() -> None:
    op.execute(VERSION)
    op.execute(KEY_PART)
    op.execute(CAPTURE.replace("{path}", _search_path()))
    op.execute(RENAME)


def downgrade() -> None:
    raise NotImplementedError("restore a backup instead")
