"""The HTTP edge shared by the route modules: typed bodies in, JSON out, the actor.

Route handlers never take the raw request. They declare what they need:

* ``data: SomeStruct`` — the body, decoded by :class:`JsonRequest` (the app's
  request class: 415 for a media type other than JSON, 400 for malformed or
  too deeply nested JSON, NUL bytes refused) and converted by Litestar into
  the msgspec type; a value of the wrong type or an unknown field becomes a
  422 naming the field (:func:`collabadmin.errors.problem_response`).
* ``actor: Injected[Actor]`` and ``request_id: Injected[str | None]`` — the
  dependencies :func:`edge_dependencies` provides from the connection.

Below every surface in the layering (it knows only the database's ``Actor``):
reading a write's precondition, which is the record service's, is
:mod:`collabadmin.resources.preconditions`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec
from litestar import Request, Response
from litestar.di import Provide
from litestar.types import Empty

from collabadmin.db.engine import Actor
from collabadmin.errors import JSON_BODY_STATE, BadRequest, Unauthorized, UnsupportedMediaType
from collabadmin.inputs import MAX_JSON_DEPTH, check_json

__all__ = [
    "JsonObject",
    "JsonRequest",
    "actor_of",
    "edge_dependencies",
    "etag",
    "json_response",
    "query_params",
    "read_json_object",
    "request_id_of",
]

JSON_TYPES = frozenset({"application/json", "application/merge-patch+json"})
_encoder = msgspec.json.Encoder(decimal_format="number")


def actor_of(request: Request[Any, Any, Any]) -> Actor:
    actor = request.scope.get("user")
    if not isinstance(actor, Actor):
        raise Unauthorized()
    return actor


JsonObject = dict[str, Any]
"""What JSON handlers declare they return, so the OpenAPI document says "an object".

They return :func:`json_response`'s pre-encoded bytes (msgspec, once), which
Litestar sends as they are; the annotation only describes the body.
"""


def json_response(
    body: Any, status: int = 200, headers: Mapping[str, str] | None = None
) -> Response[Any]:
    return Response(
        content=_encoder.encode(body),
        status_code=status,
        media_type="application/json",
        headers=dict(headers or {}),
    )


def etag(version: int) -> str:
    return f'"{version}"'


async def read_json(request: Request[Any, Any, Any]) -> Any:
    """The body as JSON; 415 for another media type, 400 if malformed or too deep."""
    media_type = (request.headers.get("content-type") or "").split(";")[0].strip().lower()
    if media_type not in JSON_TYPES:
        raise UnsupportedMediaType(
            "Send the body as application/json (or application/merge-patch+json)."
        )
    raw = await request.body()
    try:
        body = msgspec.json.decode(raw)
    except msgspec.DecodeError:
        raise BadRequest("The body is not valid JSON.") from None
    except RecursionError:
        raise BadRequest(f"The body is nested deeper than {MAX_JSON_DEPTH} levels.") from None
    check_json(body)
    return body


async def read_json_object(request: Request[Any, Any, Any]) -> dict[str, Any]:
    """The body as a JSON object (see :func:`read_json`)."""
    body = await read_json(request)
    if not isinstance(body, dict):
        raise BadRequest("The body must be a JSON object.")
    return body


class JsonRequest(Request[Any, Any, Any]):
    """The app's request class: a handler's ``data`` is read by :func:`read_json`.

    Litestar asks the request for its JSON when it builds a handler's
    ``data`` argument; answering here puts the media type, syntax, depth and
    NUL checks in front of every typed body, so no handler repeats them.
    """

    async def json(self) -> Any:
        if self._json is Empty:
            self._json = await read_json(self)
            # Kept for the error handler, which lists every field of a body
            # that failed conversion (it is given a new request object).
            self.scope.setdefault("state", {})[JSON_BODY_STATE] = self._json
        return self._json


def edge_dependencies() -> dict[str, Provide]:
    """``actor`` and ``request_id`` for route handlers (the app provides them)."""
    return {
        "actor": Provide(actor_of, sync_to_thread=False),
        "request_id": Provide(request_id_of, sync_to_thread=False),
    }


def query_params(request: Request[Any, Any, Any]) -> dict[str, list[str]]:
    params: dict[str, list[str]] = {}
    for key, value in request.query_params.multi_items():
        params.setdefault(key, []).append(value)
    return params


def request_id_of(request: Request[Any, Any, Any]) -> str | None:
    """The request id the change log records (set by the request-id middleware)."""
    value = request.scope.get("state", {}).get("request_id")
    return value if isinstance(value, str) else None
