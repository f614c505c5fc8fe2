"""After the app is built, the OpenAPI document is completed with what Litestar cannot see.

- Errors: Litestar documents a generic ``400`` in its own error format for
  handlers that take parameters; collabadmin answers every error, whatever
  its status, with ``application/problem+json`` (:mod:`collabadmin.errors`).
  Each operation's error responses are replaced by one ``4XX`` and one
  ``5XX`` range response of that shape, so generated clients and
  Schemathesis see the truth.
- Request bodies: handlers read their JSON bodies themselves; the type each
  one names in ``opt["request_body"]`` becomes its documented body. A body
  Struct that refuses unknown members (``forbid_unknown_fields``) says so
  (``additionalProperties: false``), which Litestar's schemas leave out.
- Optional bodies: a typed body with a default (``JSONBody[T | None] = None``)
  is not ``required``.
- Query objects: the ``deepObject`` parameters a handler reads itself
  (``opt[QUERY_OBJECTS]``, such as a list's ``filter[field][op]``).
- Websocket frames: the ``Frame`` union and its members, as components.

The per-resource record schemas are :mod:`collabadmin.resources.schemas`'s.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Union, cast

import msgspec
from litestar import Litestar
from litestar.handlers import HTTPRouteHandler
from litestar.openapi.spec import (
    OpenAPI,
    OpenAPIFormat,
    OpenAPIMediaType,
    OpenAPIResponse,
    OpenAPIType,
    Operation,
    Parameter,
    PathItem,
    Reference,
    RequestBody,
    Schema,
)

from collabadmin.bulk.types import JobFrame
from collabadmin.drafts.types import DraftFrame
from collabadmin.hub.frames import CLIENT_MESSAGES, CORE_FRAMES
from collabadmin.web import QUERY_OBJECTS
from collabadmin.workflows.types import WorkflowFrame

__all__ = [
    "FRAMES",
    "ClientMessage",
    "Frame",
    "document_closed_bodies",
    "document_exports",
    "document_frames",
    "document_optional_bodies",
    "document_problems",
    "document_query_objects",
    "document_request_bodies",
]

_PROBLEM = Schema(
    type=OpenAPIType.OBJECT,
    description="RFC 9457 problem details, with extension members where they help",
    required=["type", "title", "status", "detail"],
    properties={
        "type": Schema(type=OpenAPIType.STRING),
        "title": Schema(type=OpenAPIType.STRING),
        "status": Schema(type=OpenAPIType.INTEGER),
        "detail": Schema(type=OpenAPIType.STRING),
        "errors": Schema(
            type=OpenAPIType.ARRAY,
            items=Schema(
                type=OpenAPIType.OBJECT,
                properties={
                    "field": Schema(type=OpenAPIType.STRING),
                    "message": Schema(type=OpenAPIType.STRING),
                },
            ),
        ),
    },
)


def _problem(description: str) -> OpenAPIResponse:
    return OpenAPIResponse(
        description=description,
        content={"application/problem+json": OpenAPIMediaType(schema=_PROBLEM)},
    )


def _operations(document: OpenAPI) -> list[Operation]:
    found = []
    for item in (document.paths or {}).values():
        for method in ("get", "put", "post", "delete", "options", "head", "patch", "trace"):
            operation = getattr(item, method, None)
            if isinstance(operation, Operation):
                found.append(operation)
    return found


def document_problems(document: OpenAPI) -> None:
    """Replace each operation's error responses with problem-details ranges (in place)."""
    for operation in _operations(document):
        responses = {
            code: response
            for code, response in (operation.responses or {}).items()
            if not code.startswith(("4", "5"))
        }
        responses["4XX"] = _problem("The request was refused; the problem says why")
        responses["5XX"] = _problem("The server or its database failed; a request id to report")
        operation.responses = responses


def document_request_bodies(app: Litestar) -> None:
    """Give each operation whose handler names ``opt["request_body"]`` that body's schema.

    The handlers read their JSON bodies themselves (:func:`collabadmin.web.read_json_object`)
    so that a malformed body keeps collabadmin's exact 4xx problems rather than
    Litestar's validation errors; without a ``data`` parameter Litestar documents
    no body, so it is added here from the msgspec type the handler names. Its
    JSON Schema (and those of the types it refers to) comes from
    ``msgspec.json.schema_components`` and is added to the document's components.
    ``opt["request_body_required"] = False`` marks a body that may be left out.
    """
    document = app.openapi_schema
    bodies: dict[str, Any] = {}
    optional: set[str] = set()
    for route in app.routes:
        for handler in getattr(route, "route_handlers", ()):
            opt = handler.opt or {}
            body_type = opt.get("request_body")
            if body_type is not None and isinstance(handler.operation_id, str):
                bodies[handler.operation_id] = body_type
                if opt.get("request_body_required") is False:
                    optional.add(handler.operation_id)
    if not bodies:
        return
    names = sorted(bodies)
    refs, components = msgspec.json.schema_components(
        [bodies[n] for n in names], ref_template="#/components/schemas/{name}"
    )
    if document.components.schemas is None:
        document.components.schemas = {}
    for name, schema in components.items():
        document.components.schemas.setdefault(name, schema)
    by_id = dict(zip(names, refs, strict=True))
    for operation in _operations(document):
        ref = by_id.get(operation.operation_id or "")
        if ref is not None:
            # A struct is a reference; an open object (a record) is its schema itself,
            # kept as the plain dict msgspec made (the document serialises it as is).
            schema = Reference(ref=ref["$ref"]) if "$ref" in ref else cast(Schema, ref)
            operation.request_body = RequestBody(
                # A transition's body (a comment) may be left out altogether.
                required=operation.operation_id not in optional,
                content={"application/json": OpenAPIMediaType(schema=schema)},
            )


