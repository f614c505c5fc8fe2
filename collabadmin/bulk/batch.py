"""One batch of a bulk edit: its rows locked, each checked, the ones that pass written.

Each batch is one transaction with ``source: "bulk"``:

1. one ``SELECT ... FOR UPDATE`` locks the batch's rows within the user's
   row scope for the operation's permission (in key order); for keys it
   did not return, one more statement tells a row the user may see but not
   act on (``forbidden``) from one it may not see (``not_found``, so that
   the existence of a hidden row is never revealed);
2. each locked row is checked as the record action objects check one row
   under its lock: a patch by :meth:`PatchRecord.changes_for` (deleted
   records, field rules that depend on the row, protected fields), the
   client's version by :func:`check_record_precondition` (``X-Base-Version``'s
   field merge for ``update``, ``If-Match``'s strict check for the others);
   a row that fails is reported and left as it is;
3. the rows that pass are written with one statement per set of changed
   columns (``UPDATE ... WHERE key IN (...)``, ``DELETE``): the capture
   trigger logs one change per row, with its own version.

A batch the database refuses (a unique value, a check) is rolled back
whole: its error goes in the run's result, and the run ends.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import psycopg
from sqlalchemy import ColumnElement, and_, func, literal, select, true, tuple_

from collabadmin.bulk.check import Targets
from collabadmin.bulk.types import (
    BulkConflict,
    BulkError,
    BulkFieldConflict,
    BulkFieldError,
    BulkInvalid,
    BulkRequest,
    BulkResult,
)
from collabadmin.changelog.conflicts import Precondition
from collabadmin.db.engine import Actor, Row, Tx
from collabadmin.errors import Conflict, PreconditionFailed, ValidationFailed, translate_db_error
from collabadmin.resources.actions import PatchRecord
from collabadmin.resources.actions._rows import delete_rows, keys_in, lock_rows, update_rows
from collabadmin.resources.actions._versions import check_record_precondition
from collabadmin.resources.listing import build_where
from collabadmin.resources.policy import Action
from collabadmin.resources.resource import Resource
from collabadmin.resources.service import KeyValues, RecordService

__all__ = ["Batch", "Progress"]


class Progress(Protocol):
    """Where a run reports how far it has got, after each batch."""

    async def record(self, tx: Tx, done: int, total: int) -> None:
        """In the batch's transaction, after its writes: commits (or not) with them."""

    def committed(self, done: int, total: int) -> None:
        """Once the batch has committed."""


