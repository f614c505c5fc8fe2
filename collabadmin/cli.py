"""The ``collabadmin`` command: demo, serve, db and user.

Failures a user can fix (no PostgreSQL, a bad URL, a taken port) end with one
line on stderr and exit code 1, never a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import socket
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

from collabadmin.ops.logs import LOG_FORMATS, configure_logging
from collabadmin.settings import Settings

__all__ = ["main"]

log = logging.getLogger("collabadmin.cli")


class CliError(Exception):
    """A failure explained in one line."""


@contextmanager
def _database(settings: Settings) -> Iterator[Settings]:
    """Settings with a database URL: the configured one, or an embedded server's."""
    if settings.database_url:
        yield settings
        return
    from collabadmin.db.embedded import EmbeddedPostgres, EmbeddedPostgresError

    server = EmbeddedPostgres(settings.data_dir)
    try:
        url = server.start()
    except EmbeddedPostgresError as exc:
        raise CliError(str(exc)) from None
    print(f"embedded PostgreSQL running in {settings.data_dir}", flush=True)
    try:
        yield replace(settings, database_url=url)
    finally:
        server.stop()
        print("embedded PostgreSQL stopped", flush=True)


def _migrate(url: str, target: str, app_role: str | None = None) -> None:
    from sqlalchemy.exc import OperationalError, ProgrammingError

    from collabadmin.db.migrate import upgrade
    from collabadmin.db.roles import DatabaseRoleError

    try:
        upgrade(url, target, app_role=app_role)
    except OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else "connection failed"
        raise CliError(f"cannot reach PostgreSQL: {reason}") from None
    except ProgrammingError as exc:  # e.g. the owner may not create the server role
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise CliError(f"cannot migrate: {reason}") from None
    except DatabaseRoleError as exc:
        raise CliError(str(exc)) from None


def _check_port(host: str, port: int) -> None:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            raise CliError(f"cannot listen on {host}:{port}: {exc.strerror}") from None


def _serve(app: Any, host: str, port: int, log_format: str = "text") -> None:
    """Run uvicorn until SIGINT/SIGTERM, then return so callers can clean up.

    uvicorn re-raises a captured signal after shutting down, which would kill
    the process before the embedded PostgreSQL is stopped; this server keeps
    the signal to itself.
    """
    import uvicorn

    class Server(uvicorn.Server):
        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            wanted = (signal.SIGINT, signal.SIGTERM)
            previous = {sig: signal.signal(sig, self.handle_exit) for sig in wanted}
            try:
                yield
            finally:
                for sig, handler in previous.items():
                    signal.signal(sig, handler)

    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level="warning",
        lifespan="on",
        ws_max_size=1 << 20,
        # Change frames are small and sent to many sockets; compressing each
        # one per socket cost 30% of the server's CPU under fan-out load.
        ws_per_message_deflate=False,
        # uvicorn would believe X-Forwarded-For from any peer on 127.0.0.1;
        # the app believes it only from COLLABADMIN_TRUSTED_PROXIES.
        proxy_headers=False,
        # JSON logs: uvicorn's records go to the root handler like everyone's.
        **_uvicorn_logging(log_format),
    )
    Server(config).run()


def _uvicorn_logging(log_format: str) -> dict[str, Any]:
    return {"log_config": None} if log_format == "json" else {}


def cmd_demo(args: argparse.Namespace) -> None:
    from collabadmin.db.engine import libpq_url
    from collabadmin.db.migrate import EVERYTHING
    from collabadmin.demo.app import create_demo_app
    from collabadmin.demo.seed import demo_password, seed_demo

    settings = Settings.from_env()
    _check_port(args.host, args.port)
    with _database(settings) as ready:
        assert ready.database_url is not None
        _migrate(ready.database_url, EVERYTHING, ready.app_role)
        if not args.no_seed:
            from collabadmin.ops.progress import progress

            with progress() as reporter:
                loaded = seed_demo(
                    libpq_url(_sqlalchemy_url(ready.database_url)),
                    progress=lambda step: reporter.stage(f"seeding {step}"),
                )
            if loaded:
                print("demo data loaded", flush=True)
        password, generated = demo_password(os.environ.get("COLLABADMIN_DEMO_PASSWORD"))
        asyncio.run(_seed_users(ready, password))
        app = create_demo_app(ready)
        shown = "localhost" if args.host in ("0.0.0.0", "127.0.0.1") else args.host  # noqa: S104
        url = f"http://{shown}:{args.port}/"
        print(f"collabadmin demo at {url}", flush=True)
        users = " ".join(["admin", "editor", "instructor", "reviewer", "auditor", "viewer"])
        if generated:
            print(f"demo users: {users}; password: {password}", flush=True)
        else:
            print(f"demo users: {users}; password from COLLABADMIN_DEMO_PASSWORD", flush=True)
        _serve(app, args.host, args.port, args.log_format)


