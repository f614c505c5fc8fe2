"""The policy consulted by every surface: actions, fields and rows.

One object answers four questions for an actor and a resource: may it take
an action, which fields may it read, which may it write (possibly depending
on the record), and which rows may it see or act on (a SQL filter per
action). REST
bodies, conflict bodies and history all go through it, so a rule is written
once and enforced everywhere.

:class:`StaffPolicy` is the default: any signed-in user may view and edit,
and only superusers may purge.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, Protocol, get_args

from sqlalchemy import ColumnElement

from collabadmin.db.engine import Actor
from collabadmin.resources.resource import Resource

__all__ = [
    "ACTIONS",
    "EDITING_ACTIONS",
    "READ_ONLY_ACTIONS",
    "Action",
    "Policy",
    "StaffPolicy",
    "WriteAction",
]

Action = Literal[
    "view",
    "add",
    "change",
    "delete",
    "restore",
    "purge",
    "publish",
    "audit",
    "comment",
    "share_view",
]
WriteAction = Literal["add", "change"]
ACTIONS: tuple[Action, ...] = get_args(Action)
"""Every action, in the order meta lists them (read from ``Action``, not written twice)."""
EDITING_ACTIONS: frozenset[Action] = frozenset(
    {"view", "add", "change", "delete", "restore", "comment", "share_view"}
)
"""What an editor does: everything on records but purging, publishing and the audit."""

READ_ONLY_ACTIONS: frozenset[Action] = frozenset({"view", "audit", "share_view"})
"""Actions that make sense on a read-only resource (a database view): nothing is written to it.

``comment`` (on drafts) and ``share_view`` (a named list view everyone who may
view the resource sees) write something other people read, so each needs its
own grant: viewing a resource does not imply either.
"""


class Policy(Protocol):
    def allows(self, actor: Actor, resource: Resource, action: Action) -> bool: ...

    def readable_fields(self, actor: Actor, resource: Resource) -> frozenset[str]: ...

    def writable_fields(
        self,
        actor: Actor,
        resource: Resource,
        record: Mapping[Any, Any] | None,
        *,
        action: WriteAction | None = None,
    ) -> frozenset[str]:
        """Fields ``actor`` may write: on create (no record) or on ``record``.

        ``action="change"`` without a record asks what is writable on existing
        records in general (record-state rules not applied), for metadata.
        """
        ...

    def row_filter(
        self, actor: Actor, resource: Resource, action: Action = "view"
    ) -> ColumnElement[bool] | None: ...


class StaffPolicy:
    """Every signed-in user is trusted staff; purge needs a superuser."""

    def allows(self, actor: Actor, resource: Resource, action: Action) -> bool:
        if resource.read_only and action not in READ_ONLY_ACTIONS:
            return False
        if action == "purge":
            return actor.is_superuser
        return True

    def readable_fields(self, actor: Actor, resource: Resource) -> frozenset[str]:
        return frozenset(resource.fields)

    def writable_fields(
        self,
        actor: Actor,
        resource: Resource,
        record: Mapping[Any, Any] | None,
        *,
        action: WriteAction | None = None,
    ) -> frozenset[str]:
        existing = record is not None or action == "change"
        return frozenset(
            name
            for name, f in resource.fields.items()
            if not f.read_only and not (existing and f.read_only_after_create)
        )

    def row_filter(
        self, actor: Actor, resource: Resource, action: Action = "view"
    ) -> ColumnElement[bool] | None:
        return None
