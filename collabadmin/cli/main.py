"""The entry point: one parser made of each command group's own parsers."""

from __future__ import annotations

import argparse
import signal
import sys
from collections.abc import Sequence

from collabadmin.cli import audit, background, db, serve, users
from collabadmin.cli.common import CliError
from collabadmin.ops.logs import LOG_FORMATS, configure_logging

__all__ = ["main"]

# In the order ``--help`` lists them.
GROUPS = (serve, background, db, audit, users)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="collabadmin",
        description="The collabadmin command: demo, serve, background, db, audit and user.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    for group in GROUPS:
        group.add_parsers(sub)
    return parser


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