@dataclass(kw_only=True)
class Batch:
    """A checked bulk edit's batches: who does what to which rows, and the run's result so far."""

    records: RecordService
    actor: Actor
    request: BulkRequest
    request_id: str | None
    permission: Action
    batch_size: int
    resource: Resource
    targets: Targets
    versions: Mapping[KeyValues, int]
    result: BulkResult
    progress: Progress | None

    async def run(
        self,
        keys: Sequence[KeyValues] | None,
        after: KeyValues | None,
        seen: list[KeyValues],
        *,
        done: int,
        total: int,
    ) -> bool:
        """One batch in one transaction; True when the database refused it (nothing written).

        The batch is ``keys``, or the filter's next rows after ``after``;
        ``seen`` gets the keys it went through. ``done`` and ``total``: the
        run's progress before this batch.
        """
        resource, targets, versions = self.resource, self.targets, self.versions
        records, actor = self.records, self.actor
        policy = records.policy
        scope = policy.row_filter(actor, resource, self.permission)
        outcome = BulkResult()
        try:
            async with records.db.transaction(
                actor, source="bulk", request_id=self.request_id
            ) as tx:
                if keys is not None:
                    rows = await tx.rows(lock_rows(resource, keys_in(resource, keys), scope))
                    seen.extend(keys)
                else:
                    rows = await tx.rows(self._next_rows(scope, after))
                    seen.extend(resource.key_values(r) for r in rows)
                locked = {resource.key_values(r): r for r in rows}

                def shown(key: KeyValues) -> str:
                    if keys is not None:
                        return targets.shown[key]
                    return resource.key_of(locked[key])

                if keys is not None:
                    missing = [k for k in keys if k not in locked]
                    if missing:
                        await self._unreachable(tx, resource, missing, shown, outcome)
                ordered = list(keys) if keys is not None else list(locked)
                writes: dict[tuple[str, ...], list[tuple[KeyValues, dict[str, Any]]]] = {}
                for key in ordered:
                    row = locked.get(key)
                    if row is None:
                        continue
                    decided = await self._decide(
                        tx, resource, row, base=versions.get(key), outcome=outcome, shown=shown(key)
                    )
                    if decided is None:
                        continue  # refused: reported by _decide
                    if not decided:
                        outcome.unchanged.append(shown(key))
                        continue
                    writes.setdefault(tuple(sorted(decided)), []).append((key, decided))
                written = await self._write(tx, resource, writes)
                for group in writes.values():
                    for key, _ in group:
                        # Not returned: a table's own BEFORE trigger cancelled the write.
                        (outcome.done if key in written else outcome.unchanged).append(shown(key))
                if self.progress is not None:
                    now = done + len(seen)
                    await self.progress.record(tx, now, max(total, now))
        except psycopg.Error as exc:
            problem = translate_db_error(exc)
            if problem is None:
                raise
            self.result.error = BulkError(
                status=problem.status,
                title=problem.title,
                detail=problem.detail,
                errors=[
                    BulkFieldError(field=e["field"], message=e["message"])
                    for e in problem.extensions.get("errors", [])
                ],
            )
            return True
        _merge(self.result, outcome)
        return False

    def _next_rows(self, scope: ColumnElement[bool] | None, after: KeyValues | None) -> Any:
        """The next batch of rows matching the filter, locked, in key order after ``after``."""
        resource, targets = self.resource, self.targets
        assert targets.query is not None
        clauses = build_where(resource, targets.query, None)
        if after is not None:
            columns = resource.key_columns()
            # Each bound value takes its column's type (an enum or inet key compares with it).
            bound = [literal(v, c.type) for c, v in zip(columns, after, strict=True)]
            clauses.append(tuple_(*columns) > tuple_(*bound))
        return lock_rows(resource, and_(true(), *clauses), scope).limit(self.batch_size)

    async def _unreachable(
        self,
        tx: Tx,
        resource: Resource,
        missing: Sequence[KeyValues],
        shown: Callable[[KeyValues], str],
        outcome: BulkResult,
    ) -> None:
        """Keys not locked: ``forbidden`` if the user may see the row, else ``not_found``."""
        view = self.records.policy.row_filter(self.actor, resource, "view")
        where = (
            keys_in(resource, missing) if view is None else and_(keys_in(resource, missing), view)
        )
        visible = {
            resource.key_values(r)
            for r in await tx.rows(select(*resource.key_columns()).where(where))
        }
        for key in missing:
            (outcome.forbidden if key in visible else outcome.not_found).append(shown(key))

    async def _decide(
        self,
        tx: Tx,
        resource: Resource,
        row: Row,
        *,
        base: int | None,
        outcome: BulkResult,
        shown: str,
    ) -> dict[str, Any] | None:
        """What to write to the locked ``row``: changes (empty: nothing), or None if refused."""
        op, records, actor = self.request.op, self.records, self.actor
        patch: Mapping[str, Any] = {}
        changes: dict[str, Any]
        if op == "update":
            assert self.request.patch is not None
            patch = self.request.patch
            action = PatchRecord(
                records=records,
                actor=actor,
                resource=resource.name,
                pk=resource.key_values(row),
                changes=patch,
                precondition=Precondition(row["version"], strict=False),
                source="bulk",
            )
            try:
                changes = action.changes_for(resource, row)
            except ValidationFailed as exc:
                errors = [BulkFieldError(field=e.field, message=e.message) for e in exc.errors]
                outcome.invalid.append(BulkInvalid(pk=shown, errors=errors))
                return None
            except Conflict as exc:  # a deleted record
                deleted = BulkFieldError(field="_deleted_at", message=exc.detail)
                outcome.invalid.append(BulkInvalid(pk=shown, errors=[deleted]))
                return None
        elif op == "delete":
            changes = {} if row["deleted_at"] is not None else {"deleted_at": _NOW}
        elif op == "restore":
            changes = {} if row["deleted_at"] is None else {"deleted_at": None}
        else:
            changes = {"_purge": True}
        if base is not None and resource.versioned:
            try:
                await check_record_precondition(
                    records,
                    tx,
                    row,
                    Precondition(base, strict=op != "update"),
                    patch,
                    actor=actor,
                    resource=resource,
                )
            except (Conflict, PreconditionFailed) as exc:
                found = exc.extensions.get("conflicts", [])
                outcome.conflicts.append(
                    BulkConflict(
                        pk=shown,
                        version=row["version"],
                        conflicts=[BulkFieldConflict(**c) for c in found],
                    )
                )
                return None
        return changes

    async def _write(
        self,
        tx: Tx,
        resource: Resource,
        writes: Mapping[tuple[str, ...], list[tuple[KeyValues, dict[str, Any]]]],
    ) -> set[KeyValues]:
        """One statement per set of changed columns; the keys of the rows written."""
        written: set[KeyValues] = set()
        for columns, group in writes.items():
            keys = [k for k, _ in group]
            if columns == ("_purge",):
                rows = await delete_rows(tx, resource, keys)
            elif columns == ("deleted_at",) and group[0][1]["deleted_at"] is _NOW:
                rows = await update_rows(tx, resource, keys, {"deleted_at": func.now()})
            else:
                rows = await update_rows(tx, resource, keys, group[0][1])
            written.update(resource.key_values(r) for r in rows)
        return written


class _Now:
    """``now()``: the time a soft delete is stamped with (the transaction's)."""


_NOW = _Now()


def _merge(into: BulkResult, outcome: BulkResult) -> None:
    into.done.extend(outcome.done)
    into.unchanged.extend(outcome.unchanged)
    into.conflicts.extend(outcome.conflicts)
    into.forbidden.extend(outcome.forbidden)
    into.not_found.extend(outcome.not_found)
    into.invalid.extend(outcome.invalid)
