"""The audit log query: filters over the change log, permission-checked.

The query string's typed parameters (declared by the routes' dependency)
become an :class:`AuditQuery` in :func:`audit_query`; :func:`audit_select`
turns it into SQL for an auditor.

Auditors see the entries of the resources they may ``audit``, with the
fields they may not read removed from every diff and the entries about rows
outside their scope left out. Pages go newest first by id (within one
record that is commit order; across records, ids are close to it, which is
what a person browsing history expects).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any, Literal

import msgspec
from sqlalchemy import ColumnElement, Select, and_, cast, false, or_, select, true
from sqlalchemy import Text as SqlText

from collabadmin.auth.tables import USERS
from collabadmin.changelog.changes import CHANGE_LOG, parse_id_cursor
from collabadmin.changelog.renderers import Renderers
from collabadmin.db.engine import Actor
from collabadmin.errors import BadRequest, Forbidden
from collabadmin.inputs import ascii_int
from collabadmin.resources.policy import Policy
from collabadmin.resources.resource import Registry, Resource

__all__ = ["AuditOp", "AuditQuery", "AuditSource", "audit_query", "audit_select"]

AuditOp = Literal["insert", "update", "delete", "restore", "purge"]
AuditSource = Literal["api", "draft", "revert", "workflow", "action", "bulk", "import", "db"]
MAX_SEARCH = 200
_FIELD = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")


class AuditQuery(msgspec.Struct, frozen=True, kw_only=True):
    """Which change-log entries to list, newest first; each given filter narrows the list.

    ``actor`` is a user id, a login name or the display name an entry
    recorded; ``before_id`` continues a list after the entry with that id.
    """

    resource: str | None = None
    pk: str | None = None
    actor: str | None = None
    field: str | None = None
    op: str | None = None
    source: str | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    q: str | None = None
    before_id: int | None = None
    limit: int = 50


def _when(name: str, raw: str | None) -> dt.datetime | None:
    if raw is None:
        return None
    try:
        value = dt.datetime.fromisoformat(raw)
    except ValueError:
        raise BadRequest(f"{name} must be an ISO 8601 date or date-time.", parameter=name) from None
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def audit_query(
    *,
    resource: str | None = None,
    pk: str | None = None,
    actor: str | None = None,
    field: str | None = None,
    op: AuditOp | None = None,
    source: AuditSource | None = None,
    since: str | None = None,
    until: str | None = None,
    q: str | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> AuditQuery:
    """The query of the typed parameters, or a 400 naming the one at fault."""
    if field is not None and not _FIELD.match(field):
        raise BadRequest("field must be a field name.", parameter="field")
    if q is not None and len(q) > MAX_SEARCH:
        raise BadRequest(
            f"Search text is too long ({MAX_SEARCH} characters at most).", parameter="q"
        )
    return AuditQuery(
        resource=resource,
        pk=pk,
        actor=actor,
        field=field,
        op=op,
        source=source,
        since=_when("since", since),
        until=_when("until", until),
        q=q or None,
        before_id=parse_id_cursor(cursor),
        limit=limit,
    )


def auditable(policy: Policy, registry: Registry, actor: Actor) -> list[Resource]:
    return [r for r in registry if policy.allows(actor, r, "audit")]


def _scope_clause(policy: Policy, actor: Actor, resource: Resource) -> ColumnElement[bool]:
    """Entries of ``resource`` this auditor may see (all, or those about rows in scope)."""
    about = CHANGE_LOG.c.resource == resource.name
    scope = policy.row_filter(actor, resource, "audit")
    if scope is None:
        return about
    return and_(about, CHANGE_LOG.c.pk.in_(resource.keys_where(scope)))


def _owned_clause(
    policy: Policy,
    actor: Actor,
    resources: list[Resource],
    renderers: Renderers,
    query: AuditQuery,
) -> ColumnElement[bool] | None:
    """Entries about drafts, runs... of the resources this auditor sees whole (None: none).

    Such entries are about a record resource (a draft's target, a run's
    subject) and are shown to those who may audit it without a row scope
    (each :class:`~collabadmin.changelog.renderers.Renderer` says which
    entries are about which resource); field and text searches are about
    record fields, so they leave them out.
    """
    if query.field is not None or query.q is not None:
        return None
    chosen = [r for r in renderers if query.resource in (None, r.log_resource)]
    targets = [r.name for r in resources if policy.row_filter(actor, r, "audit") is None]
    if not chosen or not targets:
        return None
    return or_(
        *(
            and_(
                CHANGE_LOG.c.resource == renderer.log_resource,
                CHANGE_LOG.c.pk.in_(renderer.keys_about(targets)),
            )
            for renderer in chosen
        )
    )


def audit_select(
    policy: Policy, registry: Registry, renderers: Renderers, actor: Actor, query: AuditQuery
) -> tuple[Select[Any], dict[str, frozenset[str]]]:
    """The statement for one page (limit + 1 rows), and each resource's readable fields."""
    resources = auditable(policy, registry, actor)
    owned = _owned_clause(policy, actor, resources, renderers, query)
    if query.resource in renderers:
        resources = []
        if owned is None:
            raise Forbidden(f"You may not audit {query.resource}.")
    elif query.resource is not None:
        if query.resource not in registry:
            raise BadRequest(f"No resource named {query.resource!r}.", parameter="resource")
        resources = [r for r in resources if r.name == query.resource]
        if not resources:
            raise Forbidden(f"You may not audit {query.resource}.")
    if not resources and owned is None:
        raise Forbidden("You may not read the audit log.")
    readable = {
        r.name: policy.readable_fields(actor, r) for r in auditable(policy, registry, actor)
    }
    about = [_scope_clause(policy, actor, r) for r in resources]
    clauses: list[ColumnElement[bool]] = [or_(*about, *([owned] if owned is not None else []))]
    c = CHANGE_LOG.c
    if query.pk is not None:
        clauses.append(c.pk == query.pk)
    if query.actor is not None:
        actor_id = ascii_int(query.actor)
        if actor_id is not None:
            clauses.append(c.actor_id == actor_id)
        else:  # a login name, or the display name recorded on the entry
            by_login = select(USERS.c.id).where(USERS.c.username == query.actor)
            clauses.append(or_(c.actor_name == query.actor, c.actor_id.in_(by_login)))
    if query.field is not None:
        if not any(query.field in fields for fields in readable.values()):
            clauses.append(false())
        else:
            clauses.append(c.diff.has_key(query.field))
    if query.op is not None:
        clauses.append(c.op == query.op)
    if query.source is not None:
        clauses.append(c.source == query.source)
    if query.since is not None:
        clauses.append(c.at >= query.since)
    if query.until is not None:
        clauses.append(c.at < query.until)
    if query.q is not None:
        # Values only (not field names), and never a hidden field's value.
        clauses.append(_text_match(resources, readable, query.q))
    if query.before_id is not None:
        clauses.append(c.id < query.before_id)
    statement = (
        select(CHANGE_LOG)
        .where(and_(true(), *clauses))
        .order_by(c.id.desc())
        .limit(query.limit + 1)
    )
    return statement, readable


def _text_match(
    resources: list[Resource], readable: dict[str, frozenset[str]], text: str
) -> ColumnElement[bool]:
    per_resource = []
    for resource in resources:
        fields = sorted(readable[resource.name])
        matches = [
            or_(
                cast(CHANGE_LOG.c.diff[name]["old"], SqlText).icontains(text, autoescape=True),
                cast(CHANGE_LOG.c.diff[name]["new"], SqlText).icontains(text, autoescape=True),
            )
            for name in fields
        ]
        per_resource.append(and_(CHANGE_LOG.c.resource == resource.name, or_(*matches)))
    return or_(*per_resource)
