"""core: users, sessions, API tokens, the change log and the capture functions

Revision ID: 0001_core
Revises:
Create Date: 2026-11-23
"""

from __future__ import annotations

from alembic import op

revision = "0001_core"
down_revision = None
branch_labels = ("core",)
depends_on = None

# The change log. One row per committed row change of a tracked table.
# `txid` is the writing transaction's id (xid8): change ids are handed out in
# insertion order, not commit order, so readers that need commit order (the
# hub) compare txids against snapshots instead of trusting ids.
CHANGE_LOG = """
CREATE TABLE collabadmin_change (
    id              bigserial PRIMARY KEY,
    at              timestamptz NOT NULL DEFAULT now(),
    txid            xid8 NOT NULL DEFAULT pg_current_xact_id(),
    resource        text NOT NULL,
    pk              text NOT NULL,
    op              text NOT NULL CHECK (op IN ('insert','update','delete','restore','purge')),
    actor_id        bigint,
    actor_name      text,
    db_role         text NOT NULL DEFAULT current_user,
    source          text NOT NULL CHECK (source IN ('api','draft','revert','workflow','db')),
    request_id      text,
    version_before  integer,
    version         integer NOT NULL,
    diff            jsonb NOT NULL
);
CREATE INDEX collabadmin_change_record ON collabadmin_change (resource, pk, id DESC);
CREATE INDEX collabadmin_change_txid ON collabadmin_change (txid);
CREATE INDEX collabadmin_change_at ON collabadmin_change (at);
CREATE INDEX collabadmin_change_actor ON collabadmin_change (actor_id, id DESC);
"""

# BEFORE INSERT OR UPDATE: the database, not the client, owns `version`.
# `NEW *= OLD` compares the rows' binary images, so it works for every column
# type (json and point have no `=`), and an UPDATE that changes nothing is
# dropped before it writes: no new row version, no log entry, no version bump.
BUMP_VERSION = """
CREATE FUNCTION collabadmin_bump_version() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        NEW.version := 1;
        RETURN NEW;
    END IF;
    NEW.version := OLD.version;
    IF NEW *= OLD THEN
        RETURN NULL;
    END IF;
    NEW.version := OLD.version + 1;
    RETURN NEW;
END
$$;
"""

# AFTER INSERT OR UPDATE OR DELETE: one change-log entry per row change, in the
# writer's transaction. Actor, source and request id come from settings the
# server sets with set_config(..., true); any other client leaves them empty
# and is recorded as source 'db' with its database role.
CAPTURE = """
CREATE FUNCTION collabadmin_capture() RETURNS trigger
LANGUAGE plpgsql AS $$
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
    actor         text := nullif(current_setting('collabadmin.actor_id', true), '');
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

    INSERT INTO collabadmin_change
        (resource, pk, op, actor_id, actor_name, source, request_id, version_before, version, diff)
    VALUES (
        resource_name, row_pk, change_op,
        actor::bigint,
        nullif(current_setting('collabadmin.actor_name', true), ''),
        coalesce(nullif(current_setting('collabadmin.source', true), ''), 'db'),
        nullif(current_setting('collabadmin.request_id', true), ''),
        before_v, after_v, change_diff
    );

    -- A tiny wake-up: payloads never carry data, so the 8000-byte NOTIFY
    -- limit never matters. Identical payloads in one transaction fold into
    -- one notification. Write-heavy deployments turn this off
    -- (collabadmin.notify = off) and let the hub poll the log instead.
    IF coalesce(current_setting('collabadmin.notify', true), '') <> 'off' THEN
        PERFORM pg_notify('collabadmin_change', '');
    END IF;
    RETURN NULL;
END
$$;
"""

AUTH = """
CREATE TABLE collabadmin_user (
    id             bigserial PRIMARY KEY,
    username       text NOT NULL UNIQUE CHECK (username ~ '^[A-Za-z0-9_.@-]{1,64}$'),
    display_name   text NOT NULL,
    password_hash  text,
    roles          text[] NOT NULL DEFAULT '{}',
    is_active      boolean NOT NULL DEFAULT true,
    created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE collabadmin_session (
    id             text PRIMARY KEY,
    user_id        bigint NOT NULL REFERENCES collabadmin_user (id) ON DELETE CASCADE,
    csrf_token     text NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    expires_at     timestamptz NOT NULL,
    revoked_at     timestamptz
);
CREATE INDEX collabadmin_session_user ON collabadmin_session (user_id);
CREATE TABLE collabadmin_api_token (
    id             bigserial PRIMARY KEY,
    user_id        bigint NOT NULL REFERENCES collabadmin_user (id) ON DELETE CASCADE,
    name           text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    token_hash     text NOT NULL UNIQUE,
    created_at     timestamptz NOT NULL DEFAULT now(),
    expires_at     timestamptz,
    last_used_at   timestamptz,
    revoked_at     timestamptz
);
CREATE INDEX collabadmin_api_token_user ON collabadmin_api_token (user_id);
"""


def upgrade() -> None:
    op.execute(CHANGE_LOG)
    op.execute(BUMP_VERSION)
    op.execute(CAPTURE)
    op.execute(AUTH)


def downgrade() -> None:
    op.execute("DROP TABLE collabadmin_api_token, collabadmin_session, collabadmin_user")
    op.execute("DROP FUNCTION collabadmin_capture() CASCADE")
    op.execute("DROP FUNCTION collabadmin_bump_version() CASCADE")
    op.execute("DROP TABLE collabadmin_change")
