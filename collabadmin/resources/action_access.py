"""Who may run a record action, and whether it applies to a record now.

One answer for the meta (``ResourceMeta.record_actions``, ``OPTIONS`` on a
record) and for the run itself (:class:`~collabadmin.resources.actions.RunRecordAction`),
so a button is shown exactly when pressing it may succeed:

* *offered*: the policy allows the action's permission on the resource,
  and the user may read every field it reads or writes and write the
  fields it writes, on that record when there is one (field rules that
  depend on the record, as for a PATCH). A field the user may not read is
  never revealed by an action that depends on it: the action is not offered.
* *applies*: its condition holds for the record, which is not deleted.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, false, func, select, true

from collabadmin.db.engine import Actor, Tx
from collabadmin.resources.policy import Policy
from collabadmin.resources.record_actions import RecordActionDecl
from collabadmin.resources.resource import Resource
from collabadmin.resources.service import KeyValues, RecordService

__all__ = [
    "applies_select",
    "applying",
    "applying_now",
    "offered",
    "offered_actions",
]


def offered(
    policy: Policy,
    actor: Actor,
    resource: Resource,
    action: RecordActionDecl,
    record: Mapping[str, Any] | None = None,
) -> bool:
    """Whether ``actor`` may run ``action`` (on ``record``, or on records in general)."""
    if resource.read_only or not policy.allows(actor, resource, "view"):
        return False
    if not policy.allows(actor, resource, action.permission):
        return False
    if not action.fields(resource.table) <= policy.readable_fields(actor, resource):
        return False
    if record is None:
        writable = policy.writable_fields(actor, resource, None, action="change")
    else:
        writable = policy.writable_fields(actor, resource, record)
    return action.written_fields() <= writable


def offered_actions(
    policy: Policy, actor: Actor, resource: Resource, record: Mapping[str, Any] | None = None
) -> list[RecordActionDecl]:
    """The actions of ``resource`` that ``actor`` may run, in their declared order."""
    return [a for a in resource.record_actions if offered(policy, actor, resource, a, record)]


def applies_select(
    resource: Resource,
    actions: Sequence[RecordActionDecl],
    scopes: Sequence[ColumnElement[bool] | None] = (),
) -> Select[*tuple[Any, ...]]:
    """One row: for each action (``a0``, ``a1``...), whether it applies to the row of ``:pk_*``.

    ``scopes``, one per action when given: the rows the user may take the
    action's permission on (None: every row); outside it, it does not apply.
    """
    table = resource.table
    columns = []
    for i, a in enumerate(actions):
        condition = a.applies(table) if a.applies is not None else true()
        scope = scopes[i] if scopes else None
        if scope is not None:
            condition = and_(condition, scope)
        columns.append(func.coalesce(condition, false()))
    statement = select(*(c.label(f"a{i}") for i, c in enumerate(columns)))
    return statement.select_from(table).where(resource.key_bound())


async def applying(
    tx: Tx,
    resource: Resource,
    actions: Sequence[RecordActionDecl],
    pk: KeyValues,
    record: Mapping[str, Any],
    *,
    scopes: Sequence[ColumnElement[bool] | None] = (),
) -> dict[str, bool]:
    """Whether each action applies to the record now (none to a deleted one).

    One statement for all of them. Read in ``tx``: under the record's lock,
    it is what the write that follows will find.
    """
    if not actions:
        return {}
    if resource.soft_delete and record.get("deleted_at") is not None:
        return {a.name: False for a in actions}
    statement = applies_select(resource, actions, scopes)
    row = await tx.row(statement, resource.key_params(pk))
    if row is None:  # gone since it was read: nothing applies to it
        return {a.name: False for a in actions}
    return {a.name: bool(row[f"a{i}"]) for i, a in enumerate(actions)}


async def applying_now(
    records: RecordService, actor: Actor, resource: Resource, record: Mapping[str, Any]
) -> dict[str, bool]:
    """For ``OPTIONS`` on a record: whether each action ``actor`` may run applies now.

    The record was read within the rows the user may view; an action whose
    permission covers fewer rows (a user with two roles) does not apply to
    one outside them, as running it would answer 404.
    """
    policy = records.policy
    actions = offered_actions(policy, actor, resource, record)
    if not actions:
        return {}
    scopes = [policy.row_filter(actor, resource, a.permission) for a in actions]
    async with records.db.read() as tx:
        key = resource.key_values(record)
        return await applying(tx, resource, actions, key, record, scopes=scopes)
