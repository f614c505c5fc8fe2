"""The change log as auditors browse it: permission-checked pages of ``Change``.

Entries of record resources are cut to the fields the reader may read
(:func:`~collabadmin.changelog.changes.change_body`); entries of drafts,
workflow runs and any other owned table are shown by the renderer their
owner registered (:mod:`collabadmin.changelog.renderers`), so the audit
knows none of those packages.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select

from collabadmin.audit.search import AuditQuery, audit_select, auditable
from collabadmin.changelog.changes import change_body
from collabadmin.changelog.renderers import Renderers
from collabadmin.changelog.types import Change
from collabadmin.db.engine import Actor
from collabadmin.errors import Forbidden
from collabadmin.resources.service import RecordService

__all__ = ["AuditLog"]


class AuditLog:
    def __init__(self, records: RecordService, renderers: Renderers) -> None:
        self.db = records.db
        self.policy = records.policy
        self.registry = records.registry
        self.renderers = renderers

    def require(self, actor: Actor) -> None:
        """Forbidden unless ``actor`` may audit some resource."""
        if not auditable(self.policy, self.registry, actor):
            raise Forbidden("You may not read the audit log.")

    def select(
        self, actor: Actor, query: AuditQuery
    ) -> tuple[Select[Any], dict[str, frozenset[str]]]:
        """The page's statement and each resource's readable fields (checks permissions)."""
        return audit_select(self.policy, self.registry, self.renderers, actor, query)

    async def page(self, actor: Actor, query: AuditQuery) -> tuple[list[Change], str | None]:
        """One page of ``query``, newest first, and the next cursor."""
        statement, readable = self.select(actor, query)
        async with self.db.read() as tx:
            rows = await tx.rows(statement)
            targets: dict[str, dict[str, str]] = {}
            for owner in self.renderers:
                keys = [r["pk"] for r in rows if r["resource"] == owner.log_resource]
                if keys:
                    targets[owner.log_resource] = await owner.targets(tx, keys)
        next_cursor = str(rows[query.limit - 1]["id"]) if len(rows) > query.limit else None
        items = []
        for row in rows[: query.limit]:
            resource = row["resource"]
            renderer = self.renderers.get(resource)
            if renderer is not None:
                # A row gone since the page was read shows none of its resource's fields.
                target = targets[resource].get(row["pk"])
                items.append(renderer.body(row, readable.get(target or "", frozenset())))
            else:
                fields = self.registry.get(resource).fields if resource in self.registry else None
                items.append(change_body(row, readable[resource], fields))
        return items, next_cursor
