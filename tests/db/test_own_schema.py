"""collabadmin's objects in the schema ``collabadmin``: migrating a deployment, and a fresh one.

A deployment made before ``0013_own_schema`` is built the way it was: both
branches upgraded to their heads of then (``0012_capture_keeps_row_counts``
and the demo), everything in ``public``, then used through plain SQL as the
releases of then used it (users, a session, an API token, tracked writes by
the server role and by psql, a sealed chain, a draft, a workflow run, view
settings). Upgrading it must move everything and lose nothing; what was
written before and after the move must verify as one chain; the server must
work on it with the credentials it issued before; and the downgrade must put
the old layout back exactly.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import psycopg
import pytest
from psycopg import sql
from psycopg.rows import dict_row

from collabadmin.auth.credentials import TOKEN_PREFIX, digest
from collabadmin.auth.passwords import hash_password_sync
from collabadmin.db.engine import libpq_url
from collabadmin.db.migrate import CORE, EVERYTHING, downgrade, upgrade
from collabadmin.demo.app import create_demo_app
from collabadmin.demo.seed import seed_demo
from collabadmin.settings import Settings
from tests.adopt.cli_database import run_cli
from tests.conftest import TEST_SEED, _server_database, anonymous_client
from tests.helpers import ok, patch_record, running

Conn = psycopg.Connection[dict[str, Any]]

BEFORE = "0012_capture_keeps_row_counts"
DEMO_HEAD = "0008_demo_sort_desc"
# The heads after every migration: the demo's, which depends on the core's
# 0017_live_views, and the core's own since (0020_import).
HEADS = {"0018_demo_course_overview", "0020_import"}
PASSWORD = "a long enough password"

OWN_TABLES = {
    "collabadmin_alembic_version",
    "collabadmin_api_token",
    "collabadmin_change",
    "collabadmin_draft",
    "collabadmin_draft_event",
    "collabadmin_login_attempt",
    "collabadmin_retention_pass",
    "collabadmin_seal",
    "collabadmin_seal_state",
    "collabadmin_session",
    "collabadmin_shared_view",
    "collabadmin_user",
    "collabadmin_verify_state",
    "collabadmin_view_pref",
    "collabadmin_workflow_run",
}
# Made by migrations after the move, in the own schema from the start
# (0016_broker_position, 0017_live_views, 0018_demo_course_overview,
# 0019_bulk_jobs, 0020_import).
LATER_TABLES = {
    "collabadmin_broker",
    "collabadmin_import_preview",
    "collabadmin_job",
    "collabadmin_live_change",
    "collabadmin_live_state",
    "collabadmin_live_course_overview",
    "collabadmin_live_catalogue_figures",
}
OWN_FUNCTIONS = {
    "collabadmin_app_role",
    "collabadmin_append_only",
    "collabadmin_bump_version",
    "collabadmin_capture",
    "collabadmin_chain_hash",
    "collabadmin_change_content",
    "collabadmin_credentials_changed",
    "collabadmin_key_part",
    "collabadmin_password_changed",
    "collabadmin_prune",
    "collabadmin_seal",
    "collabadmin_verify",
}
LATER_FUNCTIONS = {"collabadmin_live_stamp", "collabadmin_live_notify"}
LATER_TRIGGERS = {
    "collabadmin_live_change.collabadmin_live_stamp",
    "collabadmin_live_change.collabadmin_live_notify",
}
DEMO_TABLES = {"universities", "categories", "instructors", "courses", "course_instructors"}
DEMO_TABLES |= {"sessions"}

# Everything of interest in the two schemas, as text that does not depend on
# OIDs: relations (with their kind and privileges), functions (with their
# settings), triggers (with the function they call), sequences' owners.
LAYOUT = r"""
SELECT 'relation' AS what, n.nspname AS schema, c.relname::text AS name,
       c.relkind::text || ' ' || coalesce(c.relacl::text, '') AS detail
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname IN ('public', 'collabadmin')
UNION ALL
SELECT 'function', n.nspname,
       p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')',
       p.prosecdef::text || ' ' || coalesce(array_to_string(p.proconfig, ';'), '')
       || ' ' || coalesce(p.proacl::text, '')
  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
 WHERE n.nspname IN ('public', 'collabadmin')
