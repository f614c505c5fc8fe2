"""The HTTP edge shared by the route modules: typed bodies in, JSON out, the actor.

Route handlers never take the raw request. They declare what they need:

* ``data: SomeStruct`` — the body, decoded by :class:`JsonRequest` (the app's
  request class: 415 for a media type other than JSON, 400 for malformed or
  too deeply nested JSON, NUL bytes refused) and converted by Litestar into
  the msgspec type; a value of the wrong type or an unknown field becomes a
  422 naming the field (:func:`collabadmin.errors.problem_response`).
* ``actor: Injected[Actor]`` and ``request_id: Injected[str | None]`` — the
  dependencies :func:`edge_dependencies` provides from the connection.
* ``upload: Upload`` — a file sent as the whole body (an import's CSV or
  XLSX), read by the dependency :func:`upload_dependency` makes: its media
  type checked (415) and its size capped as it arrives (413).
* ``limit: FromQuery[int | None] = None`` — a query parameter, typed (and so
  documented); the ``before_request`` hook :func:`strict_query` refuses what Litestar's own
  parsing would let through silently: a parameter given twice (Litestar
  keeps the last), a number that is not plain ASCII digits (msgspec reads
  ``1e2`` as 100), a yes/no that is not ``true`` or ``false``, and a
  parameter the handler does not declare.

Below every surface in the layering (it knows only the database's ``Actor``):
reading a write's precondition, which is the record service's, is
:mod:`collabadmin.resources.preconditions`.
"""

from __future__ import annotations

import re
import types
from collections.abc import Callable, Iterator, Mapping
from typing import Annotated, Any, NamedTuple, TypeVar, get_args

import msgspec
from litestar import Request, Response
from litestar.di import Dependency, Provide
from litestar.enums import ParamType
from litestar.handlers import BaseRouteHandler
from litestar.params import ParameterKwarg, SkipValidationMarker
from litestar.serialization import default_serializer
from litestar.types import Empty, Serializer
from litestar.typing import FieldDefinition

from collabadmin.db.engine import Actor
from collabadmin.errors import (
    JSON_BODY_STATE,
    BadRequest,
    PayloadTooLarge,
    Unauthorized,
    UnsupportedMediaType,
)
from collabadmin.inputs import MAX_JSON_DEPTH, ascii_int, check_json
from collabadmin.settings import Settings

