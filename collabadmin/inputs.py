"""Strict parsing of what clients send: numbers, NUL bytes, JSON nesting, query parameters.

Query strings are parsed at the edge (the routes) into typed structs with
:func:`single_param`, :func:`refuse_unknown_params` and :func:`parse_limit`,
so that every list answers the same 400s and no service sees raw parameters.

Everything a request carries is untrusted text. Three traps used to reach
the database or Python's number parser and come back as 500s:

* ``str.isdigit()`` is true for ``²``, ``٣`` or a fullwidth one, and ``int()`` then
  fails (or, worse, silently accepts ``٣`` as 3). Numbers in URLs, query
  parameters and headers are parsed only by :func:`ascii_int`: ASCII
  digits, bounded length, nothing else.
* PostgreSQL text cannot hold a NUL character. :class:`InputGuardMiddleware`
  refuses a NUL in the path, the query string or any header before any
  handler runs, and :func:`check_json` refuses one anywhere in a JSON body
  (keys included), so no handler has to remember it.
* A deeply nested JSON body would exhaust the decoder's (or a later
  encoder's) recursion; :func:`check_json` bounds the depth.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import unquote_to_bytes

from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Receive, Scope, Send

from collabadmin.errors import BadRequest

__all__ = [
    "MAX_JSON_DEPTH",
    "InputGuardMiddleware",
    "ascii_int",
    "check_json",
    "parse_limit",
    "parse_statuses",
    "refuse_unknown_params",
    "single_param",
]

MAX_JSON_DEPTH = 32
"""Deepest nesting of arrays/objects a JSON body may have (records need 2 or 3)."""

_ASCII_DIGITS = re.compile(r"[0-9]+", re.ASCII)
_NUL = "\x00"


def ascii_int(raw: str | None, *, max_digits: int = 18, signed: bool = False) -> int | None:
    """``raw`` as an int if it is only ASCII digits (and at most ``max_digits``), else None.

    18 digits always fit a PostgreSQL ``bigint``; a leading ``-`` is accepted
    only when ``signed``. Whitespace, ``+``, ``_`` and non-ASCII digits are refused.
    """
    if raw is None:
        return None
    digits = raw[1:] if signed and raw.startswith("-") else raw
    if not 0 < len(digits) <= max_digits or not _ASCII_DIGITS.fullmatch(digits):
        return None
    return int(raw)


def parse_limit(raw: str | None, default: int, maximum: int, *, parameter: str = "limit") -> int:
    """A page size from the query string: ASCII digits in 1..maximum, else 400."""
    if raw is None:
        return default
    value = ascii_int(raw, max_digits=len(str(maximum)))
    if value is None or not 1 <= value <= maximum:
        raise BadRequest(f"{parameter} must be between 1 and {maximum}.", parameter=parameter)
    return value


def single_param(params: Mapping[str, Sequence[str]], name: str) -> str | None:
    """A query parameter that may appear at most once (400 if repeated)."""
    values = params.get(name)
    if not values:
        return None
    if len(values) > 1:
        raise BadRequest(f"Parameter {name!r} given more than once.", parameter=name)
    return values[0]


def refuse_unknown_params(params: Mapping[str, Sequence[str]], known: frozenset[str]) -> None:
    """400 naming the first (alphabetically) parameter not in ``known``."""
    unknown = sorted(set(params) - known)
    if unknown:
        raise BadRequest(f"Unknown query parameter {unknown[0]!r}.", parameter=unknown[0])


def parse_statuses(raw: str | None, allowed: Sequence[str]) -> tuple[str, ...] | None:
    """``status=a,b``: the statuses asked for, each one of ``allowed`` (else a 400); None: all."""
    if raw is None:
        return None
    statuses = tuple(raw.split(","))
    if not set(statuses) <= set(allowed):
        raise BadRequest(f"status must be among {', '.join(allowed)}.", parameter="status")
    return statuses


def check_json(value: Any) -> None:
    """Refuse (400) a decoded JSON value nested deeper than allowed or holding a NUL.

    Iterative, so that the check itself cannot run out of stack.
    """
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            if _NUL in item:
                raise BadRequest("Text in the body must not contain NUL (\\u0000) characters.")
        elif isinstance(item, dict | list):
            if depth >= MAX_JSON_DEPTH:
                raise BadRequest(f"The body is nested deeper than {MAX_JSON_DEPTH} levels.")
            if isinstance(item, dict):
                stack.extend((k, depth + 1) for k in item)
                stack.extend((v, depth + 1) for v in item.values())
            else:
                stack.extend((v, depth + 1) for v in item)


def _has_nul(raw: bytes) -> bool:
    return b"\x00" in raw or b"\x00" in unquote_to_bytes(raw)


class InputGuardMiddleware(ASGIMiddleware):
    """Refuse HTTP requests whose path, query string or headers carry a NUL byte.

    Checked on the raw bytes and after percent-decoding, before routing and
    authentication, so a NUL never reaches a handler, a log line or the database.
    Websocket handshakes are not checked here; their frames are validated by the hub.
    """

    scopes = (ScopeType.HTTP,)

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        raw_path = scope.get("raw_path") or scope["path"].encode("utf-8", "surrogateescape")
        if _NUL in scope["path"] or _has_nul(raw_path):
            raise BadRequest("The path must not contain NUL (%00) characters.")
        query = scope.get("query_string", b"")
        if _has_nul(query.replace(b"+", b" ")):
            raise BadRequest("Query parameters must not contain NUL (%00) characters.")
        for name, value in scope.get("headers", []):
            if b"\x00" in value or b"\x00" in name:
                raise BadRequest("A header must not contain NUL bytes.")
        await next_app(scope, receive, send)
