"""CreateRecord: insert one record, within the actor's row scope."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, true

from collabadmin.db.engine import Actor, Source, Tx
from collabadmin.errors import Forbidden
from collabadmin.resources.actions._base import Written
from collabadmin.resources.actions._rows import insert_row
from collabadmin.resources.actions.patch import FieldRules
from collabadmin.resources.policy import Action
from collabadmin.resources.resource import Resource
from collabadmin.resources.service import RecordService
from collabadmin.resources.validation import validate_create

__all__ = ["CreateRecord"]


@dataclass(kw_only=True)
class CreateRecord:
    """Insert a record of ``values`` (a create body: field → JSON value).

    ``check()`` needs no row: the actor may ``permission`` records of the
    resource, and the body is valid for its field rules (or ``rules``).
    ``execute()`` inserts, then checks that the new row is within the
    actor's row scope for ``permission``: a user may not create a record it
    could not see. That check reads the inserted row, so it is made after
    the insert and undone with it (the raise rolls the transaction back; in
    a caller's transaction, the caller must not commit after it).
    """

    records: RecordService
    actor: Actor
    resource: str
    values: Mapping[str, Any]
    source: Source = "api"
    request_id: str | None = None
    permission: Action = "add"
    rules: FieldRules | None = None

    async def check(self) -> None:
        self._validated()

    def _validated(self) -> tuple[Resource, dict[str, Any]]:
        resource = self.records.resource(self.actor, self.resource, self.permission)
        policy, rules = self.records.policy, self.rules
        values = validate_create(
            resource,
            self.values,
            readable=rules.readable if rules else policy.readable_fields(self.actor, resource),
            writable=rules.writable
            if rules
            else policy.writable_fields(self.actor, resource, None),
            roles=rules.roles if rules else self.actor.roles,
        )
        return resource, values

    async def execute(self, tx: Tx | None = None) -> Written:
        resource, values = self._validated()
        if tx is not None:
            return await self._insert(tx, resource, values)
        async with self.records.db.transaction(
            self.actor, source=self.source, request_id=self.request_id
        ) as own:
            return await self._insert(own, resource, values)

    async def _insert(self, tx: Tx, resource: Resource, values: dict[str, Any]) -> Written:
        records = self.records
        row = await insert_row(records, tx, resource, values)
        scope = records.policy.row_filter(self.actor, resource, self.permission)
        if scope is not None:
            visible = await tx.row(
                select(true()).where(resource.key_clause(resource.key_values(row)), scope)
            )
            if visible is None:
                raise Forbidden("You may not create a record outside your scope.")
        return Written(resource, row, records.body(self.actor, resource, row))
