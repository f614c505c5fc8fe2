"""``collabadmin demo``, ``serve``, ``init`` and ``openapi``: the commands that serve an app."""

from __future__ import annotations

import argparse
import asyncio
import os
from typing import Any

from collabadmin.cli.background import background_beside, beside
from collabadmin.cli.common import (
    CliError,
    check_port,
    check_server_role,
    database,
    load_config,
    log_format_option,
    migrate,
    serve,
    serve_workers,
    sqlalchemy_url,
)
from collabadmin.settings import Settings

__all__ = ["add_parsers"]

# The factories of the apps served without --app, which the background
# process and the workers build for themselves.
ADOPTED_APP = "collabadmin.adopt.app:create_adopted_app"
DEMO_APP = "collabadmin.demo.app:create_demo_app"


def cmd_demo(args: argparse.Namespace) -> None:
    from collabadmin.db.engine import libpq_url
    from collabadmin.db.migrate import EVERYTHING
    from collabadmin.demo.app import create_demo_app
    from collabadmin.demo.seed import demo_password, seed_demo

    settings = Settings.from_env()
    check_port(args.host, args.port)
    with database(settings) as ready:
        assert ready.database_url is not None
        migrate(ready.database_url, EVERYTHING, ready.app_role)
        if not args.no_seed:
            from collabadmin.ops.progress import progress

            with progress() as reporter:
                loaded = seed_demo(
                    libpq_url(sqlalchemy_url(ready.database_url)),
                    progress=lambda step: reporter.stage(f"seeding {step}"),
                )
            if loaded:
                print("demo data loaded", flush=True)
        password, generated = demo_password(os.environ.get("COLLABADMIN_DEMO_PASSWORD"))
        asyncio.run(_seed_users(ready, password))
        shown = "localhost" if args.host in ("0.0.0.0", "127.0.0.1") else args.host  # noqa: S104
        url = f"http://{shown}:{args.port}/"
        print(f"collabadmin demo at {url}", flush=True)
        users = " ".join(["admin", "editor", "instructor", "reviewer", "auditor", "viewer"])
        if generated:
            print(f"demo users: {users}; password: {password}", flush=True)
        else:
            print(f"demo users: {users}; password from COLLABADMIN_DEMO_PASSWORD", flush=True)
        served = beside(ready)
        app = create_demo_app(served)
        with background_beside(DEMO_APP, served, log_format=args.log_format):
            serve(app, args.host, args.port, args.log_format)


async def _seed_users(settings: Settings, password: str) -> None:
    from collabadmin.db.engine import Database
    from collabadmin.demo.seed import seed_users

    assert settings.database_url is not None
    db = Database(settings.database_url, pool_size=1)
    try:
        await seed_users(db, password)
    finally:
        await db.dispose()


def cmd_serve(args: argparse.Namespace) -> None:
    from collabadmin.asgi import AppSpecError, load_factory
    from collabadmin.config import ConfigError

    spec = args.app or os.environ.get("COLLABADMIN_APP")
    if spec and args.config:
        raise CliError("--config describes a database served without --app; drop one of them")
    if os.environ.get("COLLABADMIN_BACKGROUND") == "only":
        raise CliError("COLLABADMIN_BACKGROUND=only is for collabadmin background, not serve")
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
    check_port(args.host, args.port)
    with database(settings) as started:
        assert started.database_url is not None
        check_server_role(started.database_url)
        # The background work runs in a process of its own (collabadmin.cli.background)
        # unless COLLABADMIN_BACKGROUND places it, or the broker's leader runs it.
        ready = beside(started)
        app = None
        if args.workers <= 1:
            try:
                app = factory(ready)
            except (ConfigError, ValueError) as exc:
                raise CliError(str(exc)) from None
        print(f"collabadmin serving {spec} on http://{args.host}:{args.port}/", flush=True)
        with background_beside(spec, ready, log_format=args.log_format):
            if app is not None:
                serve(app, args.host, args.port, args.log_format)
            else:
                assert ready.database_url is not None
                serve_workers(
                    spec,
                    ready.database_url,
                    args.host,
                    args.port,
                    args.workers,
                    log_format=args.log_format,
                )


def _serve_adopted(args: argparse.Namespace) -> None:
    """Serve the database in DATABASE_URL as it is; say what is served and what is not."""
    import time

    import psycopg

    from collabadmin.adopt.app import SCHEMAS_VARIABLE, adopt, create_adopted_app
    from collabadmin.config import ConfigError
    from collabadmin.own import OWN_SCHEMA

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
    check_port(args.host, args.port)
    check_server_role(settings.database_url)
    started = time.perf_counter()
    try:
        adoption = adopt(settings, config=config)
        ready = beside(settings)
        app = None if args.workers > 1 else create_adopted_app(ready, adoption, config)
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
    with background_beside(ADOPTED_APP, ready, log_format=args.log_format):
        if app is not None:
            serve(app, args.host, args.port, args.log_format)
        else:
            serve_workers(
                ADOPTED_APP,
                settings.database_url,
                args.host,
                args.port,
                args.workers,
                log_format=args.log_format,
            )


def cmd_init(args: argparse.Namespace) -> None:
    """Write a config file from the live schema, for the user to edit."""
    from pathlib import Path

    from collabadmin.config import write_config
    from collabadmin.resources.declare import reflect_resources

    target = Path(args.config or "collabadmin.toml")
    if target.exists() and not args.force:
        raise CliError(f"{target} exists; pass --force to overwrite it")
    settings = Settings.from_env()
    with database(settings) as ready:
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


def cmd_openapi(args: argparse.Namespace) -> None:
    """Print the demo's OpenAPI document (the frontend's typed client is generated from it)."""
    import json

    from collabadmin.demo.app import create_demo_app

    # Building the app opens no connection; the URL only has to be well formed.
    app = create_demo_app(Settings(database_url="postgresql://localhost/unused"))
    print(json.dumps(app.openapi_schema.to_schema(), indent=2, sort_keys=True))


def add_parsers(sub: Any) -> None:
    demo = sub.add_parser("demo", help="run the course-catalogue demo")
    demo.add_argument("--host", default="127.0.0.1")
    demo.add_argument("--port", type=int, default=8000)
    demo.add_argument("--no-seed", action="store_true", help="do not load demo data")
    log_format_option(demo)
    demo.set_defaults(func=cmd_demo)

    command = sub.add_parser("serve", help="serve an application (--app module:factory)")
    command.add_argument(
        "--app",
        help="module:factory taking Settings, returning the app;"
        " without it, serve the database in DATABASE_URL as it is",
    )
    command.add_argument(
        "--schema",
        action="append",
        default=[],
        help="a schema to serve without --app (repeatable; default public)",
    )
    command.add_argument("--host", default="127.0.0.1")
    command.add_argument("--port", type=int, default=8000)
    command.add_argument(
        "--workers", type=int, default=int(os.environ.get("COLLABADMIN_WORKERS", "1"))
    )
    command.add_argument(
        "--config", help="the config file (default: collabadmin.toml here, if present)"
    )
    log_format_option(command)
    command.set_defaults(func=cmd_serve)

    init = sub.add_parser("init", help="write a config file from the live schema")
    init.add_argument("--config", help="where to write it (default: collabadmin.toml)")
    init.add_argument("--force", action="store_true", help="overwrite an existing file")
    init.set_defaults(func=cmd_init)

    openapi = sub.add_parser("openapi", help="print the OpenAPI document")
    openapi.set_defaults(func=cmd_openapi)
