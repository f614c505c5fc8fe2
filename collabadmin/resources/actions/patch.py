"""PatchRecord: change fields of one record (a JSON merge patch) under a precondition."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from collabadmin.changelog.conflicts import Precondition
from collabadmin.db.engine import Row, Tx
from collabadmin.errors import Conflict
from collabadmin.resources.actions._base import RecordAction, Written
from collabadmin.resources.actions._rows import lock_row, read_row, update_row, update_row_at
from collabadmin.resources.actions._versions import check_record_precondition
from collabadmin.resources.policy import Action
from collabadmin.resources.resource import Resource
from collabadmin.resources.service import KeyValues
from collabadmin.resources.validation import validate_patch

__all__ = ["FieldRules", "PatchRecord"]


@dataclass(frozen=True, slots=True)
class FieldRules:
    """Field rules a write follows instead of its actor's own (a draft's publish).

    Each drafted field was checked against its editor's permissions when it
    was drafted; the reviewer who publishes need not be allowed to edit it.
    """

    readable: frozenset[str]
    writable: frozenset[str]
    roles: frozenset[str]


@dataclass(kw_only=True)
class PatchRecord(RecordAction):
    """Change the fields of ``changes`` if ``precondition`` allows it (API.md, PATCH).

    ``check()`` decides what needs no row: the actor may ``permission``
    records of the resource, the key can be one. ``execute()`` locks the row
    within the actor's row scope, refuses a deleted record, validates the
    patch against the locked row (field rules may depend on it), checks the
    precondition against the locked version (:mod:`collabadmin.changelog.conflicts`),
    and writes the fields that really change, if any: the trigger then bumps
    the version and logs the change with this action's actor and source.
    Checks that depend on the row are made under its lock, never before it,
    so that no write can slip between a check and the write it allowed.

    ``execute(tx)`` runs inside a caller's transaction (bulk edits, imports,
    publish, revert): every refusal is raised before anything is written, so
    the caller may carry on with other rows. A database error (a constraint)
    aborts the transaction; a caller that carries on after one runs each
    action in a savepoint.
    """

    changes: Mapping[str, Any]
    precondition: Precondition
    permission: Action = "change"
    rules: FieldRules | None = None

    async def check(self) -> None:
        self._target(self.permission)

    async def execute(self, tx: Tx | None = None) -> Written:
        resource, pk = self._target(self.permission)
        if tx is None and resource.versioned:
            written = await self._unlocked(resource, pk)
            if written is not None:
                return written
        records, actor = self.records, self.actor
        async with self._transaction(tx) as own:
            row = await lock_row(records, own, actor, resource, pk, action=self.permission)
            changes = self.changes_for(resource, row)
            await check_record_precondition(
                records, own, row, self.precondition, self.changes, actor=actor, resource=resource
            )
            if changes:
                # None: a table's own BEFORE trigger cancelled the write (RETURN NULL).
                row = await update_row(records, own, resource, pk, changes) or row
        return Written(resource, row, records.body(actor, resource, row))

    def changes_for(self, resource: Resource, row: Row) -> dict[str, Any]:
        """The fields the patch really changes in the locked ``row``; 409 or 422 if it may not.

        What :meth:`execute` decides under the lock before its precondition,
        for a caller that locked many rows itself (a bulk edit).
        """
        if resource.soft_delete and row["deleted_at"] is not None:
            raise Conflict(
                f"The {resource.label.lower()} is deleted; restore it before changing it.",
                current=self.records.body(self.actor, resource, row),
            )
        return self._validated(resource, row)

    def _validated(self, resource: Resource, row: Row) -> dict[str, Any]:
        """The fields the patch really changes in ``row`` (maybe none), or ValidationFailed."""
        rules, policy, actor = self.rules, self.records.policy, self.actor
        return validate_patch(
            resource,
            self.changes,
            row,
            readable=rules.readable if rules else policy.readable_fields(actor, resource),
            writable=rules.writable if rules else policy.writable_fields(actor, resource, row),
            roles=rules.roles if rules else actor.roles,
        )

    async def _unlocked(self, resource: Resource, pk: KeyValues) -> Written | None:
        """The common case in two statements of their own, with no transaction around them.

        The row is read (no lock), the patch validated against it, and the
        changes written by one ``UPDATE`` that applies only while the row is
        still at the version read, and within the actor's row scope: every
        change to a row raises its version, so a write that applies was
        validated against exactly the values it replaces, as under a lock.
        Two round trips instead of four (``BEGIN``, lock, ``UPDATE``,
        ``COMMIT``), and the row is locked only while the ``UPDATE`` runs.

        None whenever the locked path must decide: no such row in scope (404
        or 403), a deleted record (409), a precondition on another version
        (the field merge, 412), or a row that moved on between the two
        statements. Validation errors (422) are raised here, as they are
        against the locked row.
        """
        records, actor = self.records, self.actor
        async with records.db.attributed(
            actor, source=self.source, request_id=self.request_id
        ) as tx:
            row = await read_row(records, tx, actor, resource, pk, action=self.permission)
            if row is None or row["version"] != self.precondition.version:
                return None
            if resource.soft_delete and row["deleted_at"] is not None:
                return None
            changes = self._validated(resource, row)
            if changes:
                written = await update_row_at(
                    records, tx, actor, resource, pk,
                    values=changes, version=row["version"], action=self.permission,
                )  # fmt: skip
                if written is None:
                    # The row moved on, or a table's own BEFORE trigger cancelled
                    # the write (RETURN NULL): only the latter leaves it as read.
                    again = await read_row(records, tx, actor, resource, pk, action=self.permission)
                    if again is None or again["version"] != row["version"]:
                        return None
                row = written or row
        return Written(resource, row, records.body(actor, resource, row))
