"""What every record action shares: its inputs, its target, its transaction."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from collabadmin.db.engine import Actor, Row, Source, Tx
from collabadmin.resources.policy import Action
from collabadmin.resources.resource import Resource
from collabadmin.resources.service import KeyValues, RecordService

__all__ = ["RecordAction", "Written"]


@dataclass(frozen=True, slots=True)
class Written:
    """A record as one action left it: its row, and its body for the actor."""

    resource: Resource
    row: Row
    body: dict[str, Any]


@dataclass(kw_only=True)
class RecordAction:
    """An action on one record: ``pk`` is a URL's key segment or the key's typed values.

    ``source`` and ``request_id`` are recorded with the change when the
    action opens its own transaction; run inside a caller's transaction
    (``execute(tx)``), the caller's settings stand.
    """

    records: RecordService
    actor: Actor
    resource: str
    pk: str | KeyValues
    source: Source = "api"
    request_id: str | None = None

    def _target(self, permission: Action) -> tuple[Resource, KeyValues]:
        """The resource (``permission`` on one record is allowed) and the typed key; else 4xx."""
        resource = self.records.resource(self.actor, self.resource, permission, record=True)
        if isinstance(self.pk, tuple):
            return resource, self.pk
        return resource, self.records.parse_pk(resource, self.pk)

    @asynccontextmanager
    async def _transaction(self, tx: Tx | None) -> AsyncIterator[Tx]:
        """``tx``, or a transaction of the action's own whose first statement sets the context."""
        if tx is not None:
            yield tx
            return
        async with self.records.db.transaction(
            self.actor, source=self.source, request_id=self.request_id, deferred_context=True
        ) as own:
            yield own