UNION ALL
SELECT 'trigger', n.nspname, c.relname || '.' || t.tgname, t.tgfoid::regprocedure::text
  FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE NOT t.tgisinternal AND n.nspname IN ('public', 'collabadmin')
UNION ALL
SELECT 'type', n.nspname, t.typname::text, t.typtype::text
  FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
 WHERE n.nspname IN ('public', 'collabadmin')
UNION ALL
SELECT 'schema', n.nspname, n.nspname, coalesce(n.nspacl::text, '')
  FROM pg_namespace n WHERE n.nspname = 'collabadmin'
"""

# The rows of every table of collabadmin's and of the demo, hashed.
# Each row as JSON without the columns later migrations add (NULL in old rows:
# the draft's import batch, 0020_import), so "kept" means every value kept.
ROWS = (
    "SELECT count(*) AS n,"
    " md5(coalesce(string_agg(j::text, ',' ORDER BY j::text), '')) AS h"
    " FROM (SELECT to_jsonb(x) - 'batch' AS j FROM {} x) rows"
)


def _connect(url: str) -> Conn:
    return psycopg.connect(libpq_url(url), autocommit=True, row_factory=dict_row)


def _app_role(conn: Conn, schema: str) -> str:
    row = conn.execute(
        sql.SQL("SELECT {}.collabadmin_app_role()::text AS r").format(sql.Identifier(schema))
    ).fetchone()
    assert row is not None
    return str(row["r"])


def layout(url: str) -> set[tuple[str, str, str, str]]:
    """The catalogue of both schemas, the server role's name written as APP."""
    with _connect(url) as conn:
        schema = "collabadmin" if _has_schema(conn) else "public"
        role = _app_role(conn, schema)
        return {
            (r["what"], r["schema"], r["name"], r["detail"].replace(role, "APP"))
            for r in conn.execute(LAYOUT)
        }


def _has_schema(conn: Conn) -> bool:
    row = conn.execute("SELECT to_regnamespace('collabadmin') IS NOT NULL AS s").fetchone()
    return bool(row and row["s"])


def rows(url: str, schema: str) -> dict[str, tuple[int, str]]:
    """Every table's rows (but the version table's), hashed, by table name."""
    with _connect(url) as conn:
        found = {}
        for table in sorted((OWN_TABLES - {"collabadmin_alembic_version"}) | DEMO_TABLES):
            where = schema if table.startswith("collabadmin_") else "public"
            row = conn.execute(
                sql.SQL(ROWS).format(sql.Identifier(where, table))  # type: ignore[arg-type]
            ).fetchone()
            assert row is not None
            found[table] = (row["n"], row["h"])
        return found


def in_public(url: str) -> list[str]:
    """collabadmin's relations, functions and types left in ``public``."""
    with _connect(url) as conn:
        return [
            r["name"]
            for r in conn.execute(
                "SELECT relname::text AS name FROM pg_class"
                " WHERE relnamespace = 'public'::regnamespace AND relname LIKE '%collabadmin%'"
                " UNION ALL SELECT proname::text FROM pg_proc"
                " WHERE pronamespace = 'public'::regnamespace AND proname LIKE '%collabadmin%'"
                " UNION ALL SELECT typname::text FROM pg_type"
                " WHERE typnamespace = 'public'::regnamespace AND typname LIKE '%collabadmin%'"
            )
        ]


