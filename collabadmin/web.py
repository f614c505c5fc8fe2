"""Small HTTP helpers shared by the route modules: JSON in, JSON out, preconditions."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import msgspec
from litestar import Request, Response

from collabadmin.changelog.conflicts import Precondition
from collabadmin.db.engine import Actor
from collabadmin.errors import BadRequest, PreconditionRequired, Unauthorized, UnsupportedMediaType
from collabadmin.inputs import MAX_JSON_DEPTH, ascii_int, check_json

__all__ = [
    "JsonObject",
    "actor_of",
    "etag",
    "json_response",
    "parse_precondition",
    "query_params",
    "read_json_object",
    "request_id_of",
]

JSON_TYPES = frozenset({"application/json", "application/merge-patch+json"})
_ETAG = re.compile(r'^\s*(?:W/)?"?([0-9]{1,9})"?\s*$', re.ASCII)
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


def parse_precondition(request: Request[Any, Any, Any], *, allow_merge: bool) -> Precondition:
    """``If-Match`` (strict) or, where allowed, ``X-Base-Version`` (field merge); else 428."""
    if_match = request.headers.get("if-match")
    if if_match is not None:
        match = _ETAG.match(if_match)
        if match is None:
            raise PreconditionRequired(
                'If-Match must name one version, like If-Match: "3" (a * is not accepted).'
            )
        return Precondition(int(match.group(1)), strict=True)
    base = request.headers.get("x-base-version") if allow_merge else None
    if base is not None:
        version = ascii_int(base.strip(), max_digits=9)
        if version is None:
            raise BadRequest("X-Base-Version must be a version number.")
        return Precondition(version, strict=False)
    wanted = "If-Match or X-Base-Version" if allow_merge else "If-Match"
    raise PreconditionRequired(f"This request needs an {wanted} header.")


def query_params(request: Request[Any, Any, Any]) -> dict[str, list[str]]:
    params: dict[str, list[str]] = {}
    for key, value in request.query_params.multi_items():
        params.setdefault(key, []).append(value)
    return params


def request_id_of(request: Request[Any, Any, Any]) -> str | None:
    """The request id the change log records (set by the request-id middleware)."""
    value = request.scope.get("state", {}).get("request_id")
    return value if isinstance(value, str) else None
