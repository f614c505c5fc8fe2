"""core: a log only its owner writes; a server role; owner-only retention; incremental verify

Revision ID: 0009_audit_roles
Revises: 0007_workflows
Create Date: 2026-11-30

* The capture trigger runs as the log's owner (``SECURITY DEFINER``, fixed
  ``search_path``), so writers need no privilege on ``collabadmin_change``
  and the server's role gets none. It believes the ``collabadmin.actor_*``,
  ``source`` and ``request_id`` settings only when the writing role is the
  server role (``collabadmin_app_role()``, see ``collabadmin.db.roles``);
  every other client is recorded as ``source 'db'`` with its own role.
* The append-only guard no longer honours a session setting: only
  ``collabadmin_prune()``, an owner-only function, may delete entries (it
  leaves a pass for its own transaction in a table nobody else can write).
  UPDATE and TRUNCATE are always refused.
* ``collabadmin_verify(whole)`` checks from the last verified point unless
  ``whole``; that point lives in ``collabadmin_verify_state``.
* ``collabadmin_seal()`` runs as the owner, so the server role may seal.
  Sealers lock the state row FOR NO KEY UPDATE, verification FOR KEY
  SHARE (side by side), pruning FOR UPDATE (alone).
"""

from __future__ import annotations

import os

from alembic import context, op
from collabadmin.db.roles import provision

revision = "0009_audit_roles"
down_revision = "0007_workflows"
branch_labels = None
depends_on = None

TABLES = r"""
CREATE TABLE collabadmin_retention_pass (txid xid8 PRIMARY KEY);
REVOKE ALL ON collabadmin_retention_pass FROM PUBLIC;

-- The point up to which the chain was last verified, and the first bad
-- entry a verification found (kept until a full verification succeeds).
CREATE TABLE collabadmin_verify_state (
    id                 integer PRIMARY KEY CHECK (id = 1),
    verified_seq       bigint NOT NULL,
    verified_hash      text NOT NULL,
    verified_change_id bigint NOT NULL,
    verified_at        timestamptz,
    first_bad          bigint
);
INSERT INTO collabadmin_verify_state VALUES (1, 0, repeat('0', 64), 0, NULL, NULL);
"""

# {path} is the fixed search_path of every SECURITY DEFINER function:
# the schema collabadmin lives in, with pg_temp last so that nobody's
# temporary objects can stand in for ours.
CAPTURE = r"""
CREATE OR REPLACE FUNCTION collabadmin_capture() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = {path} AS $$
DECLARE
    resource_name text := TG_ARGV[0];
    pk_column     text := TG_ARGV[1];
    old_row       jsonb;
    new_row       jsonb;
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
        row_pk := new_row ->> pk_column;
        after_v := NEW.version;
    ELSIF TG_OP = 'UPDATE' THEN
        old_row := to_jsonb(OLD) - 'version';
        new_row := to_jsonb(NEW) - 'version';
        SELECT coalesce(jsonb_object_agg(n.key, jsonb_build_object('old', o.value, 'new', n.value)), '{}')
          INTO change_diff
          FROM jsonb_each(new_row) n JOIN jsonb_each(old_row) o USING (key)
         WHERE n.value IS DISTINCT FROM o.value;
        IF (old_row -> 'deleted_at') = 'null'::jsonb AND (new_row -> 'deleted_at') <> 'null'::jsonb THEN
            change_op := 'delete';
        ELSIF (old_row -> 'deleted_at') <> 'null'::jsonb AND (new_row -> 'deleted_at') = 'null'::jsonb THEN
            change_op := 'restore';
        ELSE
            change_op := 'update';
        END IF;
        row_pk := new_row ->> pk_column;
        before_v := OLD.version;
        after_v := NEW.version;
    ELSE
        old_row := to_jsonb(OLD) - 'version';
        SELECT coalesce(jsonb_object_agg(key, jsonb_build_object('old', value, 'new', NULL)), '{}')
          INTO change_diff
          FROM jsonb_each(old_row);
        change_op := 'purge';
        row_pk := old_row ->> pk_column;
        before_v := OLD.version;
        after_v := OLD.version;
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
-- Nobody may build a trigger of their own on it (that would let them name
-- the resource an entry is about); the triggers that exist keep working.
REVOKE EXECUTE ON FUNCTION collabadmin_capture() FROM PUBLIC;
"""

GUARD = r"""
CREATE OR REPLACE FUNCTION collabadmin_append_only() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = {path} AS $$
BEGIN
    -- Only collabadmin_prune() deletes, and only in its own transaction.
    IF TG_OP = 'DELETE'
       AND EXISTS (SELECT 1 FROM collabadmin_retention_pass WHERE txid = pg_current_xact_id()) THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'the change log is append-only (% refused)', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;
REVOKE EXECUTE ON FUNCTION collabadmin_append_only() FROM PUBLIC;
"""

