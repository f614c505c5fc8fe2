"""core: live views — the derived log and each view's evaluated position

Revision ID: 0017_live_views
Revises: 0016_broker_position
Create Date: 2026-12-01

A live view's rows are evaluated by collabadmin and kept in a materialised
copy of its own (``collabadmin.collabadmin_live_<view>``, created per view by
:func:`collabadmin.db.live_copy.live_copy_sql`). Every row of the copy that
moves is recorded here, in ``collabadmin_live_change``: the *derived log*.

It is not the change log. Derived rows are not what a person or a client
did, so they are not audit entries, not in the hash chain, and the server
role may write them (and prune them). But they travel in the same
commit-ordered stream as the change log's entries, so a subscriber resumes
across both with one cursor:

* ``txid`` is the writing transaction's id, as in the change log: the hub's
  snapshot batches take derived entries exactly as they take base ones;
* ``id`` is drawn from the change log's own sequence, so the ids of a batch
  that mixes both kinds are unique and ordered, and a cursor's "last id
  seen in this batch" means the same for both.

The server role may not use that sequence (``0009_audit_roles``), so a
``SECURITY DEFINER`` trigger owned by the owner stamps ``id``, ``txid`` and
``at`` on every insert, whatever the inserting statement says; a statement
trigger wakes the hub like the capture trigger does (unless
``collabadmin.notify`` is ``off``, for poll mode).

``collabadmin_live_state`` holds, per view, the snapshot up to which the
base changes have been evaluated into its copy, written in the same
transaction as the copy: any instance (or a read that must see a write's
effect) can bring a view up to date from there.
"""

from __future__ import annotations

from alembic import op

revision = "0017_live_views"
down_revision = "0016_broker_position"
branch_labels = None
depends_on = None

PATH = "pg_catalog, collabadmin, pg_temp"  # collabadmin.own.OWN_SEARCH_PATH

SCHEMA = f"""
CREATE TABLE collabadmin.collabadmin_live_change (
    id       bigint PRIMARY KEY,
    txid     xid8 NOT NULL,
    at       timestamptz NOT NULL,
    view     text NOT NULL,
    pk       text NOT NULL,
    op       text NOT NULL CHECK (op IN ('insert', 'update', 'delete')),
    version  integer NOT NULL,
    diff     jsonb NOT NULL DEFAULT '{{}}'
);
CREATE INDEX collabadmin_live_change_txid ON collabadmin.collabadmin_live_change (txid);
CREATE INDEX collabadmin_live_change_row ON collabadmin.collabadmin_live_change (view, pk, id);
CREATE INDEX collabadmin_live_change_at ON collabadmin.collabadmin_live_change (at);

CREATE TABLE collabadmin.collabadmin_live_state (
    view        text PRIMARY KEY,
    snapshot    text NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE FUNCTION collabadmin.collabadmin_live_stamp() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = {PATH} AS $$
BEGIN
    NEW.id := nextval('collabadmin.collabadmin_change_id_seq');
    NEW.txid := pg_current_xact_id();
    NEW.at := now();
    RETURN NEW;
END
$$;
REVOKE EXECUTE ON FUNCTION collabadmin.collabadmin_live_stamp() FROM PUBLIC;

CREATE FUNCTION collabadmin.collabadmin_live_notify() RETURNS trigger
LANGUAGE plpgsql SET search_path = {PATH} AS $$
BEGIN
    IF coalesce(current_setting('collabadmin.notify', true), '') <> 'off' THEN
        PERFORM pg_notify('collabadmin_change', '');
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER collabadmin_live_stamp BEFORE INSERT OR UPDATE
    ON collabadmin.collabadmin_live_change
    FOR EACH ROW EXECUTE FUNCTION collabadmin.collabadmin_live_stamp();
CREATE TRIGGER collabadmin_live_notify AFTER INSERT
    ON collabadmin.collabadmin_live_change
    FOR EACH STATEMENT EXECUTE FUNCTION collabadmin.collabadmin_live_notify();
"""


def upgrade() -> None:
    op.execute(SCHEMA)


def downgrade() -> None:
    op.execute(
        "DROP TABLE collabadmin.collabadmin_live_change;"
        " DROP TABLE collabadmin.collabadmin_live_state;"
        " DROP FUNCTION collabadmin.collabadmin_live_stamp();"
        " DROP FUNCTION collabadmin.collabadmin_live_notify();"
    )
