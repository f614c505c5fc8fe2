"""Per-resource record schemas in the OpenAPI document, and a path per resource.

The record routes are generic (``/api/r/{resource}``), so the schema Litestar
derives for them can only say "an object". After the app is built, this
module adds, for every resource of the registry (the demo's, or those
reflected from an adopted database):

- a component ``Record_<name>`` generated from its fields: each field's JSON
  form (resources.md, "Column types": a decimal is a string, a date a
  ``date`` string, a time-zone-aware date-time a ``date-time`` string,
  choices an ``enum``, binary base64...), null allowed where the column is
  nullable, ``readOnly`` for read-only fields, and the ``_version`` and
  ``_deleted_at`` members every record carries;
- ``RecordPage_<name>``, its list page (``{items, next_cursor, total}``);
- the paths ``/api/r/<name>``, ``/api/r/<name>/{pk}`` and its ``restore``,
  ``revert`` and (for a resource that declares some) ``actions/{name}``:
  copies of the generic operations that carry records, without the
  ``resource`` parameter, whose bodies refer to those components, as
  PostgREST and Directus document one path per table. The
  generic ``{resource}`` paths stay (and alone describe OPTIONS, history and
  drafts, whose bodies do not depend on the resource).

Which fields a reader sees depends on the policy (hidden fields are left
out of bodies), so no field is ``required`` in a record schema, only
``_version`` and ``_deleted_at``; and unknown members stay allowed, so the
same schema holds for every reader.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any
from urllib.parse import quote

from litestar.openapi.spec import OpenAPI, Operation, PathItem, Reference

from collabadmin.resources.fields import Field
from collabadmin.resources.resource import Registry, Resource

__all__ = ["document_records", "field_schema", "record_schema"]

GENERIC = "/api/r/{resource}"
# The generic operations whose 2xx body is one record, and the one that lists them.
_RECORD_OPERATIONS = frozenset(
    {
        "createRecord",
        "getRecord",
        "patchRecord",
        "deleteRecord",
        "restoreRecord",
        "revertRecord",
        "runRecordAction",
    }
)
# Documented per resource only for the resources that declare record actions.
_ACTION_OPERATIONS = frozenset({"runRecordAction"})
_PAGE_OPERATIONS = frozenset({"listRecords"})
_TYPED = _RECORD_OPERATIONS | _PAGE_OPERATIONS
# The bodies that write a record's fields.
_WRITE_OPERATIONS = frozenset({"createRecord", "patchRecord"})
# What a read-only resource (a view, a live view) answers 405 to: not documented for it.
_CHANGING_OPERATIONS = _WRITE_OPERATIONS | frozenset(
    {"deleteRecord", "restoreRecord", "revertRecord", "runRecordAction"}
)
_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")
_NOT_WORD = re.compile(r"[^A-Za-z0-9]+")


def _scalar(field_type: str, field: Field) -> dict[str, Any]:
    match field_type:
        case "string" | "text":
            schema: dict[str, Any] = {"type": "string"}
            if field.max_length is not None:
                schema["maxLength"] = field.max_length
            if field.pattern is not None:
                schema["pattern"] = field.pattern
            if field.choices is not None:
                schema["enum"] = list(field.choices)
            return schema
        case "integer":
            schema = {"type": "integer"}
            if field.bounds is not None:
                schema["minimum"], schema["maximum"] = field.bounds
            return schema
        case "decimal":
            # Exact: a string, so no client rounds it through a binary float.
            return {"type": "string", "format": "decimal", "pattern": r"^-?\d+(\.\d+)?$"}
        case "float":
            # Non-finite values have no JSON number; they travel as these strings.
            return {"anyOf": [{"type": "number"}, {"enum": ["NaN", "Infinity", "-Infinity"]}]}
        case "boolean":
            return {"type": "boolean"}
        case "date":
            return {"type": "string", "format": "date"}
        case "datetime":
            # Without a time zone (timestamp) there is no offset: not an RFC 3339 date-time.
            if field.timezone:
                return {"type": "string", "format": "date-time"}
            return {"type": "string", "description": "a local date-time, without offset"}
        case "time":
            return {"type": "string", "description": "a time of day (ISO 8601)"}
        case "duration":
            return {"type": "string", "description": "an ISO 8601 duration, such as P1DT2H30M"}
        case "uuid":
            return {"type": "string", "format": "uuid"}
        case "binary":
            return {"type": "string", "contentEncoding": "base64"}
        case "json":
            return {}
    return {"type": "string"}


def field_schema(field: Field) -> dict[str, Any]:
    """The JSON Schema of one field's JSON form, as record bodies carry it."""
    if field.type == "array":
        # Length, pattern and choices are checked on whole values, not on elements.
        element = {
            k: v
            for k, v in _scalar(field.items or "string", field).items()
            if k not in ("enum", "maxLength", "pattern")
        }
        schema: dict[str, Any] = {"type": "array", "items": _nullable(element)}
    else:
        schema = _scalar(field.type, field)
    if field.nullable:
        # Even a required field: a row written outside the API may hold a null.
        schema = _nullable(schema)
    if field.read_only:
        schema["readOnly"] = True
    if field.label:
        schema["title"] = field.label
    return schema


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    if not schema:
        return schema  # json: anything, null included
    if "enum" in schema:
        return {**schema, "enum": [*schema["enum"], None]}
    if isinstance(schema.get("type"), str):
        return {**schema, "type": [schema["type"], "null"]}
    return {"anyOf": [schema, {"type": "null"}]}