async def _seed_users(settings: Settings, password: str) -> None:
    from collabadmin.db.engine import Database
    from collabadmin.demo.seed import seed_users

    assert settings.database_url is not None
    db = Database(settings.database_url, pool_size=1)
    try:
        await seed_users(db, password)
    finally:
        await db.dispose()


def _sqlalchemy_url(url: str) -> str:
    from collabadmin.db.engine import normalise_url

    return normalise_url(url)


def load_config(path: str | None) -> Any:
    """The config file, checked: ``--config``, else COLLABADMIN_CONFIG, else
    ``collabadmin.toml`` here if present.

    The chosen path is put in COLLABADMIN_CONFIG so that the app factory and
    worker processes read the same file.
    """
    from collabadmin.config import ConfigError
    from collabadmin.config import load_config as read

    chosen = path or os.environ.get("COLLABADMIN_CONFIG") or None
    try:
        config = read(chosen)
    except ConfigError as exc:
        raise CliError(str(exc)) from None
    if chosen is None and os.path.isfile("collabadmin.toml"):
        chosen = "collabadmin.toml"
    os.environ["COLLABADMIN_CONFIG"] = os.path.abspath(chosen) if chosen else ""
    return config


def cmd_serve(args: argparse.Namespace) -> None:
    from collabadmin.asgi import AppSpecError, load_factory
    from collabadmin.config import ConfigError

    spec = args.app or os.environ.get("COLLABADMIN_APP")
    if spec and args.config:
        raise CliError("--config describes a database served without --app; drop one of them")
    shown = spec
    if not spec:
        # No application code: serve the database as it is, refined by the
        # config file if there is one.
        _serve_adopted(args)
        return
    try:
        factory = load_factory(spec)
    except AppSpecError as exc:
        raise CliError(str(exc)) from None
    settings = Settings.from_env()
    _check_port(args.host, args.port)
    with _database(settings) as ready:
        assert ready.database_url is not None
        _check_server_role(ready.database_url)
        print(f"collabadmin serving {shown} on http://{args.host}:{args.port}/", flush=True)
        if args.workers > 1:
            assert ready.database_url is not None
            _serve_workers(
                spec,
                ready.database_url,
                args.host,
                args.port,
                args.workers,
                log_format=args.log_format,
            )
        else:
            try:
                app = factory(ready)
            except ConfigError as exc:
                raise CliError(str(exc)) from None
            _serve(app, args.host, args.port, args.log_format)


ADOPTED_APP = "collabadmin.adopt.app:create_adopted_app"


def _serve_adopted(args: argparse.Namespace) -> None:
    """Serve the database in DATABASE_URL as it is; say what is served and what is not."""
    import time

    import psycopg

    from collabadmin.adopt.app import SCHEMAS_VARIABLE, adopt, create_adopted_app
    from collabadmin.config import ConfigError
    from collabadmin.db.own import OWN_SCHEMA

    settings = Settings.from_env()
    if not settings.database_url:
        raise CliError(
            "set DATABASE_URL to the database to serve (or name an application with --app)"
        )
    config = load_config(args.config)  # also names it to the workers (COLLABADMIN_CONFIG)
    config_path = os.environ.get("COLLABADMIN_CONFIG")
    shown = f"the database as {config_path} describes it" if config_path else "the database"
    if OWN_SCHEMA in (args.schema or ()):
        raise CliError(f"schema {OWN_SCHEMA} holds collabadmin's own tables: they are never served")
    if args.schema:
        os.environ[SCHEMAS_VARIABLE] = ",".join(args.schema)  # workers read it too
    _check_port(args.host, args.port)
    _check_server_role(settings.database_url)
    started = time.perf_counter()
    try:
        adoption = adopt(settings, config=config)
        app = None if args.workers > 1 else create_adopted_app(settings, adoption, config)
    except psycopg.OperationalError as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc) else "connection failed"
        raise CliError(f"cannot reach PostgreSQL: {reason}") from None
    except (ConfigError, ValueError) as exc:
        raise CliError(str(exc)) from None
    for line in adoption.summary():
        print(line, flush=True)
    elapsed = time.perf_counter() - started
    print(
        f"adopted {len(adoption.resources)} resources ({len(adoption.skipped)} skipped)"
        f" in {elapsed:.2f} s",
        flush=True,
    )
    if not adoption.resources:
        print("nothing to serve yet: see docs/adopting.md", flush=True)
    where = settings.database_url.rsplit("@", 1)[-1]
    print(f"collabadmin serving {shown} ({where}) on http://{args.host}:{args.port}/", flush=True)
    if args.workers > 1:
        _serve_workers(
            ADOPTED_APP,
            settings.database_url,
            args.host,
            args.port,
            args.workers,
            log_format=args.log_format,
        )
    else:
        assert app is not None
        _serve(app, args.host, args.port, args.log_format)


