"""The one error tree of collabadmin, mapped once to RFC 9457 problem details.

Domain code raises these; :func:`problem_response` turns any exception into an
``application/problem+json`` response. Database errors are translated by
SQLSTATE (never by message text) in :func:`translate_db_error`; no driver
text and no traceback ever reaches a client, and a 500 carries only the
request id so an operator can find it in the logs.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from typing import Any

import msgspec
import psycopg
from litestar import Request, Response
from litestar.exceptions import HTTPException, NotAuthorizedException, PermissionDeniedException
from litestar.exceptions import NotFoundException as LitestarNotFound
from litestar.exceptions import ValidationException as LitestarValidation
from litestar.utils import make_non_optional_union
from psycopg_pool import PoolTimeout

__all__ = [
    "BadRequest",
    "Conflict",
    "FieldError",
    "Forbidden",
    "Locked",
    "NotApplicable",
    "NotFound",
    "PayloadTooLarge",
    "PreconditionFailed",
    "PreconditionRequired",
    "ProblemError",
    "ServiceUnavailable",
    "TooManyRequests",
    "Unauthorized",
    "UnsupportedMediaType",
    "ValidationFailed",
    "problem_response",
    "translate_db_error",
]

log = logging.getLogger("collabadmin.errors")

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_BASE = "urn:collabadmin:problem:"
JSON_BODY_STATE = "json_body"
"""Where the app's request class keeps a decoded JSON body (in the scope's state)."""
# str() is the fallback for str subclasses (e.g. SQLAlchemy quoted names) and dates.
_encoder = msgspec.json.Encoder(enc_hook=str)


class FieldError(msgspec.Struct, frozen=True):
    """One field's validation failure, as listed in a 422's ``errors``."""

    field: str
    message: str


class ProblemError(Exception):
    """Base of every error a client may see; carries its problem details."""

    status: int = 500
    slug: str = "internal-error"
    title: str = "Internal server error"

    def __init__(
        self,
        detail: str | None = None,
        *,
        headers: Mapping[str, str] | None = None,
        **extensions: Any,
    ) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.headers = dict(headers or {})
        self.extensions = extensions

    def to_body(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": PROBLEM_BASE + self.slug,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        }
        body.update(self.extensions)
        return body


class BadRequest(ProblemError):
    status, slug, title = 400, "bad-request", "Bad request"


class Unauthorized(ProblemError):
    status, slug, title = 401, "unauthorized", "Authentication required"


class Forbidden(ProblemError):
    status, slug, title = 403, "forbidden", "Forbidden"


class NotFound(ProblemError):
    status, slug, title = 404, "not-found", "Not found"


class Conflict(ProblemError):
    status, slug, title = 409, "conflict", "Conflict"


class NotApplicable(Conflict):
    """A record action whose condition does not hold for the record now."""

    slug, title = "not-applicable", "Action does not apply"


class PreconditionFailed(ProblemError):
    status, slug, title = 412, "precondition-failed", "Precondition failed"


class PayloadTooLarge(ProblemError):
    status, slug, title = 413, "payload-too-large", "Request body too large"


class UnsupportedMediaType(ProblemError):
    status, slug, title = 415, "unsupported-media-type", "Unsupported media type"


class ValidationFailed(ProblemError):
    status, slug, title = 422, "validation-failed", "Validation failed"

    def __init__(self, errors: Sequence[FieldError], detail: str | None = None) -> None:
        super().__init__(
            detail or "; ".join(f"{e.field}: {e.message}" for e in errors),
            errors=[{"field": e.field, "message": e.message} for e in errors],
        )
        self.errors = list(errors)


class Locked(ProblemError):
    status, slug, title = 423, "locked", "Resource locked"


class PreconditionRequired(ProblemError):
    status, slug, title = 428, "precondition-required", "Precondition required"


class TooManyRequests(ProblemError):
    status, slug, title = 429, "too-many-requests", "Too many requests"


class ServiceUnavailable(ProblemError):
    status, slug, title = 503, "service-unavailable", "Service unavailable"


# SQLSTATE classes we translate. Anything else is a 500 with a request id.
_SQLSTATE: dict[str, tuple[type[ProblemError], str, dict[str, Any]]] = {
    "23505": (Conflict, "A record with the same unique value already exists.", {}),
    "23503": (Conflict, "The change would break a reference between records.", {}),
    "23502": (ValidationFailed, "A required value is missing.", {}),
    "23514": (ValidationFailed, "A value breaks a database check.", {}),
    "22001": (ValidationFailed, "A value is too long.", {}),
    "22003": (ValidationFailed, "A number is out of range.", {}),
    "22007": (ValidationFailed, "A date or time is not valid.", {}),
    "22008": (ValidationFailed, "A date or time is out of range.", {}),
    "22P02": (ValidationFailed, "A value has the wrong format.", {}),
    "40001": (Conflict, "The transaction could not be serialised; retry it.", {"retryable": True}),
    "40P01": (Conflict, "The transaction hit a deadlock; retry it.", {"retryable": True}),
    "55P03": (Locked, "The record is locked by another transaction.", {}),
    "57014": (ServiceUnavailable, "The database cancelled a statement that ran too long.", {}),
}


# A one-column key in a unique or foreign-key violation's detail, e.g.
# 'Key (short_name)=(ds-101) already exists.' Only the column name is kept:
# the value never reaches a client. A key the user's row refers to but that is
# missing names that column; 'is still referenced' (a delete) blames no field.
_KEY_COLUMN = re.compile(
    r'^Key \((?P<q>"?)(?P<column>[A-Za-z_][A-Za-z0-9_$]*)(?P=q)\)=\(.*\)'
    r" (?:already exists|is not present in table)"
)


def _blamed_field(exc: psycopg.Error, message: str) -> FieldError:
    """The field the database blames: its column when it says, else "_" naming the constraint."""
    diag = exc.diag
    column = diag.column_name
    if column is None and diag.message_detail:
        key = _KEY_COLUMN.match(diag.message_detail)
        column = key["column"] if key else None
    if column:
        return FieldError(field=column, message=message)
    if diag.constraint_name:
        return FieldError(field="_", message=f"{message[:-1]} ({diag.constraint_name}).")
    return FieldError(field="_", message=message)


def translate_db_error(exc: psycopg.Error) -> ProblemError | None:
    """Map a database error to a problem by its SQLSTATE, or None if unknown.

    Connection failures (class 08, or no SQLSTATE at all: the connection is
    gone) and shutdowns (57P0x) become 503 so that a client retries instead
    of treating the request as a bug.
    """
    state = exc.sqlstate
    if state is None:
        if isinstance(exc, psycopg.OperationalError | psycopg.InterfaceError):
            return ServiceUnavailable("The database is unavailable.", headers={"Retry-After": "1"})
        return None
    if state.startswith(("08", "57P")):
        return ServiceUnavailable("The database is unavailable.", headers={"Retry-After": "1"})
    known = _SQLSTATE.get(state)
    if known is None:
        return None
    cls, message, extensions = known
    if cls is ValidationFailed:
        return ValidationFailed([_blamed_field(exc, message)])
    extra = dict(extensions)
    if exc.diag.constraint_name:
        extra["constraint"] = exc.diag.constraint_name
    if state in ("23505", "23503"):
        blamed = _blamed_field(exc, message)
        extra["errors"] = [{"field": blamed.field, "message": blamed.message}]
    return cls(message, sqlstate=state, **extra)


def _from_litestar(exc: HTTPException, request: Request[Any, Any, Any]) -> ProblemError:
    if isinstance(exc, NotAuthorizedException):
        return Unauthorized(str(exc.detail) or None)
    if isinstance(exc, PermissionDeniedException):
        return Forbidden(str(exc.detail) or None)
    if isinstance(exc, LitestarNotFound):
        return NotFound("No such route.")
    if isinstance(exc, LitestarValidation):
        return _from_validation(exc, request)
    if exc.status_code == 413:
        return PayloadTooLarge("The request body is larger than the server accepts.")
    generic = ProblemError(_safe_detail(exc), headers=exc.headers or None)
    generic.status = exc.status_code
    generic.slug = f"http-{exc.status_code}"
    generic.title = _safe_detail(exc)
    return generic


_TYPE_WORDS = {
    "str": "text",
    "int": "an integer",
    "float": "a number",
    "bool": "true or false",
    "null": "null",
    "object": "an object",
    "array": "a list",
    "decimal": "a decimal number",
    "datetime": "a date and time (ISO 8601)",
    "date": "a date (YYYY-MM-DD)",
}
_EXPECTED = re.compile(r"Expected `([^`]+)`(?:, got `([^`]+)`)?(.*)")
# A member of a nested object: named in the message, so it joins the field's path.
_MEMBER = re.compile(r"Object (contains unknown|missing required) field `([^`]+)`")
_MEMBER_WORDS = {
    "contains unknown": "Unknown field.",
    "missing required": "This field is required.",
}


_LENGTH = re.compile(r" of length ([<>])= ([0-9]+)")
_INVALID = {
    "Invalid RFC3339 encoded datetime": "Expected a date and time (ISO 8601).",
    "Invalid RFC3339 encoded date": "Expected a date (YYYY-MM-DD).",
}


def _length(match: re.Match[str], unit: str) -> str:
    if match[1] == ">" and match[2] == "1":
        return " that is not empty"
    return f" of {'at most' if match[1] == '<' else 'at least'} {match[2]} {unit}"


def _human(message: str) -> str:
    """msgspec's wording of a type error, in the words the API uses elsewhere."""
    match = _EXPECTED.fullmatch(message)
    if match is None:
        return _INVALID.get(message, message[:200])
    wanted = " or ".join(_TYPE_WORDS.get(t.strip(), t.strip()) for t in match[1].split("|"))
    got = f", got {_TYPE_WORDS.get(match[2], match[2])}" if match[2] else ""
    unit = "characters" if match[1] == "str" else "items"
    rest = _LENGTH.sub(lambda m: _length(m, unit), match[3])
    return f"Expected {wanted}{got}{rest}."[:200].replace("..", ".")


