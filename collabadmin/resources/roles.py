"""Role-based policies: what each role may do, see and write, per resource.

A policy is a mapping from role to :class:`Grant` (the same on every
resource) or to a per-resource mapping of grants (``"*"`` covering resources
not named). A user may hold several roles; their grants add up:

* an action is allowed if any grant allows it;
* a field is readable if some grant that may ``view`` does not hide it;
* a field is writable if some grant that may ``change`` (``add`` when
  creating) lists it as writable and its ``writable_when`` rule, if any,
  accepts the record;
* rows, per action: if any grant allowing the action has no row scope the
  action applies to every row, otherwise to the union of the scopes.

Superusers (the ``admin`` role by default) may do everything.

Example, the demo's instructor::

    "instructor": {
        "courses": Grant(
            actions={"view", "change"},
            hide={"internal_notes"},
            write={"description", "start_date"},
            rows=courses_taught_by,
        ),
    }
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, false, or_

from collabadmin.db.engine import Actor
from collabadmin.resources.policy import ACTIONS, READ_ONLY_ACTIONS, Action, WriteAction
from collabadmin.resources.resource import Resource

__all__ = ["ALL_ACTIONS", "EVERY_RESOURCE", "Grant", "RolePolicy", "RowScope"]

RowScope = Callable[[Actor, Resource], ColumnElement[bool]]
"""A SQL condition on the resource's table selecting the rows a role may see."""

RecordRule = Callable[[Mapping[Any, Any]], bool]
"""A predicate over a record's current values."""

EVERY_RESOURCE = "*"
ALL_ACTIONS: frozenset[Action] = frozenset(ACTIONS)


@dataclass(frozen=True)
class Grant:
    """What one role may do on one resource (or on all of them)."""

    actions: frozenset[Action] | set[Action] = frozenset()
    hide: frozenset[str] | set[str] = frozenset()
    write: frozenset[str] | set[str] | None = None  # None: every field that is not read-only
    rows: RowScope | None = None
    writable_when: Mapping[str, RecordRule] = field(default_factory=dict)

    def __post_init__(self) -> None:
        unknown = set(self.actions) - ALL_ACTIONS
        if unknown:
            raise ValueError(f"unknown actions {sorted(unknown)}")


RoleGrants = Grant | Mapping[str, Grant]


class RolePolicy:
    """A :class:`~collabadmin.resources.policy.Policy` built from per-role grants."""

    def __init__(self, roles: Mapping[str, RoleGrants], *, superuser_role: str = "admin") -> None:
        self.roles = dict(roles)
        self.superuser_role = superuser_role

    def check(self, resources: Iterable[Resource]) -> None:
        """Fail early on grants that name unknown resources or fields."""
        by_name = {r.name: r for r in resources}
        for role, grants in self.roles.items():
            per_resource = {EVERY_RESOURCE: grants} if isinstance(grants, Grant) else grants
            for name, grant in per_resource.items():
                if name == EVERY_RESOURCE:
                    continue
                if name not in by_name:
                    raise ValueError(f"role {role!r}: no resource {name!r}")
                named = set(grant.hide) | set(grant.write or ()) | set(grant.writable_when)
                missing = named - set(by_name[name].fields)
                if missing:
                    raise ValueError(f"role {role!r} on {name}: no fields {sorted(missing)}")

    def _grants(self, actor: Actor, resource: Resource) -> list[Grant]:
        found = []
        for role in sorted(actor.roles):
            grants = self.roles.get(role)
            if grants is None:
                continue
            if isinstance(grants, Grant):
                found.append(grants)
                continue
            grant = grants.get(resource.name) or grants.get(EVERY_RESOURCE)
            if grant is not None:
                found.append(grant)
        return found

    def _superuser(self, actor: Actor) -> bool:
        return actor.is_superuser or self.superuser_role in actor.roles

    def allows(self, actor: Actor, resource: Resource, action: Action) -> bool:
        if resource.read_only and action not in READ_ONLY_ACTIONS:
            return False
        if self._superuser(actor):
            return True
        return any(action in g.actions for g in self._grants(actor, resource))

    def readable_fields(self, actor: Actor, resource: Resource) -> frozenset[str]:
        every = frozenset(resource.fields)
        if self._superuser(actor):
            return every
        readable: set[str] = set()
        for grant in self._grants(actor, resource):
            if "view" in grant.actions:
                readable |= every - set(grant.hide)
        # The primary key identifies the record; it is never hidden.
        return frozenset(readable | set(resource.pk)) if readable else frozenset()

    def writable_fields(
        self,
        actor: Actor,
        resource: Resource,
        record: Mapping[Any, Any] | None,
        *,
        action: WriteAction | None = None,
    ) -> frozenset[str]:
        if action is None:
            action = "add" if record is None else "change"
        candidates = {
            name
            for name, f in resource.fields.items()
            if not f.read_only and not (action == "change" and f.read_only_after_create)
        }
        if self._superuser(actor):
            return frozenset(candidates)
        writable: set[str] = set()
        for grant in self._grants(actor, resource):
            if action not in grant.actions:
                continue
            allowed = candidates - set(grant.hide)
            if grant.write is not None:
                allowed &= set(grant.write)
            if record is not None:
                allowed = {
                    name
                    for name in allowed
                    if name not in grant.writable_when or grant.writable_when[name](record)
                }
            writable |= allowed
        return frozenset(writable)

    def row_filter(
        self, actor: Actor, resource: Resource, action: Action = "view"
    ) -> ColumnElement[bool] | None:
        """Rows the actor may take ``action`` on: the union over the grants allowing it.

        Scopes are per action, so holding a second role never widens the rows
        an action applies to (a viewer who also instructs may view every
        course but still change only the ones taught).
        """
        if self._superuser(actor):
            return None
        scopes = []
        for grant in self._grants(actor, resource):
            if action not in grant.actions:
                continue
            if grant.rows is None:
                return None
            scopes.append(grant.rows(actor, resource))
        if not scopes:
            return false()  # the action is refused before rows matter; match nothing anyway
        return scopes[0] if len(scopes) == 1 else or_(*scopes)
