"""collabadmin's own schema is neither served nor tracked: adopting sees the user's tables only.

The adopted fixture (tests/adopt/conftest.py) is a database prepared through
the command line alone; ``collabadmin db upgrade`` put collabadmin's tables
and functions in the schema ``collabadmin`` beside it.
"""

from __future__ import annotations

import httpx

from collabadmin.resources.reflection import adopt_database
from tests.adopt.cli_database import FIXTURE_SCHEMAS, connect, run_cli
from tests.helpers import ok, problem


def test_adopting_collabadmins_schema_too_finds_nothing_of_it(adopted_url: str) -> None:
    with connect(adopted_url) as conn:
        own = conn.execute(
            "SELECT count(*) FROM pg_class WHERE relnamespace = 'collabadmin'::regnamespace"
            " AND relkind = 'r'"
        ).fetchone()
    assert own is not None
    assert own[0] >= 14  # there, beside the fixture
    plain = adopt_database(adopted_url, FIXTURE_SCHEMAS)
    asked = adopt_database(adopted_url, (*FIXTURE_SCHEMAS, "collabadmin"))
    names = [r.name for r in asked.resources] + [name for name, _ in asked.skipped]
    assert names
    assert [n for n in names if "collabadmin" in n] == []
    assert [r.name for r in asked.resources] == [r.name for r in plain.resources]
    assert asked.skipped == plain.skipped


async def test_the_adopted_app_serves_no_resource_of_collabadmins(
    admin: httpx.AsyncClient,
) -> None:
    resources = ok(await admin.get("/api/meta"))["resources"]
    assert resources
    assert [r["name"] for r in resources if "collabadmin" in r["name"]] == []
    problem(await admin.get("/api/r/collabadmin.collabadmin_user"), 404)
    problem(await admin.get("/api/r/collabadmin_user"), 404)


def test_serve_and_track_refuse_collabadmins_schema_with_the_reason(adopted_url: str) -> None:
    served = run_cli(adopted_url, "serve", "--schema", "public", "--schema", "collabadmin")
    assert served.returncode == 1
    assert served.stderr.strip() == (
        "collabadmin: schema collabadmin holds collabadmin's own tables: they are never served"
    )
    for command in ("track", "untrack"):
        refused = run_cli(adopted_url, "db", command, "--all", "--schema", "collabadmin")
        assert refused.returncode == 1
        assert refused.stderr.strip() == (
            "collabadmin: schema collabadmin holds collabadmin's own tables and functions:"
            " they are never tracked nor untracked"
        )
    named = run_cli(adopted_url, "db", "track", "collabadmin.collabadmin_user")
    assert named.returncode == 1
    assert '"collabadmin"."collabadmin_user": not tracked, one of collabadmin\'s own tables' in (
        named.stdout
    )
    # Drafts are tracked by collabadmin itself: db untrack leaves them be.
    kept = run_cli(adopted_url, "db", "untrack", "collabadmin.collabadmin_draft")
    assert kept.returncode == 1
    assert "one of collabadmin's own tables" in kept.stdout
    assert "some tables named could not be untracked" in kept.stderr
    with connect(adopted_url) as conn:
        triggers = conn.execute(
            "SELECT tgname::text FROM pg_trigger"
            " WHERE tgrelid = 'collabadmin.collabadmin_draft'::regclass AND NOT tgisinternal"
            " ORDER BY 1"
        ).fetchall()
    assert [t[0] for t in triggers] == ["collabadmin_capture", "zz_collabadmin_version"]
