"""BulkEdit: one operation over many records, each row its own change (API.md, bulk).

The rows are ``pks`` or every row matching a ``filter`` (the list's grammar
and its ``deleted`` rule) that the user may act on, checked before anything
is written (:mod:`collabadmin.bulk.check`). They are worked through in
batches of :attr:`BulkEdit.batch_size`, each batch one transaction with
``source: "bulk"`` that locks its rows, checks each and writes the ones
that pass (:mod:`collabadmin.bulk.batch`).

A batch the database refuses (a unique value, a check) is rolled back
whole and ends the run: the result names the rows done before it and the
rows not done.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, func, select, true

from collabadmin.bulk.batch import Batch, Progress
from collabadmin.bulk.check import PERMISSIONS, Targets, check_edit
from collabadmin.bulk.types import BulkRequest, BulkResult
from collabadmin.db.engine import Actor
from collabadmin.resources.listing import build_where
from collabadmin.resources.policy import Action
from collabadmin.resources.resource import Resource
from collabadmin.resources.service import KeyValues, RecordService

__all__ = ["BulkEdit", "Progress"]


@dataclass(kw_only=True)
class BulkEdit:
    """``op`` over the rows of ``request`` by ``actor`` (see the module's docstring).

    ``check()`` decides everything that needs no row and writes nothing:
    the permission on the resource, the request's shape (exactly one of
    ``pks``/``filter``, a ``patch`` for ``update`` only), every key, the
    filter, and the patch's fields (unknown, hidden or read-only fields and
    values of the wrong type are a 422, nothing written). ``count()`` says
    how many rows it will go through; ``execute()`` does it.
    """

    records: RecordService
    actor: Actor
    resource: str
    request: BulkRequest
    request_id: str | None = None
    batch_size: int = 500

    def __post_init__(self) -> None:
        self._checked: tuple[Resource, Targets, dict[KeyValues, int]] | None = None

    @property
    def permission(self) -> Action:
        return PERMISSIONS[self.request.op]

    def check(self) -> tuple[Resource, Targets, dict[KeyValues, int]]:
        if self._checked is None:
            self._checked = check_edit(self.records, self.actor, self.resource, self.request)
        return self._checked

    async def count(self) -> int:
        """How many rows the run will go through (the keys, or the filter's rows now)."""
        resource, targets, _ = self.check()
        if targets.keys is not None:
            return len(targets.keys)
        assert targets.query is not None
        scope = self.records.policy.row_filter(self.actor, resource, self.permission)
        where = build_where(resource, targets.query, scope)
        async with self.records.db.read() as tx:
            total = await tx.value(
                select(func.count()).select_from(resource.table).where(and_(true(), *where))
            )
        return int(total or 0)

    async def execute(
        self, progress: Progress | None = None, total: int | None = None
    ) -> BulkResult:
        """Go through every row, batch after batch; the outcome of each row asked for."""
        resource, targets, versions = self.check()
        result = BulkResult()
        batches = Batch(
            records=self.records,
            actor=self.actor,
            request=self.request,
            request_id=self.request_id,
            permission=self.permission,
            batch_size=self.batch_size,
            resource=resource,
            targets=targets,
            versions=versions,
            result=result,
            progress=progress,
        )
        if total is None:
            total = await self.count()
        done = 0
        after: KeyValues | None = None
        keys = targets.keys
        start = 0
        while True:
            batch = None if keys is None else keys[start : start + self.batch_size]
            if batch is not None and not batch:
                break
            seen: list[KeyValues] = []
            failed = await batches.run(batch, after, seen, done=done, total=total)
            if failed:
                if keys is not None:
                    result.not_done.extend(targets.shown[k] for k in keys[start:])
                else:
                    result.not_done.extend(resource.key_of(_row_of(resource, k)) for k in seen)
                break
            if keys is None and not seen:
                break  # the filter's rows ran out with the batch before
            done += len(seen)
            total = max(total, done)
            if progress is not None:
                progress.committed(done, total)
            if keys is not None:
                start += self.batch_size
                continue
            if len(seen) < self.batch_size:
                break
            after = seen[-1]
        return result


def _row_of(resource: Resource, key: KeyValues) -> dict[str, Any]:
    return dict(zip(resource.pk, key, strict=True))