PRUNE = r"""
-- Remove the sealed entries after the anchor up to and including seal
-- `through_seq`; that seal becomes the anchor. The caller archives them
-- first, in the same transaction. Owner only.
CREATE FUNCTION collabadmin_prune(through_seq bigint) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = {path} AS $$
DECLARE
    state    collabadmin_seal_state;
    cut_hash text;
    removed  bigint;
BEGIN
    SELECT * INTO state FROM collabadmin_seal_state WHERE id = 1 FOR UPDATE;
    IF through_seq <= state.anchor_seq THEN
        RETURN 0;
    END IF;
    IF through_seq > state.last_seq THEN
        RAISE EXCEPTION 'cannot prune past the last seal (%)', state.last_seq
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    SELECT hash INTO cut_hash FROM collabadmin_seal WHERE seq = through_seq;
    IF cut_hash IS NULL THEN
        RAISE EXCEPTION 'seal % is missing: verify the chain before pruning', through_seq
            USING ERRCODE = 'data_corrupted';
    END IF;
    INSERT INTO collabadmin_retention_pass VALUES (pg_current_xact_id());
    DELETE FROM collabadmin_change c USING collabadmin_seal s
     WHERE s.change_id = c.id AND s.seq > state.anchor_seq AND s.seq <= through_seq;
    GET DIAGNOSTICS removed = ROW_COUNT;
    DELETE FROM collabadmin_seal WHERE seq > state.anchor_seq AND seq <= through_seq;
    DELETE FROM collabadmin_retention_pass WHERE txid = pg_current_xact_id();
    UPDATE collabadmin_seal_state SET anchor_seq = through_seq, anchor_hash = cut_hash
     WHERE id = 1;
    RETURN removed;
END
$$;
REVOKE EXECUTE ON FUNCTION collabadmin_prune(bigint) FROM PUBLIC;
"""

VERIFY = r"""
DROP FUNCTION collabadmin_verify();

-- Recompute the chain: from the last verified point, or with `whole` from
-- the anchor. Reads only seals up to the sealed head it starts with, so a
-- concurrent sealer never makes it report a false break.
CREATE FUNCTION collabadmin_verify(whole boolean DEFAULT false, OUT checked bigint, OUT first_bad bigint)
RETURNS record
LANGUAGE plpgsql SECURITY DEFINER SET search_path = {path} AS $$
DECLARE
    state      collabadmin_seal_state;
    mark       collabadmin_verify_state;
    seal       record;
    start_seq  bigint;
    chained    text;
    expected   bigint;
    watermark  bigint;
    highest    bigint;
    lowest     bigint;
BEGIN
    -- A prune (FOR UPDATE) must not remove seals under a running check;
    -- sealers (FOR NO KEY UPDATE) may go on appending.
    SELECT * INTO state FROM collabadmin_seal_state WHERE id = 1 FOR KEY SHARE;
    SELECT * INTO mark FROM collabadmin_verify_state WHERE id = 1;
    checked := 0;
    IF NOT whole AND mark.first_bad IS NOT NULL THEN
        first_bad := mark.first_bad;  -- a break stays reported until a full check passes
        RETURN;
    END IF;
    IF mark.verified_seq > state.last_seq THEN
        -- The chain now ends before a point that was verified: its tail was cut off.
        first_bad := -1;
        UPDATE collabadmin_verify_state SET first_bad = -1 WHERE id = 1;
        RETURN;
    END IF;
    IF whole OR mark.verified_seq <= state.anchor_seq THEN
        start_seq := state.anchor_seq;
        chained := state.anchor_hash;
        watermark := 0;
    ELSE
        start_seq := mark.verified_seq;
        chained := mark.verified_hash;
        watermark := mark.verified_change_id;
        IF NOT EXISTS (SELECT 1 FROM collabadmin_seal s
                        WHERE s.seq = start_seq AND s.hash = mark.verified_hash) THEN
            first_bad := coalesce((SELECT s.change_id FROM collabadmin_seal s
                                    WHERE s.seq = start_seq), -1);
        END IF;
    END IF;
    expected := start_seq;
    highest := watermark;
    IF first_bad IS NULL THEN
        -- EXECUTE plans with the actual bounds every time: a cached generic
        -- plan would join a few new seals against the whole log.
        FOR seal IN EXECUTE
            'SELECT s.seq, s.change_id, s.hash, c AS entry, c.id AS found
               FROM collabadmin_seal s
               LEFT JOIN collabadmin_change c ON c.id = s.change_id
              WHERE s.seq > $1 AND s.seq <= $2
              ORDER BY s.seq'
            USING start_seq, state.last_seq
        LOOP
            expected := expected + 1;
            checked := checked + 1;
            IF seal.seq <> expected OR seal.found IS NULL THEN
                first_bad := seal.change_id;
                EXIT;
            END IF;
            chained := collabadmin_chain_hash(chained, collabadmin_change_content(seal.entry));
            -- A full check also passes through the last verified point: a
            -- chain rewritten and resealed since then no longer meets it.
            IF chained <> seal.hash
               OR (seal.seq = mark.verified_seq AND chained <> mark.verified_hash) THEN
                first_bad := seal.change_id;
                EXIT;
            END IF;
            highest := greatest(highest, seal.change_id);
        END LOOP;
    END IF;
    IF first_bad IS NULL AND (expected <> state.last_seq OR chained <> state.last_hash) THEN
        first_bad := -1;  -- the tail of the chain is gone
    END IF;
    -- An entry inside the sealed range that has no seal was inserted behind
    -- our back. Entries are numbered by a sequence, so one inserted since the
    -- last verified point has a higher id than every entry verified then.
    IF first_bad IS NULL THEN
        lowest := greatest(watermark, coalesce((SELECT min(change_id) FROM collabadmin_seal), 0));
        EXECUTE
            'SELECT min(c.id) FROM collabadmin_change c
              WHERE c.id > $1 AND pg_visible_in_snapshot(c.txid, $2)
                AND NOT EXISTS (SELECT 1 FROM collabadmin_seal s WHERE s.change_id = c.id)'
            INTO first_bad USING lowest, state.snapshot;
    END IF;
    IF first_bad IS NOT NULL THEN
        UPDATE collabadmin_verify_state SET first_bad = collabadmin_verify.first_bad WHERE id = 1;
        RETURN;
    END IF;
    -- Move the verified point forward, unless another verification moved it
    -- meanwhile (an incremental one only from where it started).
    UPDATE collabadmin_verify_state v
       SET verified_seq = expected, verified_hash = chained,
           verified_change_id = highest, verified_at = now(),
           first_bad = CASE WHEN whole THEN NULL ELSE v.first_bad END
     WHERE v.id = 1
       AND CASE WHEN whole THEN v.verified_seq <= expected
                ELSE v.verified_seq = mark.verified_seq AND v.verified_hash = mark.verified_hash
                     AND v.first_bad IS NULL
           END;
END
$$;
REVOKE EXECUTE ON FUNCTION collabadmin_verify(boolean) FROM PUBLIC;
"""

