"""After the app is built, the OpenAPI document is completed with what Litestar cannot see.

- Errors: Litestar documents a generic ``400`` in its own error format for
  handlers that take parameters; collabadmin answers every error, whatever
  its status, with ``application/problem+json`` (:mod:`collabadmin.errors`).
  Each operation's error responses are replaced by one ``4XX`` and one
  ``5XX`` range response of that shape, so generated clients and
  Schemathesis see the truth.
- Request bodies: handlers read their JSON bodies themselves; the type each
  one names in ``opt["request_body"]`` becomes its documented body.
- Websocket frames: the ``Frame`` union and its members, as components.

The per-resource record schemas are :mod:`collabadmin.resources.schemas`'s.
"""

from __future__ import annotations

from typing import Any, Union, cast

import msgspec
from litestar import Litestar
from litestar.openapi.spec import (
    OpenAPI,
    OpenAPIMediaType,
    OpenAPIResponse,
    OpenAPIType,
    Operation,
    Reference,
    RequestBody,
    Schema,
)

from collabadmin.drafts.types import DraftFrame
from collabadmin.hub.frames import CORE_FRAMES
from collabadmin.workflows.types import WorkflowFrame

__all__ = ["FRAMES", "Frame", "document_frames", "document_problems", "document_request_bodies"]

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


FRAMES = (*CORE_FRAMES, DraftFrame, WorkflowFrame)
Frame = Union[FRAMES]  # type: ignore[valid-type]  # noqa: UP007  (a union built from a tuple)
"""Every websocket frame the server sends, tagged by ``type`` (see collabadmin.hub.frames)."""


def document_frames(document: OpenAPI) -> None:
    """Add the websocket frames to the components: each frame, and ``Frame``, their union.

    A websocket has no place in an OpenAPI operation, so the frames are
    components only, for generated clients and integrators: ``Frame`` is a
    ``oneOf`` of the frame schemas with ``type`` as its discriminator.
    """
    (union,), components = msgspec.json.schema_components(
        [Frame], ref_template="#/components/schemas/{name}"
    )
    if document.components.schemas is None:
        document.components.schemas = {}
    for name, schema in components.items():
        document.components.schemas.setdefault(name, schema)
    # Tagged frames exclude each other: oneOf, not the anyOf msgspec writes.
    union = {"oneOf" if key == "anyOf" else key: value for key, value in union.items()}
    document.components.schemas["Frame"] = cast(Schema, {"title": "Frame", **union})
    # A batch holds frames (msgspec sees only objects there).
    batch = cast(dict[str, Any], document.components.schemas["BatchFrame"])
    batch["properties"]["frames"]["items"] = {"$ref": "#/components/schemas/Frame"}
