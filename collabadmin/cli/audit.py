"""``collabadmin audit``: verifying the hash chain, and pruning old entries."""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from collabadmin.cli.common import CliError, database
from collabadmin.settings import Settings

__all__ = ["add_parsers"]


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
    with database(settings) as ready:
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
    with database(settings) as ready:
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


def add_parsers(sub: Any) -> None:
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