__all__ = [
    "QUERY_OBJECTS",
    "JsonObject",
    "JsonRequest",
    "JsonResponse",
    "Upload",
    "actor_of",
    "edge_dependencies",
    "etag",
    "json_response",
    "query_params",
    "read_json_object",
    "request_id_of",
    "strict_query",
    "upload_dependency",
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


T = TypeVar("T")


class JsonResponse(Response[T]):
    """A response whose JSON body is encoded as :func:`json_response` encodes.

    A handler returns a Struct (or ``JsonResponse(struct, headers=...)`` for
    its status and headers) where its router sets ``response_class =
    JsonResponse``. Litestar's own encoder writes a ``Decimal`` as a string;
    the numbers of a draft's data or a change's diff are read exactly from
    PostgreSQL (:mod:`collabadmin.db.json`) and stay JSON numbers (``12.50``).
    """

    def render(
        self, content: Any, media_type: str, enc_hook: Serializer = default_serializer
    ) -> bytes:
        if media_type == "application/json" and not isinstance(content, bytes):
            return _encoder.encode(content)
        return super().render(content, media_type, enc_hook)


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


class Upload(NamedTuple):
    """A file sent as the whole request body: its media type and its bytes."""

    media_type: str
    body: bytes


def upload_dependency(accepted: tuple[str, ...], max_bytes: Callable[[Settings], int]) -> Provide:
    """The ``upload`` dependency of a route taking a file of one of ``accepted`` media types.

    The body is read as it arrives and refused (413) once it passes
    ``max_bytes(settings)``, so a huge file is never held whole; the route
    sets ``request_max_body_size=None`` to leave the cap to this.
    """

    async def read_upload(
        request: Request[Any, Any, Any],
        settings: Annotated[Settings, Dependency(kind="named"), SkipValidationMarker()],
    ) -> Upload:
        media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if media_type not in accepted:
            raise UnsupportedMediaType(f"Send the file as {' or '.join(accepted)}.")
        limit = max_bytes(settings)
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > limit:
                raise PayloadTooLarge(f"The file is larger than {limit} bytes.", limit=limit)
        return Upload(media_type, bytes(body))

    return Provide(read_upload)


def query_params(request: Request[Any, Any, Any]) -> dict[str, list[str]]:
    params: dict[str, list[str]] = {}
    for key, value in request.query_params.multi_items():
        params.setdefault(key, []).append(value)
    return params


def request_id_of(request: Request[Any, Any, Any]) -> str | None:
    """The request id the change log records (set by the request-id middleware)."""
    value = request.scope.get("state", {}).get("request_id")
    return value if isinstance(value, str) else None


# -- query strings ------------------------------------------------------------

QUERY_OBJECTS = "query_objects"
"""A handler's ``opt`` key: the deepObject parameters it reads itself, name to type.

``opt={QUERY_OBJECTS: {"filter": ListFilter}}``: the handler (or its
dependency) parses the keys ``filter[...]`` and ``filter[...][...]``
itself; :func:`strict_query` lets them through and
:mod:`collabadmin.openapi` documents ``filter`` as a ``deepObject``.
"""
_QUERY_SPEC = "_query_spec"


class _QuerySpec(NamedTuple):
    once: frozenset[str]
    repeatable: frozenset[str]
    integers: frozenset[str]
    booleans: frozenset[str]
    dynamic: re.Pattern[str] | None


def _query_alias(name: str, field: FieldDefinition) -> str | None:
    """The query parameter a signature field reads, if any (``FromQuery``, ``QueryParameter``)."""
    kwarg = field.kwarg_definition
    if isinstance(kwarg, ParameterKwarg) and kwarg.param_type == ParamType.QUERY:
        return kwarg.name or name
    return None


def _signatures(handler: BaseRouteHandler) -> Iterator[dict[str, FieldDefinition]]:
    """The handler's parameters, then those of each dependency it uses (transitively)."""
    dependencies = handler.resolve_dependencies()
    pending, seen = [handler.parsed_fn_signature.parameters], set()
    while pending:
        parameters = pending.pop()
        yield parameters
        for name in parameters:
            if name in dependencies and name not in seen:
                seen.add(name)
                pending.append(dependencies[name].parsed_fn_signature.parameters)


def _query_spec(handler: BaseRouteHandler) -> _QuerySpec:
    once: set[str] = set()
    repeatable: set[str] = set()
    integers: set[str] = set()
    booleans: set[str] = set()
    for parameters in _signatures(handler):
        for name, field in parameters.items():
            alias = _query_alias(name, field)
            if alias is None:
                continue
            (repeatable if field.is_non_string_sequence else once).add(alias)
            kinds = {t for t in get_args(field.annotation) if t is not types.NoneType}
            kinds = kinds or {field.annotation}
            if kinds == {bool}:
                booleans.add(alias)
            elif kinds == {int}:
                integers.add(alias)
    objects = (handler.opt or {}).get(QUERY_OBJECTS) or {}
    dynamic = (
        re.compile("(?:" + "|".join(re.escape(name) for name in objects) + r")\[.*")
        if objects
        else None
    )
    return _QuerySpec(
        frozenset(once), frozenset(repeatable), frozenset(integers), frozenset(booleans), dynamic
    )


async def strict_query(request: Request[Any, Any, Any]) -> None:
    """A ``before_request`` hook: the query string holds only what the handler declares.

    Runs before Litestar converts the parameters, so a 400 names the
    parameter at fault: one not declared (nor a key of one of the handler's
    ``opt[QUERY_OBJECTS]``), a single one given twice, a number other than
    ASCII digits (an optional ``-``, 18 digits at most), a yes/no other than
    ``true``/``false``. What each value means (ranges, choices) is checked by
    Litestar's conversion and the handler. A coroutine, and a hook rather
    than a guard: Litestar runs a plain function hook in a worker thread and
    copies the handler for every guard it calls, either of which would cost
    each request more than the check.
    """
    if not request.scope.get("query_string"):
        return
    handler = request.route_handler
    spec = handler.opt.get(_QUERY_SPEC)
    if not isinstance(spec, _QuerySpec):
        spec = _query_spec(handler)
        handler.opt[_QUERY_SPEC] = spec
    seen: set[str] = set()
    for key, value in request.query_params.multi_items():
        if key in spec.once:
            if key in seen:
                raise BadRequest(f"Parameter {key!r} given more than once.", parameter=key)
            seen.add(key)
        elif key not in spec.repeatable and not (spec.dynamic and spec.dynamic.fullmatch(key)):
            raise BadRequest(f"Unknown query parameter {key!r}.", parameter=key)
        if key in spec.integers and ascii_int(value, signed=True) is None:
            raise BadRequest(f"{key} must be a whole number.", parameter=key)
        if key in spec.booleans and value not in ("true", "false"):
            raise BadRequest(f"{key} must be true or false.", parameter=key)
