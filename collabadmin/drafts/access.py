"""Who may see and act on a draft, and what of it they may see.

A draft is seen through its target record: whoever may view the record
(within their row scope) may see its drafts, with the fields they may not
read removed from ``data``, diffs, previews and errors alike. A draft of a
*new* record has no row to scope by, so it is seen by its author and by
those who may add or publish records of that resource.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from sqlalchemy import ColumnElement, and_, false, or_, select, true

from collabadmin.db.engine import Actor, Row, Tx
from collabadmin.drafts.tables import DRAFTS
from collabadmin.errors import Forbidden
from collabadmin.resources.policy import Policy
from collabadmin.resources.resource import Registry, Resource

__all__ = ["Capability", "denial", "draft_body", "readable_subset", "require", "visible_clause"]

Capability = Literal["edit", "review", "comment"]


def visible_clause(policy: Policy, registry: Registry, actor: Actor) -> ColumnElement[bool]:
    """The drafts ``actor`` may see, as one SQL condition over ``collabadmin_draft``."""
    clauses = []
    for resource in registry:
        if resource.read_only or not policy.allows(actor, resource, "view"):
            continue
        scope = policy.row_filter(actor, resource, "view")
        existing: ColumnElement[bool] = DRAFTS.c.pk.is_not(None)
        if scope is not None:
            existing = DRAFTS.c.pk.in_(resource.keys_where(scope))
        new: ColumnElement[bool] = DRAFTS.c.pk.is_(None)
        if not (policy.allows(actor, resource, "add") or policy.allows(actor, resource, "publish")):
            new = and_(new, DRAFTS.c.author_id == actor.id)
        clauses.append(and_(DRAFTS.c.resource == resource.name, or_(existing, new)))
    return or_(*clauses) if clauses else false()


async def denial(
    tx: Tx, policy: Policy, actor: Actor, resource: Resource, draft: Row, *, capability: Capability
) -> str | None:
    """Why ``actor`` may not edit (or submit), review (and publish) or comment on a draft; or None.

    Editing a draft of a record needs ``change`` on that record (within the
    actor's change scope); of a new record, ``add``. Reviewing needs
    ``publish``. Commenting needs ``comment`` (within its row scope for a
    draft of an existing record): a comment is read by everyone on the draft,
    so seeing a draft is not enough to write on it.
    """
    what, plural = resource.label.lower(), resource.label_plural.lower()
    if capability == "review":
        refused = f"You may not review drafts of {plural}."
        if not policy.allows(actor, resource, "publish"):
            return refused
        if draft["pk"] is None:
            return None
        in_scope = await _in_scope(
            tx, policy.row_filter(actor, resource, "publish"), resource, draft
        )
        return None if in_scope else refused
    if capability == "comment":
        refused = f"You may not comment on drafts of {plural}."
        if not policy.allows(actor, resource, "comment"):
            return refused
        if draft["pk"] is None:
            return None
        in_scope = await _in_scope(
            tx, policy.row_filter(actor, resource, "comment"), resource, draft
        )
        return None if in_scope else refused
    if draft["pk"] is None:
        return None if policy.allows(actor, resource, "add") else f"You may not draft new {plural}."
    if not policy.allows(actor, resource, "change"):
        return f"You may not change this {what}."
    if await _in_scope(tx, policy.row_filter(actor, resource, "change"), resource, draft):
        return None
    return f"You may not change this {what}."


async def _in_scope(
    tx: Tx, scope: ColumnElement[bool] | None, resource: Resource, draft: Row
) -> bool:
    """Whether the draft's record is in ``scope`` (None: every row)."""
    if scope is None:
        return True
    key = resource.key_text_clause(draft["pk"])
    return bool(await tx.value(select(true()).where(key, scope).limit(1)))


async def require(
    tx: Tx, policy: Policy, actor: Actor, resource: Resource, draft: Row, *, capability: Capability
) -> None:
    """403 unless ``actor`` has ``capability`` on the draft (see :func:`denial`)."""
    reason = await denial(tx, policy, actor, resource, draft, capability=capability)
    if reason is not None:
        raise Forbidden(reason)


def readable_subset(values: Mapping[str, Any], readable: frozenset[str]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if k in readable}


def _problem_for(problem: Mapping[str, Any] | None, readable: frozenset[str]) -> Any:
    """A recorded publish failure, without values or names of hidden fields."""
    if problem is None:
        return None
    shown = {k: v for k, v in problem.items() if k not in ("conflicts", "errors", "detail")}
    if "conflicts" in problem:
        shown["conflicts"] = [c for c in problem["conflicts"] if c.get("field") in readable]
    if "errors" in problem:
        shown["errors"] = [e for e in problem["errors"] if e.get("field") in readable]
    shown["detail"] = problem.get("summary", problem.get("title"))
    return shown


def draft_body(policy: Policy, actor: Actor, resource: Resource, row: Row) -> dict[str, Any]:
    """The API's draft shape for ``actor``; ``data`` holds only readable fields."""
    readable = policy.readable_fields(actor, resource)
    author = None if row["author_id"] is None else {"id": row["author_id"]}
    if author is not None:
        author["name"] = row["author_name"]
    return {
        "id": row["id"],
        "resource": row["resource"],
        "pk": row["pk"],
        "base_version": row["base_version"],
        "status": row["status"],
        "data": readable_subset(row["data"], readable),
        "author": author,
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
        "publish_at": row["publish_at"],
        "publish_error": _problem_for(row["publish_error"], readable),
        "published_at": row["published_at"],
        "published_version": row["published_version"],
        "batch": row["batch"],
        "_version": row["version"],
    }
