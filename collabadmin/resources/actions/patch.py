"""PatchRecord: change fields of one record (a JSON merge patch) under a precondition."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from collabadmin.changelog.conflicts import Precondition
from collabadmin.db.engine import Tx
from collabadmin.errors import Conflict
from collabadmin.resources.actions._base import RecordAction, Written
from collabadmin.resources.actions._rows import lock_row, update_row
from collabadmin.resources.actions._versions import check_record_precondition
from collabadmin.resources.policy import Action
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
        records, actor = self.records, self.actor
        policy = records.policy
        async with self._transaction(tx) as own:
            row = await lock_row(records, own, actor, resource, pk, action=self.permission)
            if resource.soft_delete and row["deleted_at"] is not None:
                raise Conflict(
                    f"The {resource.label.lower()} is deleted; restore it before changing it.",
                    current=records.body(actor, resource, row),
                )
            rules = self.rules
            changes = validate_patch(
                resource,
                self.changes,
                row,
                readable=rules.readable if rules else policy.readable_fields(actor, resource),
                writable=rules.writable if rules else policy.writable_fields(actor, resource, row),
                roles=rules.roles if rules else actor.roles,
            )
            await check_record_precondition(
                records, own, row, self.precondition, self.changes, actor=actor, resource=resource
            )
            if changes:
                # None: a table's own BEFORE trigger cancelled the write (RETURN NULL).
                row = await update_row(records, own, resource, pk, changes) or row
        return Written(resource, row, records.body(actor, resource, row))
