"""``collabadmin user``: accounts made from the command line."""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any

from collabadmin.cli.common import CliError, database
from collabadmin.settings import Settings

__all__ = ["add_parsers"]


def cmd_user_create(args: argparse.Namespace) -> None:
    password = sys.stdin.readline().rstrip("\n") if args.password_stdin else None
    if args.password_stdin and not password:
        raise CliError("no password on standard input")
    settings = Settings.from_env()
    with database(settings) as ready:
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


def add_parsers(sub: Any) -> None:
    user = sub.add_parser("user", help="manage users")
    user_sub = user.add_subparsers(dest="user_command", required=True)
    create = user_sub.add_parser("create", help="create or update a user")
    create.add_argument("name")
    create.add_argument("--role", action="append", default=[], help="a role (repeatable)")
    create.add_argument("--display-name")
    create.add_argument("--password-stdin", action="store_true", help="read the password")
    create.set_defaults(func=cmd_user_create)