def names_in(url: str, schema: str, kinds: str) -> set[str]:
    with _connect(url) as conn:
        return {
            r["relname"]
            for r in conn.execute(
                "SELECT relname::text FROM pg_class"
                " WHERE relnamespace = to_regnamespace(%s) AND relkind = ANY(%s)",
                (schema, list(kinds)),
            )
        }


def functions_in(url: str, schema: str) -> set[str]:
    with _connect(url) as conn:
        return {
            r["proname"]
            for r in conn.execute(
                "SELECT proname::text FROM pg_proc WHERE pronamespace = to_regnamespace(%s)",
                (schema,),
            )
        }


@pytest.fixture
def new_database(database_url: str) -> Iterator[str]:
    """An empty database of its own on the tests' server."""
    yield from _server_database(database_url)


@pytest.fixture
def other_database(database_url: str) -> Iterator[str]:
    yield from _server_database(database_url)


@dataclass(frozen=True)
class Deployment:
    """What a deployment made before the move handed out: credentials still in use."""

    url: str
    editor_id: int
    session: str  # the cookie's secret
    csrf: str
    token: str  # a bearer token's secret


def deploy_before_the_move(url: str) -> Deployment:
    """Both branches at their heads of before 0013, used as those releases used them."""
    upgrade(url, BEFORE)
    upgrade(url, DEMO_HEAD)
    seed_demo(libpq_url(url), TEST_SEED)
    session, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with _connect(url) as conn:
        assert not _has_schema(conn)
        editor = conn.execute(
            "INSERT INTO collabadmin_user (username, display_name, password_hash, roles)"
            " VALUES ('editor', 'Editor', %s, '{editor}') RETURNING id",
            (hash_password_sync(PASSWORD),),
        ).fetchone()
        assert editor is not None
        editor_id = int(editor["id"])
        conn.execute(
            "INSERT INTO collabadmin_session (id, user_id, csrf_token, expires_at)"
            " VALUES (%s, %s, %s, now() + interval '1 day')",
            (digest(session), editor_id, csrf),
        )
        conn.execute(
            "INSERT INTO collabadmin_api_token (user_id, name, token_hash)"
            " VALUES (%s, 'deploy', %s)",
            (editor_id, digest(token)),
        )
        # A write by the server, speaking for the editor.
        with conn.transaction():
            role = sql.Identifier(_app_role(conn, "public"))
            conn.execute(sql.SQL("SET LOCAL ROLE {}").format(role))
            conn.execute(
                "SELECT set_config('collabadmin.actor_id', %s, true),"
                " set_config('collabadmin.actor_name', 'Editor', true),"
                " set_config('collabadmin.source', 'api', true)",
                (str(editor_id),),
            )
            conn.execute("UPDATE courses SET title = 'Before the move' WHERE id = 1")
        conn.execute("UPDATE courses SET description = 'psql, before the move' WHERE id = 2")
        draft = conn.execute(
            "INSERT INTO collabadmin_draft (resource, pk, base_version, data, author_id,"
            " author_name) VALUES ('courses', '3', 1, '{\"title\": \"Drafted\"}', %s, 'Editor')"
            " RETURNING id",
            (editor_id,),
        ).fetchone()
        assert draft is not None
        conn.execute(
            "INSERT INTO collabadmin_draft_event (draft_id, actor_id, actor_name, action,"
            " to_status) VALUES (%s, %s, 'Editor', 'create', 'draft')",
            (draft["id"], editor_id),
        )
        conn.execute(
            "INSERT INTO collabadmin_workflow_run (workflow, subject_resource, subject_pk,"
            " started_by, started_by_name) VALUES ('launch-course', 'courses', '4', %s, 'Editor')",
            (editor_id,),
        )
        conn.execute(
            "INSERT INTO collabadmin_view_pref (user_id, resource, config)"
            " VALUES (%s, 'courses', '{\"sort\": \"title\"}')",
            (editor_id,),
        )
        conn.execute(
            "INSERT INTO collabadmin_shared_view (resource, name, config, created_by)"
            " VALUES ('courses', 'Open ones', '{\"filters\": {}}', %s)",
            (editor_id,),
        )
        conn.execute(
            "INSERT INTO collabadmin_login_attempt (kind, key, attempts, window_ends, admitted_at)"
            " VALUES ('account', 'editor', 1, now() + interval '1 hour', now())"
        )
        conn.execute("SELECT collabadmin_seal()")
        checked = conn.execute("SELECT * FROM collabadmin_verify(true)").fetchone()
        assert checked is not None
        assert checked["first_bad"] is None
        assert checked["checked"] > TEST_SEED.courses  # the seed is in the log
    return Deployment(url, editor_id, session, csrf, token)


