"""core: an append-only change log with a hash chain in commit order

Revision ID: 0004_audit_chain
Revises: 0003_login_throttle
Create Date: 2026-11-23

Entries are written in many transactions at once and their ids are not
commit order, so the chain cannot be computed when an entry is written.
A *sealer* (``collabadmin_seal()``, run by the servers every second and by
``audit verify``) takes the next snapshot batch of committed entries, the
same way the hub reads them, and appends one seal per entry: its position
in the chain and sha256(previous hash | the entry's content as canonical
jsonb text). A single state row, locked while sealing, makes concurrent
sealers take turns.

The log refuses UPDATE, DELETE and TRUNCATE unless the transaction has set
``collabadmin.retention = on`` (which only the prune command does). That
stops mistakes, not an owner who disables triggers; what catches the
latter is verification: an edited, deleted or inserted entry no longer
matches its seal.
"""

from __future__ import annotations

from alembic import op

revision = "0004_audit_chain"
down_revision = "0003_login_throttle"
branch_labels = None
depends_on = None

SQL = r"""
CREATE TABLE collabadmin_seal (
    seq        bigint PRIMARY KEY,
    change_id  bigint NOT NULL UNIQUE,
    hash       text NOT NULL
);

CREATE TABLE collabadmin_seal_state (
    id           integer PRIMARY KEY CHECK (id = 1),
    snapshot     pg_snapshot NOT NULL,
    last_seq     bigint NOT NULL,
    last_hash    text NOT NULL,
    anchor_seq   bigint NOT NULL,
    anchor_hash  text NOT NULL
);
INSERT INTO collabadmin_seal_state VALUES (1, '1:1:', 0, repeat('0', 64), 0, repeat('0', 64));

CREATE FUNCTION collabadmin_change_content(c collabadmin_change) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT jsonb_build_object(
        'id', c.id, 'at', c.at, 'txid', c.txid::text, 'resource', c.resource, 'pk', c.pk,
        'op', c.op, 'actor_id', c.actor_id, 'actor_name', c.actor_name, 'db_role', c.db_role,
        'source', c.source, 'request_id', c.request_id, 'version_before', c.version_before,
        'version', c.version, 'diff', c.diff
    )::text
$$;

CREATE FUNCTION collabadmin_chain_hash(previous text, content text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT encode(sha256(convert_to(previous || '|' || content, 'UTF8')), 'hex')
$$;

-- Seal every entry committed since the last run, in commit (batch) order.
CREATE FUNCTION collabadmin_seal() RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    state    collabadmin_seal_state;
    upper    pg_snapshot := pg_current_snapshot();
    entry    collabadmin_change;
    seq      bigint;
    chained  text;
    sealed   integer := 0;
BEGIN
    SELECT * INTO state FROM collabadmin_seal_state WHERE id = 1 FOR UPDATE;
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

-- Recompute the chain from the anchor; the first seal that does not match.
CREATE FUNCTION collabadmin_verify(OUT checked bigint, OUT first_bad bigint) RETURNS record
LANGUAGE plpgsql STABLE AS $$
DECLARE
    state    collabadmin_seal_state;
    seal     record;
    chained  text;
    expected bigint;
BEGIN
    SELECT * INTO state FROM collabadmin_seal_state WHERE id = 1;
    chained := state.anchor_hash;
    expected := state.anchor_seq;
    checked := 0;
    first_bad := NULL;
    FOR seal IN
        SELECT s.seq, s.change_id, s.hash, c AS entry, c.id AS found
          FROM collabadmin_seal s
          LEFT JOIN collabadmin_change c ON c.id = s.change_id
         WHERE s.seq > state.anchor_seq
         ORDER BY s.seq
    LOOP
        expected := expected + 1;
        checked := checked + 1;
        IF seal.seq <> expected OR seal.found IS NULL THEN
            first_bad := seal.change_id;
            RETURN;
        END IF;
        chained := collabadmin_chain_hash(chained, collabadmin_change_content(seal.entry));
        IF chained <> seal.hash THEN
            first_bad := seal.change_id;
            RETURN;
        END IF;
    END LOOP;
    IF expected <> state.last_seq OR chained <> state.last_hash THEN
        first_bad := -1;  -- the tail of the chain is gone
    END IF;
    -- An entry inside the sealed range that has no seal was inserted behind our back.
    IF first_bad IS NULL THEN
        SELECT min(c.id) INTO first_bad
          FROM collabadmin_change c
         WHERE pg_visible_in_snapshot(c.txid, state.snapshot)
           AND c.id > coalesce((SELECT min(change_id) FROM collabadmin_seal), 0)
           AND NOT EXISTS (SELECT 1 FROM collabadmin_seal s WHERE s.change_id = c.id);
    END IF;
END
$$;

CREATE FUNCTION collabadmin_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF coalesce(current_setting('collabadmin.retention', true), '') = 'on' THEN
        RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
    END IF;
    RAISE EXCEPTION 'the change log is append-only (% refused)', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;

CREATE TRIGGER collabadmin_append_only BEFORE UPDATE OR DELETE ON collabadmin_change
    FOR EACH ROW EXECUTE FUNCTION collabadmin_append_only();
CREATE TRIGGER collabadmin_append_only_truncate BEFORE TRUNCATE ON collabadmin_change
    FOR EACH STATEMENT EXECUTE FUNCTION collabadmin_append_only();
CREATE TRIGGER collabadmin_seal_append_only BEFORE UPDATE OR DELETE ON collabadmin_seal
    FOR EACH ROW EXECUTE FUNCTION collabadmin_append_only();
CREATE TRIGGER collabadmin_seal_append_only_truncate BEFORE TRUNCATE ON collabadmin_seal
    FOR EACH STATEMENT EXECUTE FUNCTION collabadmin_append_only();
"""


def upgrade() -> None:
    op.execute(SQL)


def downgrade() -> None:
    op.execute(
        "DROP TABLE collabadmin_seal, collabadmin_seal_state;"
        " DROP TRIGGER collabadmin_append_only ON collabadmin_change;"
        " DROP TRIGGER collabadmin_append_only_truncate ON collabadmin_change;"
        " DROP FUNCTION collabadmin_append_only(), collabadmin_verify(), collabadmin_seal(),"
        " collabadmin_chain_hash(text, text), collabadmin_change_content(collabadmin_change)"
    )
