"""Small HTTP helpers shared by the route modules: JSON in, JSON out, the actor.

Below every surface in the layering (it knows only the database's ``Actor``):
reading a write's precondition, which is the record service's, is
:mod:`collabadmin.resources.preconditions`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec
from litestar import Request, Response

from collabadmin.db.engine import Actor
from collabadmin.errors import BadRequest, Unauthorized, UnsupportedMediaType
from collabadmin.inputs import MAX_JSON_DEPTH, check_json

__all__ = [
    "JsonObject",
    "actor_of",
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


async def read_json_object(request: Request[Any, Any, Any]) -> dict[str, Any]:
    """The body as a JSON object; 415 for another media type, 400 if malformed."""
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
    if not isinstance(body, dict):
        raise BadRequest("The body must be a JSON object.")
    check_json(body)
    return body


def query_params(request: Request[Any, Any, Any]) -> dict[str, list[str]]:
    params: dict[str, list[str]] = {}
    for key, value in request.query_params.multi_items():
        params.setdefault(key, []).append(value)
    return params


def request_id_of(request: Request[Any, Any, Any]) -> str | None:
    """The request id the change log records (set by the request-id middleware)."""
    value = request.scope.get("state", {}).get("request_id")
    return value if isinstance(value, str) else None
