"""A write's precondition, read from the request: ``If-Match`` or ``X-Base-Version``."""

from __future__ import annotations

import re
from typing import Any

from litestar import Request

from collabadmin.changelog.conflicts import Precondition
from collabadmin.errors import BadRequest, PreconditionRequired
from collabadmin.inputs import ascii_int

__all__ = ["parse_precondition", "precondition_of"]

_ETAG = re.compile(r'^\s*(?:W/)?"?([0-9]{1,9})"?\s*$', re.ASCII)


def parse_precondition(request: Request[Any, Any, Any], *, allow_merge: bool) -> Precondition:
    """``If-Match`` (strict) or, where allowed, ``X-Base-Version`` (field merge); else 428."""
    return precondition_of(
        request.headers.get("if-match"),
        request.headers.get("x-base-version"),
        allow_merge=allow_merge,
    )


def precondition_of(
    if_match: str | None, base_version: str | None, *, allow_merge: bool
) -> Precondition:
    """The precondition the two headers' values state (typed header parameters give them)."""
    if if_match is not None:
        match = _ETAG.match(if_match)
        if match is None:
            raise PreconditionRequired(
                'If-Match must name one version, like If-Match: "3" (a * is not accepted).'
            )
        return Precondition(int(match.group(1)), strict=True)
    base = base_version if allow_merge else None
    if base is not None:
        version = ascii_int(base.strip(), max_digits=9)
        if version is None:
            raise BadRequest("X-Base-Version must be a version number.")
        return Precondition(version, strict=False)
    wanted = "If-Match or X-Base-Version" if allow_merge else "If-Match"
    raise PreconditionRequired(f"This request needs an {wanted} header.")