def all_triggers(url: str) -> dict[str, int]:
    """Every trigger (the demo's and collabadmin's own) and the OID of the function it calls."""
    with _connect(url) as conn:
        return {
            f"{r['tab']}.{r['tgname']}": int(r["tgfoid"])
            for r in conn.execute(
                "SELECT c.relname::text AS tab, t.tgname::text AS tgname, t.tgfoid::int AS tgfoid"
                " FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid"
                " JOIN pg_namespace n ON n.oid = c.relnamespace"
                " WHERE NOT t.tgisinternal AND n.nspname IN ('public', 'collabadmin')"
            )
        }


def test_a_deployment_made_before_the_move_keeps_everything_and_its_triggers(
    new_database: str,
) -> None:
    url = new_database
    deploy_before_the_move(url)
    kept = rows(url, "public")
    triggers = all_triggers(url)
    # Two per demo table, two on the drafts and the runs, four guarding the
    # log and its seals, seven on the credentials.
    assert len(triggers) == 2 * len(DEMO_TABLES) + 4 + 4 + 7

    upgrade(url, EVERYTHING)

    assert in_public(url) == []
    assert names_in(url, "collabadmin", "r") == OWN_TABLES | LATER_TABLES
    assert names_in(url, "collabadmin", "S") == {
        f"collabadmin_{t}_id_seq"
        for t in ("api_token", "change", "draft", "draft_event", "shared_view", "user")
    } | {
        "collabadmin_workflow_run_id_seq",
        # Made later (0019_bulk_jobs, 0020_import).
        "collabadmin_job_id_seq",
        "collabadmin_import_preview_id_seq",
        "collabadmin_draft_batch_seq",
    }
    assert functions_in(url, "collabadmin") == OWN_FUNCTIONS | LATER_FUNCTIONS
    assert names_in(url, "public", "r") == DEMO_TABLES
    assert rows(url, "collabadmin") == kept
    # No trigger was touched: they call the same functions, by OID, which
    # now live in collabadmin's schema.
    after = all_triggers(url)
    assert set(after) - set(triggers) == LATER_TRIGGERS
    assert {name: after[name] for name in triggers} == triggers
    with _connect(url) as conn:
        called = {
            r["f"]
            for r in conn.execute(
                "SELECT DISTINCT t.tgfoid::regprocedure::text AS f FROM pg_trigger t"
                " JOIN pg_class c ON c.oid = t.tgrelid"
                " WHERE c.relnamespace = 'public'::regnamespace AND NOT t.tgisinternal"
            )
        }
        assert called == {
            "collabadmin.collabadmin_bump_version()",
            "collabadmin.collabadmin_capture()",
        }
        versions = {r["version_num"] for r in conn.execute(
            "SELECT version_num FROM collabadmin.collabadmin_alembic_version"
        )}  # fmt: skip
        assert versions == HEADS
        # Every moved function resolves its names in the new schema.
        settings = {
            r["proconfig"]
            for r in conn.execute(
                "SELECT array_to_string(proconfig, ';') AS proconfig FROM pg_proc"
                " WHERE pronamespace = 'collabadmin'::regnamespace"
                " AND proname <> 'collabadmin_change_content'"
            )
        }
        assert settings == {"search_path=pg_catalog, collabadmin, pg_temp"}
        # The chain's content also carries its own time zone (0014).
        content = conn.execute(
            "SELECT proconfig FROM pg_proc WHERE proname = 'collabadmin_change_content'"
        ).fetchone()
        assert content is not None
        assert content["proconfig"][0] == "search_path=pg_catalog, collabadmin, pg_temp"
        assert content["proconfig"][1].startswith("TimeZone=")