def record_schema(resource: Resource) -> dict[str, Any]:
    """A record of ``resource``: its fields, ``_version`` and ``_deleted_at``."""
    properties = {name: field_schema(f) for name, f in resource.fields.items()}
    properties["_version"] = {"type": "integer", "readOnly": True}
    properties["_deleted_at"] = {
        "type": ["string", "null"],
        "format": "date-time",
        "readOnly": True,
    }
    return {
        "type": "object",
        "title": resource.label,
        "properties": properties,
        "required": ["_version", "_deleted_at"],
    }


def _unique(names: dict[str, str]) -> dict[str, str]:
    taken: set[str] = set()
    unique: dict[str, str] = {}
    for key, base in names.items():
        name, n = base, 1
        while name in taken:
            n += 1
            name = f"{base}{n}"
        taken.add(name)
        unique[key] = name
    return unique


def _component_names(registry: Registry) -> dict[str, str]:
    """``Record_<name>``'s suffix: the name with what a component name cannot hold as ``_``."""
    return _unique({r.name: _UNSAFE.sub("_", r.name) or "_" for r in registry})


def _operation_suffixes(registry: Registry) -> dict[str, str]:
    """``listRecords`` + ``CourseInstructors``: operation ids stay identifiers (letters, digits)."""
    return _unique(
        {
            r.name: "".join(w[:1].upper() + w[1:] for w in _NOT_WORD.split(r.name)) or "Resource"
            for r in registry
        }
    )


def _with_schema(holder: Any, schema: Reference) -> Any:
    """A copy of a response or request body whose every media type has ``schema``."""
    content = getattr(holder, "content", None)
    if not content:
        return holder
    media = {kind: replace(m, schema=schema) for kind, m in content.items()}
    return replace(holder, content=media)


def _copy(
    operation: Operation, resource: Resource, suffix: str, refs: dict[str, Reference]
) -> Operation:
    """The generic operation for one resource: its id, its summary, its record schemas.

    Only what differs is copied (a deep copy of each operation, per resource,
    cost seconds of start-up for an adopted database of 500 tables); the
    rest is shared with the generic operation, which is never changed.
    """
    op_id = operation.operation_id or ""
    target = (
        refs["record"]
        if op_id in _RECORD_OPERATIONS
        else refs["page"]
        if op_id in _PAGE_OPERATIONS
        else None
    )
    responses = dict(operation.responses or {})
    if target is not None:
        for code, response in responses.items():
            if code.startswith("2"):
                responses[code] = _with_schema(response, target)
    body = operation.request_body
    if op_id in _WRITE_OPERATIONS and body is not None:
        body = _with_schema(body, refs["record"])
    return replace(
        operation,
        operation_id=f"{op_id}{suffix}",
        parameters=[
            p for p in (operation.parameters or []) if getattr(p, "name", None) != "resource"
        ]
        or None,
        summary=f"{operation.summary} ({resource.label_plural})" if operation.summary else None,
        responses=responses or None,
        request_body=body,
    )


def document_records(document: OpenAPI, registry: Registry) -> None:
    """Add each resource's record schemas and paths to ``document`` (in place)."""
    paths = document.paths or {}
    generic = {p: item for p, item in paths.items() if p == GENERIC or p.startswith(GENERIC + "/")}
    if not generic:
        return
    if document.components.schemas is None:
        document.components.schemas = {}
    schemas: dict[str, Any] = document.components.schemas
    suffixes = _component_names(registry)
    op_suffixes = _operation_suffixes(registry)
    for resource in registry:
        suffix = suffixes[resource.name]
        record_name, page_name = f"Record_{suffix}", f"RecordPage_{suffix}"
        # Plain JSON Schema dicts, as msgspec's components are (openapi.py).
        schemas[record_name] = record_schema(resource)
        record = Reference(ref=f"#/components/schemas/{record_name}")
        schemas[page_name] = {
            "type": "object",
            "title": f"A page of {resource.label_plural}",
            "properties": {
                "items": {"type": "array", "items": {"$ref": record.ref}},
                "next_cursor": {"type": ["string", "null"]},
                "total": {"type": ["integer", "null"]},
            },
            "required": ["items", "next_cursor", "total"],
        }
        refs = {"record": record, "page": Reference(ref=f"#/components/schemas/{page_name}")}
        prefix = f"/api/r/{quote(resource.name, safe='')}"
        for path, item in generic.items():
            if "{pk}" in path and not resource.pk:
                continue  # a list-only resource: no record has an address
            copied, any_copied = PathItem(), False
            for method in _METHODS:
                operation = getattr(item, method, None)
                # Only what carries this resource's records; describe, history and
                # drafts read the same whatever the resource, and stay generic.
                if isinstance(operation, Operation) and operation.operation_id in _TYPED:
                    if operation.operation_id in _ACTION_OPERATIONS and not resource.record_actions:
                        continue
                    if resource.read_only and operation.operation_id in _CHANGING_OPERATIONS:
                        continue
                    suffix = op_suffixes[resource.name]
                    setattr(copied, method, _copy(operation, resource, suffix, refs))
                    any_copied = True
            if any_copied:
                paths[prefix + path[len(GENERIC) :]] = copied
    document.paths = paths