def _from_validation(exc: LitestarValidation, request: Request[Any, Any, Any]) -> ProblemError:
    """Litestar's validation of a handler's arguments, as one problem.

    A typed body (``source: body``) of the wrong shape becomes a 422 listing
    every field at fault (msgspec stops at the first, so the body is checked
    again field by field), as a record's field errors are; a query, path or
    header parameter becomes a 400 naming the parameter.
    """
    extra = exc.extra if isinstance(exc.extra, list) else []
    for item in extra:
        if not isinstance(item, dict):
            continue
        key, message = str(item.get("key") or ""), str(item.get("message") or "")
        if item.get("source") != "body":
            if not key:
                return BadRequest(_safe_detail(exc))
            return BadRequest(f"{key}: {_human(message)}", parameter=key)
        state = request.scope.get("state", {})
        body = state.get(JSON_BODY_STATE)
        if not isinstance(body, dict):
            # The body as a whole: absent, or not an object. (Litestar names a
            # member "data" of the body "data" too, so the key cannot tell.)
            if JSON_BODY_STATE in state:
                return BadRequest("The body must be a JSON object.")
            return BadRequest("A JSON body is required.")
        data_field = request.route_handler.parsed_data_field
        kind = data_field.annotation if data_field is not None else None
        if data_field is not None and data_field.is_optional:
            kind = make_non_optional_union(kind)  # an optional body: its Struct
        first = [FieldError(key, _human(message))]
        if isinstance(kind, type) and issubclass(kind, msgspec.Struct):
            return ValidationFailed(_struct_errors(kind, body) or first)
        return ValidationFailed(first)
    return BadRequest(_safe_detail(exc))