def _last_entry(conn: Conn) -> dict[str, Any]:
    """The last change to a course (the checklist evaluator may log its runs' changes after it)."""
    row = conn.execute(
        "SELECT resource, pk, op, actor_id, actor_name, source, db_role, diff"
        " FROM collabadmin.collabadmin_change WHERE resource = 'courses'"
        " ORDER BY id DESC LIMIT 1"
    ).fetchone()
    assert row is not None
    return row


async def test_after_the_move_capture_the_server_role_and_the_chain_work_as_before(
    new_database: str,
) -> None:
    deployed = deploy_before_the_move(new_database)
    url = deployed.url
    upgrade(url, EVERYTHING)
    with _connect(url) as conn:
        # A client of the user's own, as psql: its search_path knows nothing of collabadmin.
        path = conn.execute("SHOW search_path").fetchone()
        assert path is not None
        assert "collabadmin" not in path["search_path"]
        conn.execute("UPDATE courses SET description = 'psql, after the move' WHERE id = 2")
        entry = _last_entry(conn)
        assert (entry["resource"], entry["pk"], entry["op"], entry["source"]) == (
            "courses",
            "2",
            "update",
            "db",
        )
        assert entry["db_role"] == "postgres"
        assert entry["diff"]["description"]["new"] == "psql, after the move"
        role = _app_role(conn, "collabadmin")
        # The server role still does its work, and still cannot write the log.
        with conn.transaction():
            conn.execute(sql.SQL("SET LOCAL ROLE {}").format(sql.Identifier(role)))
            user = conn.execute(
                "SELECT username FROM collabadmin.collabadmin_user WHERE id = %s",
                (deployed.editor_id,),
            ).fetchone()
            assert user == {"username": "editor"}
            conn.execute("SELECT collabadmin.collabadmin_seal()")
        for forbidden in (
            "INSERT INTO collabadmin.collabadmin_change (resource, pk, op, source, version, diff)"
            " VALUES ('courses', '1', 'update', 'api', 9, '{}')",
            "UPDATE collabadmin.collabadmin_seal_state SET last_hash = 'x'",
            "SELECT * FROM collabadmin.collabadmin_retention_pass",
            "SELECT * FROM collabadmin.collabadmin_alembic_version",
            "SELECT collabadmin.collabadmin_prune(1)",
        ):
            with conn.transaction(force_rollback=True):
                conn.execute(sql.SQL("SET LOCAL ROLE {}").format(sql.Identifier(role)))
                with pytest.raises(psycopg.errors.InsufficientPrivilege):
                    conn.execute(forbidden)

    # The server, on the credentials it issued before the move.
    application = create_demo_app(Settings(database_url=url, pool_size=2))
    async with running(application):
        bearer = {"Authorization": f"Bearer {deployed.token}"}
        async with anonymous_client(application, bearer) as client:
            assert ok(await client.get("/api/auth/me"))["user"]["username"] == "editor"
            drafts = ok(await client.get("/api/drafts"))["items"]
            assert [d["data"] for d in drafts] == [{"title": "Drafted"}]
            # Course 5 is as the seed left it, at version 1.
            ok(await patch_record(client, "courses", 5, {"title": "After the move"}, if_match=1))
        async with anonymous_client(application) as browser:
            browser.cookies.set("collabadmin_session", deployed.session)
            me = ok(await browser.get("/api/auth/me"))
            assert (me["user"]["username"], me["csrf_token"]) == ("editor", deployed.csrf)
    with _connect(url) as conn:
        entry = _last_entry(conn)
        assert (entry["pk"], entry["source"], entry["actor_id"], entry["db_role"]) == (
            "5",
            "api",
            deployed.editor_id,
            role,
        )
        # One chain over the entries written before the move and after it.
        conn.execute("SELECT collabadmin.collabadmin_seal()")
        checked = conn.execute("SELECT * FROM collabadmin.collabadmin_verify(true)").fetchone()
        total = conn.execute("SELECT count(*) AS n FROM collabadmin.collabadmin_change").fetchone()
    assert checked is not None
    assert total is not None
    assert checked == {"checked": total["n"], "first_bad": None}
    verified = run_cli(url, "audit", "verify")
    assert verified.returncode == 0, verified.stderr
    assert f"audit log verified: {total['n']} entries, chain intact" in verified.stdout


