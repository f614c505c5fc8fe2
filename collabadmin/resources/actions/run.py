"""RunRecordAction: run a declared record action (a button) on one record.

The action is one transaction with ``source: "action"``: every row it
writes, its record and any other (a course's new session), is a change of
its own in the log with that source, committed together or not at all.

``execute()`` does, under the record's lock and in this order, what a
PATCH does and then what an action adds:

1. lock the row within the actor's row scope for the action's permission
   (404 outside what it may see, 403 outside what it may act on);
2. refuse a deleted record (409), and a user who may not run it on this
   record (403: a field it reads is hidden from the user, or one it writes
   is not writable for the user on this record);
3. check the precondition: ``If-Match`` strict (412), ``X-Base-Version``
   field merge (409) over the fields the action reads and writes, through
   :mod:`collabadmin.changelog.conflicts`;
4. evaluate the condition (409 when it does not apply now), in the same
   transaction, so that it holds for the write;
5. write: a patch action through :class:`PatchRecord` (the patch validated
   as a PATCH body), a function action by calling it with an
   :class:`ActionRun`, whose writes go through the record action objects.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from collabadmin.changelog.conflicts import Precondition
from collabadmin.db.engine import Actor, Row, Source, Tx
from collabadmin.errors import Conflict, Forbidden, NotApplicable
from collabadmin.resources.action_access import applying, offered
from collabadmin.resources.actions._base import RecordAction, Written
from collabadmin.resources.actions._rows import lock_row
from collabadmin.resources.actions._versions import check_record_precondition, patched_forms
from collabadmin.resources.actions.create import CreateRecord
from collabadmin.resources.actions.patch import PatchRecord
from collabadmin.resources.record_actions import RecordActionDecl
from collabadmin.resources.resource import Resource
from collabadmin.resources.service import KeyValues, RecordService

__all__ = ["ActionRun", "RunRecordAction"]


@dataclass(kw_only=True)
class ActionRun:
    """What a function action is given: its record, locked, and a way to write.

    ``row`` is the record as it is now (raw column values; after
    :meth:`change`, as changed). ``tx`` is the run's transaction, for reads
    (lock other rows ``FOR UPDATE`` before changing them). Writes go through
    :meth:`change`, :meth:`create` and :meth:`update`: the record action
    objects, with the run's actor, so each is checked by the policy (the
    actor may add sessions, may write those fields) as any other write is.
    A refusal raised by one of them, or by the function, undoes the whole run.
    """

    records: RecordService
    actor: Actor
    tx: Tx
    resource: Resource
    action: RecordActionDecl
    key: KeyValues
    row: Row

    async def change(self, changes: Mapping[str, Any]) -> Written:
        """Change fields of the action's own record (those its declaration ``writes``)."""
        undeclared = sorted(set(changes) - self.action.written_fields())
        if undeclared:
            # A bug of the declaration, not of the request: the offer was decided on ``writes``.
            raise RuntimeError(
                f"record action {self.action.name!r} writes {', '.join(undeclared)},"
                " which its declaration does not name in writes"
            )
        written = await self.update(self.resource.name, self.key, changes, self.row["version"])
        self.row = written.row
        return written

    async def create(self, resource: str, values: Mapping[str, Any]) -> Written:
        """Insert a record of ``resource`` (a create body), as the actor."""
        return await CreateRecord(
            records=self.records, actor=self.actor, resource=resource, values=values
        ).execute(self.tx)

    async def update(
        self, resource: str, pk: KeyValues, changes: Mapping[str, Any], version: int
    ) -> Written:
        """Change fields of a record of ``resource`` at ``version`` (else 412), as the actor."""
        return await PatchRecord(
            records=self.records,
            actor=self.actor,
            resource=resource,
            pk=pk,
            changes=changes,
            precondition=Precondition(version, strict=True),
        ).execute(self.tx)


@dataclass(kw_only=True)
class RunRecordAction(RecordAction):
    """Run the record action ``name`` if ``precondition`` allows it (API.md, record actions).

    ``check()`` decides what needs no row: the resource has such an action,
    the actor may ``view`` the resource and take the action's permission,
    and may run it on records in general. ``execute()`` decides the rest
    under the record's lock (see the module's docstring).
    """

    name: str
    precondition: Precondition
    source: Source = "action"

    async def check(self) -> None:
        self._declared()

    def _declared(self) -> tuple[Resource, KeyValues, RecordActionDecl]:
        records, actor = self.records, self.actor
        resource = records.resource(actor, self.resource, "view", record=True)
        action = resource.record_action(self.name)
        resource, pk = self._target(action.permission)
        if not offered(records.policy, actor, resource, action):
            raise Forbidden(self._refusal(resource, action))
        return resource, pk, action

    @staticmethod
    def _refusal(resource: Resource, action: RecordActionDecl) -> str:
        return f"You may not run “{action.label}” on this {resource.label.lower()}."

    async def execute(self, tx: Tx | None = None) -> Written:
        resource, pk, action = self._declared()
        if tx is not None:
            return await self._run(tx, resource, pk, action)
        async with self.records.db.transaction(
            self.actor, source=self.source, request_id=self.request_id
        ) as own:
            return await self._run(own, resource, pk, action)

    async def _run(
        self, tx: Tx, resource: Resource, pk: KeyValues, action: RecordActionDecl
    ) -> Written:
        records, actor = self.records, self.actor
        row = await lock_row(records, tx, actor, resource, pk, action=action.permission)
        if resource.soft_delete and row["deleted_at"] is not None:
            raise Conflict(
                f"The {resource.label.lower()} is deleted; restore it before running"
                f" “{action.label}”.",
                current=records.body(actor, resource, row),
            )
        if not offered(records.policy, actor, resource, action, row):
            raise Forbidden(self._refusal(resource, action))
        await check_record_precondition(
            records,
            tx,
            row,
            self.precondition,
            patched_forms(resource, action.patch or {}),
            actor=actor,
            resource=resource,
            watched=sorted(action.fields(resource.table) - set(resource.pk)),
        )
        applies = await applying(tx, resource, [action], pk, row)
        if not applies[action.name]:
            raise NotApplicable(
                action.not_applicable
                or f"“{action.label}” does not apply to this {resource.label.lower()} now.",
                current=records.body(actor, resource, row),
                action=action.name,
            )
        if action.patch is not None:
            return await PatchRecord(
                records=records,
                actor=actor,
                resource=resource.name,
                pk=pk,
                changes=action.patch,
                precondition=Precondition(row["version"], strict=True),
                permission=action.permission,
            ).execute(tx)
        assert action.run is not None
        run = ActionRun(
            records=records, actor=actor, tx=tx, resource=resource, action=action, key=pk, row=row
        )
        await action.run(run)
        # Read again: the function may have changed the record through the policy's
        # objects (run.row) or left it as it was; either way this is what it is now.
        final = await tx.row(select(resource.table).where(resource.key_clause(pk)))
        assert final is not None  # locked by this transaction: it cannot have gone
        return Written(resource, final, records.body(actor, resource, final))