def _handlers(app: Litestar) -> Iterator[HTTPRouteHandler]:
    for route in app.routes:
        for handler in getattr(route, "route_handlers", ()):
            if isinstance(handler, HTTPRouteHandler):
                yield handler


def _add_components(document: OpenAPI, types: list[Any]) -> list[dict[str, Any]]:
    """The JSON Schemas of ``types`` (``$ref``s into the document's components, added)."""
    refs, components = msgspec.json.schema_components(
        types, ref_template="#/components/schemas/{name}"
    )
    if document.components.schemas is None:
        document.components.schemas = {}
    for name, schema in components.items():
        document.components.schemas.setdefault(name, schema)
    return list(refs)


def document_query_objects(app: Litestar) -> None:
    """Add each handler's ``opt[QUERY_OBJECTS]`` as ``deepObject`` query parameters.

    The handler (or its dependency) reads those keys from the query string
    itself, because their names are data (``filter[status][in]``); Litestar
    cannot see them, so the parameter is documented here, its schema from
    the msgspec type the handler names.
    """
    document = app.openapi_schema
    objects: dict[str, dict[str, Any]] = {}
    for handler in _handlers(app):
        named = (handler.opt or {}).get(QUERY_OBJECTS)
        if named and isinstance(handler.operation_id, str):
            objects[handler.operation_id] = named
    for operation in _operations(document):
        named = objects.get(operation.operation_id or "")
        if not named:
            continue
        schemas = _add_components(document, list(named.values()))
        operation.parameters = [
            *(operation.parameters or []),
            *(
                Parameter(
                    name=name,
                    param_in="query",
                    schema=cast(Schema, schema),
                    required=False,
                    style="deepObject",
                    explode=True,
                )
                for name, schema in zip(named, schemas, strict=True)
            ),
        ]


def _closed_structs(types: list[Any]) -> set[str]:
    """The names of the Structs among ``types`` (and what they hold) that refuse unknown fields."""
    closed: set[str] = set()
    seen: set[int] = set()
    pending: list[msgspec.inspect.Type] = list(msgspec.inspect.multi_type_info(types))
    while pending:
        info = pending.pop()
        if id(info) in seen:
            continue
        seen.add(id(info))
        if isinstance(info, msgspec.inspect.StructType):
            if info.forbid_unknown_fields:
                closed.add(info.cls.__name__)
            pending.extend(f.type for f in info.fields)
        elif isinstance(info, msgspec.inspect.UnionType):
            pending.extend(info.types)
        elif isinstance(info, msgspec.inspect.DictType):
            pending.extend((info.key_type, info.value_type))
        elif isinstance(info, msgspec.inspect.CollectionType):
            pending.append(info.item_type)
        elif isinstance(info, msgspec.inspect.Metadata):
            pending.append(info.type)
    return closed


def document_closed_bodies(app: Litestar) -> None:
    """``additionalProperties: false`` on the body Structs that refuse unknown members.

    Litestar documents a ``data: SomeStruct`` body without it; a client would
    otherwise believe an extra member harmless, where the server answers 422.
    """
    document = app.openapi_schema
    types = []
    for handler in _handlers(app):
        data = handler.parsed_fn_signature.parameters.get("data")
        if data is not None:
            types.append(data.annotation)
    try:
        closed = _closed_structs(types)
    except TypeError:  # a body type msgspec does not describe: nothing to add
        return
    for name, schema in (document.components.schemas or {}).items():
        title = schema.get("title") if isinstance(schema, dict) else schema.title
        if name in closed or title in closed:
            if isinstance(schema, dict):
                schema["additionalProperties"] = False
            else:
                schema.additional_properties = False


