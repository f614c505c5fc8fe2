"""auth: session idle time, and credential changes that end sessions and wake sockets

Revision ID: 0011_session_idle
Revises: 0010_login_attempt_counters
Create Date: 2026-11-30

``last_seen_at`` is when a session was last used (refreshed at most once a
minute), for the idle timeout. A change of a user's password ends every
session of that user, whoever makes it (the CLI, an operator in psql): it is
done by a trigger, not by the code paths that happen to change passwords.
Any change that can end a credential or change what it may do (a session or
token revoked, expired early or deleted; a user's roles, activity or password
changed) sends an empty ``collabadmin_credentials`` notification after
commit, so that every server re-checks its open websockets at once instead
of at its next periodic check. The payload is empty on purpose: any role can
LISTEN, so it says only "something changed".
"""

from __future__ import annotations

from alembic import op

revision = "0011_session_idle"
down_revision = "0010_login_attempt_counters"
branch_labels = None
depends_on = None

UPGRADE = """
ALTER TABLE collabadmin_session ADD COLUMN last_seen_at timestamptz NOT NULL DEFAULT now();
CREATE INDEX collabadmin_session_expiry ON collabadmin_session (expires_at);

CREATE FUNCTION collabadmin_credentials_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('collabadmin_credentials', '');
    RETURN NULL;
END
$$;

CREATE FUNCTION collabadmin_password_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE collabadmin_session SET revoked_at = now()
     WHERE user_id = NEW.id AND revoked_at IS NULL;
    RETURN NULL;
END
$$;

CREATE TRIGGER collabadmin_password_ends_sessions
AFTER UPDATE OF password_hash ON collabadmin_user
FOR EACH ROW WHEN (OLD.password_hash IS DISTINCT FROM NEW.password_hash)
EXECUTE FUNCTION collabadmin_password_changed();

CREATE TRIGGER collabadmin_user_credentials_changed
AFTER UPDATE ON collabadmin_user
FOR EACH ROW WHEN (
    OLD.roles IS DISTINCT FROM NEW.roles
    OR OLD.is_active IS DISTINCT FROM NEW.is_active
    OR OLD.password_hash IS DISTINCT FROM NEW.password_hash
    OR OLD.display_name IS DISTINCT FROM NEW.display_name
    OR OLD.username IS DISTINCT FROM NEW.username
)
EXECUTE FUNCTION collabadmin_credentials_changed();

CREATE TRIGGER collabadmin_session_changed
AFTER UPDATE ON collabadmin_session
FOR EACH ROW WHEN (
    OLD.revoked_at IS DISTINCT FROM NEW.revoked_at
    OR OLD.expires_at IS DISTINCT FROM NEW.expires_at
)
EXECUTE FUNCTION collabadmin_credentials_changed();

CREATE TRIGGER collabadmin_api_token_changed
AFTER UPDATE ON collabadmin_api_token
FOR EACH ROW WHEN (
    OLD.revoked_at IS DISTINCT FROM NEW.revoked_at
    OR OLD.expires_at IS DISTINCT FROM NEW.expires_at
)
EXECUTE FUNCTION collabadmin_credentials_changed();

CREATE TRIGGER collabadmin_user_deleted AFTER DELETE ON collabadmin_user
FOR EACH STATEMENT EXECUTE FUNCTION collabadmin_credentials_changed();
CREATE TRIGGER collabadmin_session_deleted AFTER DELETE ON collabadmin_session
FOR EACH STATEMENT EXECUTE FUNCTION collabadmin_credentials_changed();
CREATE TRIGGER collabadmin_api_token_deleted AFTER DELETE ON collabadmin_api_token
FOR EACH STATEMENT EXECUTE FUNCTION collabadmin_credentials_changed();
"""

DOWNGRADE = """
DROP TRIGGER collabadmin_api_token_deleted ON collabadmin_api_token;
DROP TRIGGER collabadmin_session_deleted ON collabadmin_session;
DROP TRIGGER collabadmin_user_deleted ON collabadmin_user;
DROP TRIGGER collabadmin_api_token_changed ON collabadmin_api_token;
DROP TRIGGER collabadmin_session_changed ON collabadmin_session;
DROP TRIGGER collabadmin_user_credentials_changed ON collabadmin_user;
DROP TRIGGER collabadmin_password_ends_sessions ON collabadmin_user;
DROP FUNCTION collabadmin_password_changed();
DROP FUNCTION collabadmin_credentials_changed();
DROP INDEX collabadmin_session_expiry;
ALTER TABLE collabadmin_session DROP COLUMN last_seen_at;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
