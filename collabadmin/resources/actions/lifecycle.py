"""SoftDelete, Restore and Purge: a record's life after it was created.

Each takes the version the client saw (``If-Match``): deleting or restoring
a record someone changed since is refused with a 412, whatever fields
changed, as is purging it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from sqlalchemy import delete, func, update

from collabadmin.changelog.conflicts import Precondition
from collabadmin.db.engine import Row, Tx
from collabadmin.errors import BadRequest
from collabadmin.resources.actions._base import RecordAction, Written
from collabadmin.resources.actions._rows import lock_row
from collabadmin.resources.actions._versions import check_record_precondition
from collabadmin.resources.policy import Action
from collabadmin.resources.resource import Resource
from collabadmin.resources.service import KeyValues

__all__ = ["Purge", "Restore", "SoftDelete"]


@dataclass(kw_only=True)
class _VersionedAction(RecordAction):
    version: int
    permission: ClassVar[Action]

    async def _locked(self, tx: Tx, resource: Resource, pk: KeyValues) -> Row:
        """The row, locked within the actor's scope for this action, at ``version``; else 4xx."""
        row = await lock_row(self.records, tx, self.actor, resource, pk, action=self.permission)
        await check_record_precondition(
            self.records,
            tx,
            row,
            Precondition(self.version, strict=True),
            {},
            actor=self.actor,
            resource=resource,
        )
        return row


@dataclass(kw_only=True)
class _SetDeleted(_VersionedAction):
    deleted: ClassVar[bool]

    async def check(self) -> None:
        self._soft_deletable()

    def _soft_deletable(self) -> tuple[Resource, KeyValues]:
        resource, pk = self._target(self.permission)
        if not resource.soft_delete:
            raise BadRequest(f"{resource.label_plural} have no soft delete; purge instead.")
        return resource, pk

    async def execute(self, tx: Tx | None = None) -> Written:
        """Set or clear ``deleted_at``; a record already in that state is left as it is."""
        resource, pk = self._soft_deletable()
        async with self._transaction(tx) as own:
            row = await self._locked(own, resource, pk)
            if (row["deleted_at"] is not None) != self.deleted:
                written = await own.row(
                    update(resource.table)
                    .where(resource.key_clause(pk))
                    .values(deleted_at=func.now() if self.deleted else None)
                    .returning(resource.table)
                )
                assert written is not None
                row = written
        return Written(resource, row, self.records.body(self.actor, resource, row))


@dataclass(kw_only=True)
class SoftDelete(_SetDeleted):
    """Mark the record deleted (``deleted_at``); lists leave it out, restore brings it back."""

    permission: ClassVar[Action] = "delete"
    deleted: ClassVar[bool] = True


@dataclass(kw_only=True)
class Restore(_SetDeleted):
    """Clear ``deleted_at``: the record is live again."""

    permission: ClassVar[Action] = "restore"
    deleted: ClassVar[bool] = False


@dataclass(kw_only=True)
class Purge(_VersionedAction):
    """Hard delete. The change log keeps the row's final snapshot."""

    permission: ClassVar[Action] = "purge"

    async def check(self) -> None:
        self._target(self.permission)

    async def execute(self, tx: Tx | None = None) -> None:
        resource, pk = self._target(self.permission)
        async with self._transaction(tx) as own:
            await self._locked(own, resource, pk)
            await own.run(delete(resource.table).where(resource.key_clause(pk)))
