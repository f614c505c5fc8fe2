"""What a user may do and see: ``ResourceMeta`` and ``FieldMeta`` bodies.

The frontend renders forms and tables from these, so they are computed by
the same policy that filters bodies; nothing is mirrored on the client.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import UniqueConstraint

from collabadmin.db.engine import Actor
from collabadmin.resources.action_access import offered_actions
from collabadmin.resources.fields import Field
from collabadmin.resources.policy import ACTIONS, Policy, WriteAction
from collabadmin.resources.query import field_operators, text_search_fields
from collabadmin.resources.related import Link
from collabadmin.resources.resource import Registry, Resource, display_field

__all__ = [
    "MetaSections",
    "allowed_actions",
    "record_actions_meta",
    "related_meta",
    "resource_meta",
    "unique_alone",
]


def allowed_actions(policy: Policy, actor: Actor, resource: Resource) -> list[str]:
    actions: list[str] = [a for a in ACTIONS if policy.allows(actor, resource, a)]
    if not resource.soft_delete:
        actions = [a for a in actions if a not in ("delete", "restore")]
    return actions


def resource_meta(
    policy: Policy,
    actor: Actor,
    resource: Resource,
    registry: Registry,
    record: Mapping[Any, Any] | None = None,
    *,
    applies: Mapping[str, bool] | None = None,
) -> dict[str, Any]:
    """``ResourceMeta`` of ``resource`` for ``actor``, for ``record`` when given.

    ``applies`` says, for one record, whether each of its actions applies
    now (:func:`collabadmin.resources.action_access.applying`).
    """
    readable = policy.readable_fields(actor, resource)
    actions = allowed_actions(policy, actor, resource)
    if record is not None:
        can_write = "change" in actions
        writable = policy.writable_fields(actor, resource, record)
    else:
        # For the collection: what a new record may set, or, for a user who
        # may only change existing ones, what it may change on them.
        can_write = "add" in actions or "change" in actions
        action: WriteAction = "add" if "add" in actions else "change"
        writable = policy.writable_fields(actor, resource, None, action=action)
    fields = []
    for name, f in resource.fields.items():
        if name not in readable:
            continue
        read_only = not can_write or name not in writable
        meta: dict[str, Any] = {
            "name": name,
            "type": f.type,
            "label": f.label,
            "required": f.required,
            "read_only": read_only,
            "operators": list(field_operators(f)),
        }
        if read_only:
            meta["read_only_reason"] = _read_only_reason(resource, f, can_write, record is not None)
        if f.items is not None:
            meta["items"] = f.items
        if f.type == "datetime" and not f.timezone:
            meta["timezone"] = False
        if f.read_only_after_create:
            meta["read_only_after_create"] = True
        if unique_alone(resource, name):
            meta["unique"] = True
        if f.protected:
            meta["protected"] = True
        if f.max_length is not None:
            meta["max_length"] = f.max_length
        if f.pattern is not None:
            meta["pattern"] = f.pattern
        if f.choices is not None:
            meta["choices"] = list(f.choices)
        if f.relation is not None and _visible(policy, actor, registry, f.relation.resource):
            meta["relation"] = {"resource": f.relation.resource, "display": f.relation.display}
        fields.append(meta)
    return {
        "name": resource.name,
        "label": resource.label,
        "label_plural": resource.label_plural,
        # One name, a list of names for a composite key, null when rows
        # cannot be addressed (a view without a key).
        "pk": (resource.pk[0] if len(resource.pk) == 1 else list(resource.pk) or None),
        "display": display_field(resource),
        "live": resource.live,
        "derived": resource.derived,
        "describes": (
            resource.describes
            if resource.describes and _visible(policy, actor, registry, resource.describes)
            else None
        ),
        "read_only_reason": resource.read_only_reason,
        "actions": actions,
        "fields": fields,
        "related": related_meta(policy, actor, registry, resource),
        "default_sort": [s for s in resource.default_sort],
        "searchable": bool(resource.search_fields or text_search_fields(resource, readable)),
        "soft_delete": resource.soft_delete,
        "preview_url": resource.preview_url,
        "record_actions": record_actions_meta(policy, actor, resource, record, applies),
    }


def unique_alone(resource: Resource, name: str) -> bool:
    """Whether the field alone names one record at most: the key, a unique constraint or index."""
    if resource.pk == (name,):
        return True
    table = resource.table
    column = table.c.get(name)
    if column is not None and column.unique:
        return True
    alone = [name]
    return any(
        isinstance(c, UniqueConstraint) and [col.name for col in c.columns] == alone
        for c in table.constraints
    ) or any(ix.unique and [col.name for col in ix.columns] == alone for ix in table.indexes)


def _read_only_reason(resource: Resource, f: Field, can_write: bool, existing: bool) -> str:
    """Why a field cannot be written here, in words a form can show under it."""
    if resource.read_only:
        return resource.read_only_reason or "This resource is read-only."
    if not can_write:
        return "You may view this, not change it." if existing else "You may not add these."
    if f.read_only:
        return "Filled in by the database."
    if existing and f.read_only_after_create:
        return "Set when the record is created; it cannot change afterwards."
    return "You may not change this field on this record."


def record_actions_meta(
    policy: Policy,
    actor: Actor,
    resource: Resource,
    record: Mapping[Any, Any] | None,
    applies: Mapping[str, bool] | None,
) -> list[dict[str, Any]]:
    """``RecordActionMeta`` of the actions ``actor`` may run (on ``record``)."""
    listed: list[dict[str, Any]] = []
    for action in offered_actions(policy, actor, resource, record):
        meta: dict[str, Any] = {"name": action.name, "label": action.label}
        if action.confirm:
            meta["confirm"] = action.confirm
        if applies is not None:
            meta["applies"] = applies.get(action.name, False)
        listed.append(meta)
    return listed


def _visible(policy: Policy, actor: Actor, registry: Registry, name: str) -> bool:
    return name in registry and policy.allows(actor, registry.get(name), "view")


def _readable(policy: Policy, actor: Actor, registry: Registry, name: str, field: str) -> bool:
    return field in policy.readable_fields(actor, registry.get(name))


def related_meta(
    policy: Policy, actor: Actor, registry: Registry, resource: Resource
) -> list[dict[str, Any]]:
    """``RelatedMeta`` of ``resource`` for ``actor``.

    A link is shown only when the user may view every resource it goes
    through and read every field it follows: a hidden resource, or a hidden
    column naming one, is never revealed by a link to it.
    """
    shown: list[dict[str, Any]] = []
    for link in registry.links(resource.name):
        if not _shown(policy, actor, registry, link):
            continue
        meta: dict[str, Any] = {"resource": link.resource, "field": link.field, "label": link.label}
        if link.through is not None:
            meta["through"] = {"resource": link.through, "field": link.through_field}
        shown.append(meta)
    return shown


def _shown(policy: Policy, actor: Actor, registry: Registry, link: Link) -> bool:
    if not _visible(policy, actor, registry, link.resource):
        return False
    if link.through is None:
        return _readable(policy, actor, registry, link.resource, link.field)
    return (
        link.through_field is not None
        and _visible(policy, actor, registry, link.through)
        and _readable(policy, actor, registry, link.through, link.field)
        and _readable(policy, actor, registry, link.through, link.through_field)
    )


def allow_header(actions: Sequence[str], *, record: bool) -> str:
    methods = ["OPTIONS"]
    if "view" in actions:
        methods += ["GET", "HEAD"]
    if record:
        if "change" in actions:
            methods.append("PATCH")
        if "delete" in actions or "purge" in actions:
            methods.append("DELETE")
    elif "add" in actions:
        methods.append("POST")
    return ", ".join(methods)


MetaSection = Callable[[Actor], list[dict[str, Any]]]


class MetaSections:
    """What other parts add to ``GET /api/meta`` beside ``resources``.

    The workflows part adds ``workflows`` (the summaries a user may start
    runs of); the records part knows no other part.
    """

    def __init__(self) -> None:
        self._sections: dict[str, MetaSection] = {}

    def add(self, key: str, section: MetaSection) -> None:
        if key in self._sections or key == "resources":
            raise ValueError(f"/api/meta already has a {key!r} section")
        self._sections[key] = section

    def for_actor(self, actor: Actor) -> dict[str, list[dict[str, Any]]]:
        return {key: section(actor) for key, section in self._sections.items()}