# As in 0004, run as the owner, and locking the state row FOR NO KEY UPDATE:
# sealers take turns, verification (FOR KEY SHARE) runs beside them, and
# pruning (FOR UPDATE) excludes both.
SEAL = r"""
CREATE OR REPLACE FUNCTION collabadmin_seal() RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = {path} AS $$
DECLARE
    state    collabadmin_seal_state;
    upper    pg_snapshot := pg_current_snapshot();
    entry    collabadmin_change;
    seq      bigint;
    chained  text;
    sealed   integer := 0;
BEGIN
    SELECT * INTO state FROM collabadmin_seal_state WHERE id = 1 FOR NO KEY UPDATE;
    seq := state.last_seq;
    chained := state.last_hash;
    FOR entry IN
        SELECT * FROM collabadmin_change c
         WHERE c.txid >= pg_snapshot_xmin(state.snapshot)
           AND c.txid < pg_snapshot_xmax(upper)
           AND pg_visible_in_snapshot(c.txid, upper)
           AND NOT pg_visible_in_snapshot(c.txid, state.snapshot)
         ORDER BY c.id
    LOOP
        seq := seq + 1;
        chained := collabadmin_chain_hash(chained, collabadmin_change_content(entry));
        INSERT INTO collabadmin_seal (seq, change_id, hash) VALUES (seq, entry.id, chained);
        sealed := sealed + 1;
    END LOOP;
    UPDATE collabadmin_seal_state
       SET snapshot = upper, last_seq = seq, last_hash = chained
     WHERE id = 1;
    RETURN sealed;
END
$$;
REVOKE EXECUTE ON FUNCTION collabadmin_seal() FROM PUBLIC;
"""


def _search_path() -> str:
    schema = op.get_bind().exec_driver_sql("SELECT quote_ident(current_schema())").scalar()
    return f"pg_catalog, {schema}, pg_temp"


def _requested_role() -> str | None:
    attributes = context.config.attributes
    requested = attributes.get("app_role") or os.environ.get("COLLABADMIN_APP_ROLE")
    return str(requested) if requested else None


def upgrade() -> None:
    path = _search_path()
    op.execute(TABLES)
    for script in (CAPTURE, GUARD, PRUNE, VERIFY, SEAL):
        op.execute(script.replace("{path}", path))
    # The objects are still in the user's default schema here (0013 moves them).
    provision(op.get_bind(), _requested_role(), own_schema=None)


def downgrade() -> None:
    raise NotImplementedError("the role split is not undone: restore a backup instead")
