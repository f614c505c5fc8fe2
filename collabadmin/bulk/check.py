"""Checking a bulk edit and choosing its rows: what the request names, before anything is locked.

The rows are ``pks`` (each read as a key of the resource) or every row
matching a ``filter`` (the list's grammar, :func:`filter_params`, and its
``deleted`` rule). A patch is checked here against no row (unknown,
hidden or read-only fields, types); what depends on a row is the batch's
business (:mod:`collabadmin.bulk.batch`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from collabadmin.bulk.types import MAX_PKS, BulkOp, BulkRequest
from collabadmin.db.engine import Actor
from collabadmin.errors import BadRequest, FieldError, PayloadTooLarge, ValidationFailed
from collabadmin.resources.list_params import Deleted, FilterParam, RecordListQuery, search_text
from collabadmin.resources.policy import Action
from collabadmin.resources.query import ListQuery, resolve_list_query
from collabadmin.resources.resource import Resource
from collabadmin.resources.service import KeyValues, RecordService
from collabadmin.resources.validation import validate_patch

__all__ = ["PERMISSIONS", "Targets", "check_edit", "filter_params"]

PERMISSIONS: dict[BulkOp, Action] = {
    "update": "change",
    "delete": "delete",
    "restore": "restore",
    "purge": "purge",
}


@dataclass(slots=True)
class Targets:
    """The rows to act on: typed keys (with the text each was given as), or a list query."""

    keys: list[KeyValues] | None = None
    shown: dict[KeyValues, str] = field(default_factory=dict)
    query: ListQuery | None = None


def _filter_text(value: Any) -> str:
    """A JSON filter operand as the list's query string writes it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join(_filter_text(v) for v in value)
    return str(value)


def filter_params(raw: Mapping[str, Any]) -> tuple[FilterParam, ...]:
    """``{field: {op: value}}`` (or ``{field: value}``) as the list's filter parameters."""
    params = []
    for name, spec in raw.items():
        ops = spec if isinstance(spec, dict) else {"eq": spec}
        if not ops:
            raise BadRequest(f"filter.{name} names no operator.", parameter="filter")
        for op, value in ops.items():
            key = f"filter[{name}][{op}]"
            if value is None and op in ("eq", "ne"):
                # null: "is empty" (eq) or "is not empty" (ne), as SQL's IS [NOT] NULL.
                params.append(
                    FilterParam(key, name, "isnull", ("true" if op == "eq" else "false",))
                )
                continue
            if value is None:
                raise BadRequest(f"{key} needs a value, not null.", parameter="filter")
            if isinstance(value, list):
                if op not in ("in", "overlaps"):
                    raise BadRequest(f"{key} takes one value, not a list.", parameter="filter")
                if any(isinstance(v, str) and "," in v for v in value):
                    # The list's grammar separates the values of in/overlaps by commas.
                    raise BadRequest(
                        f"The values of {key} cannot hold a comma.", parameter="filter"
                    )
            params.append(FilterParam(key, name, op, (_filter_text(value),)))
    return tuple(params)


def check_edit(
    records: RecordService, actor: Actor, name: str, request: BulkRequest
) -> tuple[Resource, Targets, dict[KeyValues, int]]:
    """The resource, the rows to act on and the versions given; 4xx for what no row makes right.

    The permission on the resource, the request's shape (exactly one of
    ``pks``/``filter``, a ``patch`` for ``update`` only), every key, the
    filter, and the patch's fields (unknown, hidden or read-only fields and
    values of the wrong type are a 422). Writes nothing.
    """
    resource = records.resource(actor, name, PERMISSIONS[request.op], record=True)
    op = request.op
    if op in ("delete", "restore") and not resource.soft_delete:
        raise BadRequest(f"{resource.label_plural} have no soft delete; purge instead.")
    has_pks = request.pks is not None
    has_filter = request.filter is not None
    if has_pks == has_filter:
        raise BadRequest("Give either pks or filter (exactly one).")
    if op == "update":
        if request.patch is None or not request.patch:
            raise BadRequest("An update needs a patch of the fields to set.")
        _check_patch(records, actor, resource, request)
    elif request.patch is not None:
        raise BadRequest(f"{op} takes no patch.")
    if has_pks and (request.q is not None or request.deleted is not None):
        raise BadRequest("q and deleted go with filter, not with pks.")
    targets = Targets()
    if has_pks:
        assert request.pks is not None
        if len(request.pks) > MAX_PKS:
            raise PayloadTooLarge(f"At most {MAX_PKS} keys in one request; use a filter for more.")
        targets.keys = []
        bad: list[str] = []
        for text in request.pks:
            key = resource.pk_values(text, url=True)
            if key is None:
                bad.append(text)
            elif key not in targets.shown:
                targets.shown[key] = text
                targets.keys.append(key)
        if bad:
            raise ValidationFailed(
                [FieldError("pks", f"Not a key of {resource.label_plural.lower()}: {t!r}.")
                 for t in bad[:20]],
                detail=f"{len(bad)} of the keys cannot be {resource.label.lower()} keys.",
            )  # fmt: skip
    else:
        assert request.filter is not None
        targets.query = _list_query(records, actor, resource, request)
    versions: dict[KeyValues, int] = {}
    if request.versions is not None:
        bad = []
        for text, version in request.versions.items():
            key = resource.pk_values(text, url=True)
            if key is None:
                bad.append(text)
            else:
                versions[key] = version
        if bad:
            raise ValidationFailed([FieldError("versions", f"Not a key: {t!r}.") for t in bad[:20]])
    return resource, targets, versions


def _list_query(
    records: RecordService, actor: Actor, resource: Resource, request: BulkRequest
) -> ListQuery:
    assert request.filter is not None
    deleted: Deleted = request.deleted or ("only" if request.op == "restore" else "exclude")
    params = RecordListQuery(
        limit=1,
        filters=filter_params(request.filter),
        q=None if request.q is None else search_text(request.q),
        deleted=deleted,
    )
    readable = records.policy.readable_fields(actor, resource)
    return resolve_list_query(resource, params, readable)


def _check_patch(
    records: RecordService, actor: Actor, resource: Resource, request: BulkRequest
) -> None:
    """422 for what no row can make right: unknown or hidden fields, types, read-only fields."""
    policy = records.policy
    patch = request.patch
    assert patch is not None
    readable = policy.readable_fields(actor, resource)
    writable = policy.writable_fields(actor, resource, None, action="change")
    errors: list[FieldError] = []
    for name in patch:
        if name.startswith("_"):
            errors.append(FieldError(name, "Record metadata cannot be set by a bulk edit."))
        elif name not in resource.fields or name not in readable:
            errors.append(FieldError(name, "Unknown field."))
        elif name not in writable:
            errors.append(FieldError(name, "This field is read-only."))
    if errors:
        raise ValidationFailed(errors)
    # Types and the rules that need no row: checked against a row holding nothing.
    try:
        validate_patch(resource, patch, {}, readable=readable, writable=writable, roles=actor.roles)
    except ValidationFailed as exc:
        # A rule that depends on the row (a protected field) is the row's business.
        typed = [e for e in exc.errors if not _row_rule(e)]
        if typed:
            raise ValidationFailed(typed) from None


_ROW_RULES = ("may not be emptied once set",)


def _row_rule(error: FieldError) -> bool:
    return any(text in error.message for text in _ROW_RULES)