def _check_server_role(url: str) -> None:
    """Fail in one line, before serving, if the server could not work as its role."""
    import psycopg

    from collabadmin.db.engine import libpq_url
    from collabadmin.db.roles import DatabaseRoleError, server_role

    try:
        asyncio.run(server_role(libpq_url(url)))
    except DatabaseRoleError as exc:
        raise CliError(str(exc)) from None
    except psycopg.OperationalError as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc) else "connection failed"
        raise CliError(f"cannot reach PostgreSQL: {reason}") from None


def _serve_workers(
    spec: str, database_url: str, host: str, port: int, workers: int, *, log_format: str
) -> None:
    """Several worker processes on one socket, each a full server with its own pool."""
    import uvicorn
    from uvicorn.supervisors import Multiprocess

    os.environ["COLLABADMIN_APP"] = spec
    os.environ["DATABASE_URL"] = database_url
    os.environ["COLLABADMIN_LOG_FORMAT"] = log_format  # workers configure their own logging
    config = uvicorn.Config(
        "collabadmin.asgi:app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="warning",
        lifespan="on",
        ws_max_size=1 << 20,
        ws_per_message_deflate=False,
        proxy_headers=False,  # see _serve
        **_uvicorn_logging(log_format),
    )
    Multiprocess(config, sockets=[config.bind_socket()]).run()


def cmd_db_upgrade(args: argparse.Namespace) -> None:
    from collabadmin.db.migrate import CORE, EVERYTHING

    settings = Settings.from_env()
    with _database(settings) as ready:
        assert ready.database_url is not None
        _migrate(ready.database_url, EVERYTHING if args.demo else CORE, ready.app_role)
        print("database is up to date", flush=True)
        _hint_untracked(ready.database_url)


def _hint_untracked(url: str) -> None:
    """Say what adopting the database's own tables takes, when some are not tracked."""
    import psycopg

    from collabadmin.db import tracking
    from collabadmin.db.engine import libpq_url

    with psycopg.connect(libpq_url(url), autocommit=True) as conn:
        plans = tracking.plan(conn)
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

    from collabadmin.db import tracking
    from collabadmin.db.engine import libpq_url
    from collabadmin.db.own import OWN_SCHEMA

    if bool(args.all) == bool(args.tables):
        raise CliError("name the tables to (un)track, or --all")
    if args.schema == OWN_SCHEMA:
        raise CliError(str(tracking.OwnSchemaError("they are never tracked nor untracked")))
    settings = Settings.from_env()
    with _database(settings) as ready:
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
                plans = tracking.plan(conn, args.tables, schema=args.schema, untrack=untrack)
                if args.dry_run:
                    _print_plans(plans, dry_run=True)
                    return
                tracking.apply(conn, plans)
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


def cmd_user_create(args: argparse.Namespace) -> None:
    password = sys.stdin.readline().rstrip("\n") if args.password_stdin else None
    if args.password_stdin and not password:
        raise CliError("no password on standard input")
    settings = Settings.from_env()
    with _database(settings) as ready:
        asyncio.run(_create_user(ready, args.name, password, args.role, args.display_name))
        print(f"user {args.name} saved with roles {', '.join(sorted(set(args.role)))}")


async def _create_user(
    settings: Settings, name: str, password: str | None, roles: list[str], display: str | None
) -> None:
    import psycopg

    from collabadmin.auth.users import create_user
    from collabadmin.db.engine import Database

    assert settings.database_url is not None
    db = Database(settings.database_url, pool_size=1)
    try:
        async with db.connection() as tx:
            await create_user(tx, name, password, roles, display_name=display, replace=True)
    except ValueError as exc:
        raise CliError(str(exc)) from None
    except psycopg.Error as exc:
        raise CliError(f"cannot save the user: {type(exc).__name__}") from None
    finally:
        await db.dispose()