def _struct_errors(kind: type[msgspec.Struct], body: dict[str, Any]) -> list[FieldError]:
    """Every field of ``body`` that does not convert to ``kind``, unknown ones included."""
    errors: list[FieldError] = []
    fields = msgspec.structs.fields(kind)
    names = {f.encode_name for f in fields}
    if kind.__struct_config__.forbid_unknown_fields:
        errors.extend(FieldError(k, "Unknown field.") for k in sorted(set(body) - names))
    for field in fields:
        if field.encode_name not in body:
            if field.required:
                errors.append(FieldError(field.encode_name, "This field is required."))
            continue
        try:
            msgspec.convert(body[field.encode_name], field.type, strict=False)
        except msgspec.ValidationError as error:
            message, _, path = str(error).partition(" - at `$")
            where = path.rstrip("`").replace("[", ".").replace("]", "").lstrip(".")
            name = f"{field.encode_name}.{where}" if where else field.encode_name
            member = _MEMBER.fullmatch(message)
            if member is not None:
                name, message = f"{name}.{member[2]}", _MEMBER_WORDS[member[1]]
            errors.append(FieldError(name, _human(message)))
    return sorted(errors, key=lambda e: e.field)


def _safe_detail(exc: HTTPException) -> str:
    detail = str(exc.detail or "")
    # Litestar's own messages are safe, but keep them short and single-line.
    return detail.splitlines()[0][:200] if detail else "Request error"


def _request_id(request: Request[Any, Any, Any]) -> str | None:
    value = request.scope.get("state", {}).get("request_id")
    return value if isinstance(value, str) else None


def problem_response(request: Request[Any, Any, Any], exc: Exception) -> Response[bytes]:
    """The one exception handler: every error becomes a problem details body."""
    problem: ProblemError | None
    if isinstance(exc, ProblemError):
        problem = exc
    elif isinstance(exc, HTTPException):
        problem = _from_litestar(exc, request)
    elif isinstance(exc, psycopg.Error):
        problem = translate_db_error(exc)
    elif isinstance(exc, PoolTimeout):
        problem = ServiceUnavailable(
            "The server is at capacity; retry shortly.", headers={"Retry-After": "1"}
        )
    else:
        problem = None
    request_id = _request_id(request)
    if problem is None:
        log.exception("unhandled error (request %s)", request_id, exc_info=exc)
        problem = ProblemError("An unexpected error occurred.", request_id=request_id)
    elif problem.status >= 500:
        log.warning("request %s failed: %s", request_id, problem.detail, exc_info=exc)
    headers = dict(problem.headers)
    return Response(
        content=_encoder.encode(problem.to_body()),
        status_code=problem.status,
        media_type=PROBLEM_MEDIA_TYPE,
        headers=headers,
    )