def test_the_downgrade_puts_the_old_layout_back_and_upgrading_again_works(
    new_database: str,
) -> None:
    url = new_database
    deploy_before_the_move(url)
    old_layout, kept = layout(url), rows(url, "public")
    upgrade(url, EVERYTHING)
    moved = layout(url)

    downgrade(url, BEFORE)

    assert layout(url) == old_layout
    assert rows(url, "public") == kept
    with _connect(url) as conn:
        assert not _has_schema(conn)
        versions = {r["version_num"] for r in conn.execute(
            "SELECT version_num FROM public.collabadmin_alembic_version"
        )}  # fmt: skip
        assert versions == {BEFORE, DEMO_HEAD}
        # As the release of before would find it: capture and the chain work.
        conn.execute("UPDATE courses SET description = 'psql, moved back' WHERE id = 2")
        entry = conn.execute(
            "SELECT pk, source FROM public.collabadmin_change ORDER BY id DESC LIMIT 1"
        ).fetchone()
        assert entry == {"pk": "2", "source": "db"}
        conn.execute("SELECT public.collabadmin_seal()")
        checked = conn.execute("SELECT * FROM public.collabadmin_verify(true)").fetchone()
        assert checked is not None
        assert checked["first_bad"] is None
        # A schema an operator made beforehand (with grants of its own) is used as it is.
        conn.execute("CREATE SCHEMA collabadmin")

    upgrade(url, EVERYTHING)
    assert layout(url) == moved
    assert in_public(url) == []


def test_fresh_databases_get_the_migrated_layout_whichever_branch_runs_first(
    new_database: str, other_database: str
) -> None:
    # The demo after 0013: core first, as `db upgrade` then `demo` do it.
    upgrade(new_database, CORE)
    upgrade(new_database, EVERYTHING)
    # The demo before 0013, then the move: how an existing deployment gets there.
    upgrade(other_database, BEFORE)
    upgrade(other_database, DEMO_HEAD)
    upgrade(other_database, EVERYTHING)

    fresh, migrated = layout(new_database), layout(other_database)
    assert fresh == migrated
    assert in_public(new_database) == []
    assert {
        name for what, schema, name, _ in fresh if schema == "public" and what == "trigger"
    } == {
        f"{table}.{trigger}"
        for table in DEMO_TABLES
        for trigger in ("collabadmin_capture", "zz_collabadmin_version")
    }
    # The server role may use the schema; its log is read-only, the private tables closed.
    privileges = {name: detail for what, schema, name, detail in fresh if what == "relation"}
    assert "APP=r/" in privileges["collabadmin_change"]
    assert "APP=arwd/" in privileges["collabadmin_user"]
    assert "APP" not in privileges["collabadmin_retention_pass"]
    assert "APP" not in privileges["collabadmin_alembic_version"]
    schema_acl = next(detail for what, _, _, detail in fresh if what == "schema")
    assert "APP=U/" in schema_acl
