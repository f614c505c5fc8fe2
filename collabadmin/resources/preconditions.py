"""A write's precondition, from its ``If-Match`` or ``X-Base-Version`` header.

Handlers declare both headers as typed parameters (:data:`IfMatch`,
:data:`BaseVersion`), so the OpenAPI document lists them, and pass their
text to :func:`precondition_of`, which reads it strictly: a version is ASCII
digits, 9 at most.
"""

from __future__ import annotations

import re
from typing import Annotated

from litestar.params import HeaderParameter

from collabadmin.changelog.conflicts import Precondition
from collabadmin.errors import BadRequest, PreconditionRequired
from collabadmin.inputs import ascii_int

__all__ = ["BaseVersion", "IfMatch", "precondition_of"]

_ETAG = re.compile(r'^\s*(?:W/)?"?([0-9]{1,9})"?\s*$', re.ASCII)

IfMatch = Annotated[
    str | None,
    HeaderParameter(
        name="If-Match",
        description='The version the change is based on, as its ETag ("3"); any other → 412.',
    ),
]
BaseVersion = Annotated[
    str | None,
    HeaderParameter(
        name="X-Base-Version",
        description="The version the editor started from: fields changed since → 409.",
    ),
]


def precondition_of(
    if_match: str | None, base_version: str | None = None, *, allow_merge: bool
) -> Precondition:
    """``If-Match`` (strict) or, where allowed, ``X-Base-Version`` (field merge); else 428."""
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