def document_optional_bodies(app: Litestar) -> None:
    """A typed body with a default (``data: JSONBody[T | None] = None``) may be left out.

    Litestar documents it as a required ``T`` or null; it is not required,
    and documented as ``T`` (a draft transition's comment).
    """
    optional = {
        handler.operation_id
        for handler in _handlers(app)
        if (data := handler.parsed_fn_signature.parameters.get("data")) is not None
        and data.has_default
        and isinstance(handler.operation_id, str)
    }
    for operation in _operations(app.openapi_schema):
        body = operation.request_body
        if operation.operation_id in optional and isinstance(body, RequestBody):
            body.required = False
            for media in body.content.values():
                one_of = media.schema.one_of if isinstance(media.schema, Schema) else None
                refs = [s for s in one_of or () if isinstance(s, Reference)]
                if len(refs) == 1:
                    media.schema = refs[0]


FRAMES = (*CORE_FRAMES, DraftFrame, WorkflowFrame, JobFrame)
Frame = Union[FRAMES]  # type: ignore[valid-type]  # noqa: UP007  (a union built from a tuple)
"""Every websocket frame the server sends, tagged by ``type`` (see collabadmin.hub.frames)."""


ClientMessage = Union[CLIENT_MESSAGES]  # type: ignore[valid-type]  # noqa: UP007
"""Every message a client sends on the websocket, tagged by ``type``."""


def document_frames(document: OpenAPI) -> None:
    """Add the websocket messages to the components: each, and their unions.

    A websocket has no place in an OpenAPI operation, so the frames are
    components only, for generated clients and integrators: ``Frame`` (what
    the server sends) and ``ClientMessage`` (what a client sends) are each a
    ``oneOf`` of their schemas with ``type`` as its discriminator.
    """
    unions, components = msgspec.json.schema_components(
        [Frame, ClientMessage], ref_template="#/components/schemas/{name}"
    )
    if document.components.schemas is None:
        document.components.schemas = {}
    for name, schema in components.items():
        document.components.schemas.setdefault(name, schema)
    for title, union in zip(("Frame", "ClientMessage"), unions, strict=True):
        # Tagged messages exclude each other: oneOf, not the anyOf msgspec writes.
        one_of = {"oneOf" if key == "anyOf" else key: value for key, value in union.items()}
        document.components.schemas[title] = cast(Schema, {"title": title, **one_of})
    # A batch holds frames (msgspec sees only objects there).
    batch = cast(dict[str, Any], document.components.schemas["BatchFrame"])
    batch["properties"]["frames"]["items"] = {"$ref": "#/components/schemas/Frame"}


_EXPORTS = {
    "csv": ("exportRecordsCsv", "text/csv"),
    "xlsx": (
        "exportRecordsXlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ),
}
_BINARY = Schema(type=OpenAPIType.STRING, format=OpenAPIFormat.BINARY)
_IMPORT_TYPES = (
    "text/csv",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
)


def document_exports(document: OpenAPI) -> None:
    """Document ``GET /api/r/{resource}.csv`` and ``.xlsx``, and the import's file body.

    A path parameter is a whole segment, so the list's handler serves the
    export paths (``courses.csv`` arrives as its ``resource``): they are
    added here as operations of their own, with the list's parameters
    (``limit`` and ``cursor`` aside: an export has every page) and
    ``columns``. The import reads its body itself (CSV or XLSX, with its own
    size cap), so its request body is described here too.
    """
    paths = document.paths or {}
    listing = paths.get("/api/r/{resource}")
    operation = listing.get if listing is not None else None
    if operation is not None:
        parameters = [
            p
            for p in operation.parameters or []
            if not (isinstance(p, Parameter) and p.name in ("limit", "cursor"))
        ]
        columns = Parameter(
            name="columns",
            param_in="query",
            required=False,
            description="The fields to export, comma-separated, in order"
            " (default: every field the user may read).",
            schema=Schema(type=OpenAPIType.STRING),
        )
        for suffix, (operation_id, media_type) in _EXPORTS.items():
            paths[f"/api/r/{{resource}}.{suffix}"] = PathItem(
                get=Operation(
                    operation_id=operation_id,
                    summary=f"Export the list as {suffix.upper()}: every page, streamed",
                    tags=operation.tags,
                    parameters=[*parameters, columns],
                    responses={
                        "200": OpenAPIResponse(
                            description="The file, its first row the columns' labels",
                            content={media_type: OpenAPIMediaType(schema=_BINARY)},
                        ),
                        "4XX": _problem("The request was refused; the problem says why"),
                        "5XX": _problem(
                            "The server or its database failed; a request id to report"
                        ),
                    },
                )
            )
    for item in paths.values():
        post = item.post
        if isinstance(post, Operation) and post.operation_id == "importRecords":
            post.request_body = RequestBody(
                required=True,
                description="The file: its first row names the columns (field names or labels).",
                content={
                    media_type: OpenAPIMediaType(schema=_BINARY) for media_type in _IMPORT_TYPES
                },
            )