def cmd_init(args: argparse.Namespace) -> None:
    """Write a config file from the live schema, for the user to edit."""
    from pathlib import Path

    from collabadmin.config import write_config
    from collabadmin.resources.resource import reflect_resources

    target = Path(args.config or "collabadmin.toml")
    if target.exists() and not args.force:
        raise CliError(f"{target} exists; pass --force to overwrite it")
    settings = Settings.from_env()
    with _database(settings) as ready:
        assert ready.database_url is not None
        try:
            resources = reflect_resources(ready.database_url)
        except ValueError as exc:
            raise CliError(f"cannot reflect the database: {exc}") from None
    try:
        target.write_text(write_config(resources), encoding="utf-8")
    except OSError as exc:
        raise CliError(f"cannot write {target}: {exc.strerror}") from None
    print(f"wrote {target}: {len(resources)} resources; edit it, then `collabadmin serve`")


def cmd_audit_verify(args: argparse.Namespace) -> None:
    """Seal, then recompute the whole chain; exit 2 and name the entry if it is broken.

    With ``--anchors FILE`` (JSON lines as ``GET /api/audit/head`` answers
    them, kept where the database's owner cannot write), also prove the
    chain still passes through every kept head.
    """
    from pathlib import Path

    from collabadmin.audit.chain import HeadCheck, check_heads, parse_heads, verify
    from collabadmin.db.engine import Database
    from collabadmin.ops.progress import progress

    heads = None
    if args.anchors:
        try:
            heads = parse_heads(Path(args.anchors).read_text(encoding="utf-8").splitlines())
        except OSError as exc:
            raise CliError(f"cannot read {args.anchors}: {exc.strerror}") from None
        except ValueError as exc:
            raise CliError(f"{args.anchors}: {exc}") from None
    settings = Settings.from_env()
    with _database(settings) as ready:
        url = ready.database_url
        assert url is not None

        async def run() -> tuple[bool, list[str]]:
            db = Database(url, pool_size=1)
            checked: HeadCheck | None = None
            try:
                with progress() as reporter:
                    reporter.stage("sealing and verifying the hash chain")
                    result = await verify(db, whole=True)
                    if heads is not None:
                        reporter.stage("comparing the kept heads")
                        checked = await check_heads(db, heads)
            finally:
                await db.dispose()
            lines = []
            if result.ok:
                lines.append(f"audit log verified: {result.checked} entries, chain intact")
            else:
                where = (
                    "the end of the chain"
                    if result.first_bad == -1
                    else f"entry {result.first_bad}"
                )
                lines.append(f"audit log BROKEN at {where} (after {result.checked} checked)")
            if checked is not None:
                lines.extend(f"audit log BROKEN: {failure}" for failure in checked.failures)
                pruned = (
                    f"; {checked.pruned} older than the retention anchor" if checked.pruned else ""
                )
                verdict = "all match" if checked.ok else f"{len(checked.failures)} do not match"
                lines.append(f"kept heads: {checked.matched} matched{pruned}; {verdict}")
            return result.ok and (checked is None or checked.ok), lines

        ok, messages = asyncio.run(run())
    for message in messages:
        print(message, flush=True)
    if not ok:
        raise SystemExit(2)


def cmd_audit_prune(args: argparse.Namespace) -> None:
    """Archive and remove entries before a date, keeping the chain verifiable."""
    import datetime as dt
    from pathlib import Path

    import psycopg

    from collabadmin.audit.retention import prune_to_file
    from collabadmin.db.engine import libpq_url
    from collabadmin.ops.progress import progress

    try:
        before = dt.datetime.fromisoformat(args.before)
    except ValueError:
        raise CliError("--before takes an ISO 8601 date, e.g. 2026-01-01") from None
    if before.tzinfo is None:
        before = before.replace(tzinfo=dt.UTC)
    settings = Settings.from_env()
    with _database(settings) as ready:
        assert ready.database_url is not None
        archive = Path(args.archive) if args.archive else None
        try:
            with progress() as reporter:
                result = prune_to_file(libpq_url(ready.database_url), before, archive, reporter)
        except psycopg.errors.InsufficientPrivilege:
            raise CliError(
                "pruning needs the database's owner (the role that ran `collabadmin db upgrade`)"
            ) from None
    where = f" (archived to {args.archive})" if args.archive and result.removed else ""
    print(f"removed {result.removed} entries{where}; chain anchored at seal {result.anchor_seq}")


