"""``collabadmin db``: migrations, and attaching change capture to tables."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any

from collabadmin.cli.common import CliError, database, migrate
from collabadmin.settings import Settings

__all__ = ["add_parsers"]


def cmd_db_upgrade(args: argparse.Namespace) -> None:
    from collabadmin.db.migrate import CORE, EVERYTHING

    settings = Settings.from_env()
    with database(settings) as ready:
        assert ready.database_url is not None
        migrate(ready.database_url, EVERYTHING if args.demo else CORE, ready.app_role)
        print("database is up to date", flush=True)
        _hint_untracked(ready.database_url)


def _hint_untracked(url: str) -> None:
    """Say what adopting the database's own tables takes, when some are not tracked."""
    import psycopg

    from collabadmin.db import track_plan
    from collabadmin.db.engine import libpq_url

    with psycopg.connect(libpq_url(url), autocommit=True) as conn:
        plans = track_plan.plan(conn)
    waiting = [p for p in plans if p.outcome == "track"]
    if waiting:
        print(
            f"{len(waiting)} table(s) of schema public are not tracked (served read-only):"
            " `collabadmin db track --all --dry-run` shows what tracking them would do",
            flush=True,
        )


def cmd_db_track(args: argparse.Namespace) -> None:
    """Attach (or with ``--untrack``, remove) change capture, table by table."""
    _track(args, untrack=False)


def cmd_db_untrack(args: argparse.Namespace) -> None:
    _track(args, untrack=True)


def _track(args: argparse.Namespace, *, untrack: bool) -> None:
    import psycopg

    from collabadmin.db import track_plan, tracking
    from collabadmin.db.engine import libpq_url
    from collabadmin.own import OWN_SCHEMA

    if bool(args.all) == bool(args.tables):
        raise CliError("name the tables to (un)track, or --all")
    if args.schema == OWN_SCHEMA:
        raise CliError(str(tracking.OwnSchemaError("they are never tracked nor untracked")))
    settings = Settings.from_env()
    with database(settings) as ready:
        assert ready.database_url is not None
        try:
            with psycopg.connect(libpq_url(ready.database_url), autocommit=True) as conn:
                # collabadmin_key_part arrived with the capture bodies db track
                # relies on, and the triggers name the functions in their schema.
                if conn.execute(
                    "SELECT to_regprocedure('collabadmin.collabadmin_key_part(text)') IS NULL"
                ).fetchone() == (True,):
                    raise CliError(
                        "collabadmin is not set up (or not up to date) here:"
                        " run `collabadmin db upgrade` first"
                    )
                plans = track_plan.plan(conn, args.tables, schema=args.schema, untrack=untrack)
                if args.dry_run:
                    _print_plans(plans, dry_run=True)
                    return
                track_plan.apply(conn, plans)
        except psycopg.OperationalError as exc:
            reason = str(exc).strip().splitlines()[0] if str(exc) else "connection failed"
            raise CliError(f"cannot reach PostgreSQL: {reason}") from None
    _print_plans(plans, dry_run=False)
    if any(p.error for p in plans):
        raise CliError("some tables could not be changed (see above)")
    if args.tables and any(p.outcome == "refused" for p in plans):
        verb = "untracked" if untrack else "tracked"
        raise CliError(f"some tables named could not be {verb} (see above)")


def _print_plans(plans: Sequence[Any], *, dry_run: bool) -> None:
    if not plans:
        print("no tables found", flush=True)
    for item in plans:
        print(item.describe(dry_run=dry_run), flush=True)
        if dry_run:
            for statement in item.statements:
                print(f"    {statement};", flush=True)
    done = sum(1 for p in plans if p.outcome in ("track", "untrack") and not p.error)
    refused = sum(1 for p in plans if p.outcome == "refused" or p.error)
    verb = "would change" if dry_run else "changed"
    print(f"{verb} {done} table(s), {refused} refused or failed", flush=True)


def add_parsers(sub: Any) -> None:
    db = sub.add_parser("db", help="database tasks")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    upgrade = db_sub.add_parser("upgrade", help="apply migrations")
    upgrade.add_argument("--demo", action="store_true", help="include the demo tables")
    upgrade.set_defaults(func=cmd_db_upgrade)
    for verb, func in (("track", cmd_db_track), ("untrack", cmd_db_untrack)):
        command = db_sub.add_parser(
            verb,
            help=f"{verb} tables: change capture (version, deleted_at, two triggers)"
            if verb == "track"
            else "untrack tables: remove collabadmin's triggers (the columns stay)",
        )
        command.add_argument("tables", nargs="*", metavar="TABLE", help="table (schema.table)")
        command.add_argument("--all", action="store_true", help="every table of the schema")
        command.add_argument("--schema", default="public", help="schema of unqualified names")
        command.add_argument("--dry-run", action="store_true", help="print the SQL, change nothing")
        command.set_defaults(func=func)
