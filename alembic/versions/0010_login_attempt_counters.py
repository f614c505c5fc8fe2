"""core: sign-in attempts counted atomically per account, address and pair

Revision ID: 0010_login_attempt_counters
Revises: 0009_audit_roles
Create Date: 2026-11-30

The failure log of 0003 was read, then the password checked, then a failure
inserted: parallel attempts all read the same count and all got a password
check (30 at once got 23 checks for a limit of 5). Attempts are now counted
*before* the check by one ``INSERT ... ON CONFLICT DO UPDATE ... RETURNING``
on a counter row per key, which PostgreSQL serialises per row, so every
attempt sees the increments of those before it. See collabadmin.auth.throttle.

The table is UNLOGGED: every attempt of a burst updates the same few rows,
one after another under their row lock, and with WAL each of those commits
waited for a disk flush while holding the lock (60 parallel attempts
queued for seconds on a busy disk). Counters are worth no flush: after a
database crash they start again from zero, and a standby does not have them.
"""

from __future__ import annotations

from alembic import op

revision = "0010_login_attempt_counters"
down_revision = "0009_audit_roles"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE UNLOGGED TABLE collabadmin_login_attempt (
            kind         text NOT NULL CHECK (kind IN ('account', 'address', 'pair')),
            key          text NOT NULL,
            attempts     integer NOT NULL,
            window_ends  timestamptz NOT NULL,
            admitted_at  timestamptz NOT NULL,
            known_until  timestamptz,
            PRIMARY KEY (kind, key)
        );
        CREATE INDEX collabadmin_login_attempt_window_ends
            ON collabadmin_login_attempt (window_ends);
        COMMENT ON COLUMN collabadmin_login_attempt.admitted_at IS
            'Last attempt let through to a password check (spaces out a throttled account)';
        COMMENT ON COLUMN collabadmin_login_attempt.known_until IS
            'pair rows: a sign-in from this address succeeded; exempt from the account backstop';
        DROP TABLE collabadmin_login_failure;
        """
    )


def downgrade() -> None:
    op.execute(
        """
        DROP TABLE collabadmin_login_attempt;
        CREATE TABLE collabadmin_login_failure (
            id        bigserial PRIMARY KEY,
            username  text NOT NULL,
            address   text,
            at        timestamptz NOT NULL DEFAULT now()
        );
        CREATE INDEX collabadmin_login_failure_username ON collabadmin_login_failure (username, at);
        CREATE INDEX collabadmin_login_failure_address ON collabadmin_login_failure (address, at);
        CREATE INDEX collabadmin_login_failure_at ON collabadmin_login_failure (at);
        """
    )