def cmd_openapi(args: argparse.Namespace) -> None:
    """Print the demo's OpenAPI document (the frontend's typed client is generated from it)."""
    import json

    from collabadmin.demo.app import create_demo_app

    # Building the app opens no connection; the URL only has to be well formed.
    app = create_demo_app(Settings(database_url="postgresql://localhost/unused"))
    print(json.dumps(app.openapi_schema.to_schema(), indent=2, sort_keys=True))


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="collabadmin", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="run the course-catalogue demo")
    demo.add_argument("--host", default="127.0.0.1")
    demo.add_argument("--port", type=int, default=8000)
    demo.add_argument("--no-seed", action="store_true", help="do not load demo data")
    _log_format_option(demo)
    demo.set_defaults(func=cmd_demo)

    serve = sub.add_parser("serve", help="serve an application (--app module:factory)")
    serve.add_argument(
        "--app",
        help="module:factory taking Settings, returning the app;"
        " without it, serve the database in DATABASE_URL as it is",
    )
    serve.add_argument(
        "--schema",
        action="append",
        default=[],
        help="a schema to serve without --app (repeatable; default public)",
    )
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument(
        "--workers", type=int, default=int(os.environ.get("COLLABADMIN_WORKERS", "1"))
    )
    serve.add_argument(
        "--config", help="the config file (default: collabadmin.toml here, if present)"
    )
    _log_format_option(serve)
    serve.set_defaults(func=cmd_serve)

    init = sub.add_parser("init", help="write a config file from the live schema")
    init.add_argument("--config", help="where to write it (default: collabadmin.toml)")
    init.add_argument("--force", action="store_true", help="overwrite an existing file")
    init.set_defaults(func=cmd_init)

    db = sub.add_parser("db", help="database tasks")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    upgrade = db_sub.add_parser("upgrade", help="apply migrations")
    upgrade.add_argument("--demo", action="store_true", help="include the demo tables")
    upgrade.set_defaults(func=cmd_db_upgrade)
    _track_parsers(db_sub)

    audit = sub.add_parser("audit", help="audit log tasks")
    audit_sub = audit.add_subparsers(dest="audit_command", required=True)
    verify = audit_sub.add_parser("verify", help="check the change log's hash chain")
    verify.add_argument(
        "--anchors", help="a JSON-lines file of kept heads (GET /api/audit/head) to check"
    )
    verify.set_defaults(func=cmd_audit_verify)
    prune = audit_sub.add_parser("prune", help="archive and remove old entries")
    prune.add_argument("--before", required=True, help="remove entries dated before this")
    prune.add_argument("--archive", help="append the removed entries to this JSONL file")
    prune.set_defaults(func=cmd_audit_prune)

    openapi = sub.add_parser("openapi", help="print the OpenAPI document")
    openapi.set_defaults(func=cmd_openapi)

    user = sub.add_parser("user", help="manage users")
    user_sub = user.add_subparsers(dest="user_command", required=True)
    create = user_sub.add_parser("create", help="create or update a user")
    create.add_argument("name")
    create.add_argument("--role", action="append", default=[], help="a role (repeatable)")
    create.add_argument("--display-name")
    create.add_argument("--password-stdin", action="store_true", help="read the password")
    create.set_defaults(func=cmd_user_create)
    return parser


def _track_parsers(db_sub: Any) -> None:
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


def _log_format_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--log-format",
        choices=LOG_FORMATS,
        default=os.environ.get("COLLABADMIN_LOG_FORMAT") or "text",
        help="text (default) or json: one JSON object a line, with request ids and access lines",
    )


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    log_format = getattr(args, "log_format", "text")
    if log_format not in LOG_FORMATS:  # a default from the environment is not checked
        print(f"collabadmin: --log-format must be one of {', '.join(LOG_FORMATS)}", file=sys.stderr)
        return 1
    configure_logging(log_format)
    # SIGTERM before the server takes over its signals still unwinds cleanly,
    # so an embedded PostgreSQL that was started is stopped again.
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        args.func(args)
    except CliError as exc:
        print(f"collabadmin: {exc}", file=sys.stderr)
        return 1
    except RuntimeError as exc:
        # Any command whose database role cannot work as the server role. (Its
        # module is loaded by then; importing it up front would slow --help.)
        from collabadmin.db.roles import DatabaseRoleError

        if not isinstance(exc, DatabaseRoleError):
            raise
        print(f"collabadmin: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
