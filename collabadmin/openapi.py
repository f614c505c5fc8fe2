"""The OpenAPI document says what errors really look like: RFC 9457 problem details.

Litestar documents a generic ``400`` in its own error format for handlers
that take parameters; collabadmin answers every error, whatever its status,
with ``application/problem+json`` (:mod:`collabadmin.errors`). After the app
is built, each operation's error responses are replaced by one ``4XX`` and
one ``5XX`` range response of that shape, so generated clients and
Schemathesis see the truth.
"""

from __future__ import annotations

from litestar.openapi.spec import (
    OpenAPI,
    OpenAPIMediaType,
    OpenAPIResponse,
    OpenAPIType,
    Operation,
    Schema,
)

__all__ = ["document_problems"]

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
