"""The drafts list's query as a typed :class:`DraftListQuery`, parsed at the edge.

``GET /api/drafts?status=submitted,approved&resource=&pk=&author=me|<id>&cursor=&limit=``:
every parameter is checked here (a 400 naming it), so the service takes
the struct and never sees the query string.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal

import msgspec

from collabadmin.changelog.changes import parse_id_cursor
from collabadmin.drafts.tables import STATUSES
from collabadmin.errors import BadRequest
from collabadmin.inputs import (
    ascii_int,
    parse_limit,
    parse_statuses,
    refuse_unknown_params,
    single_param,
)

__all__ = ["DraftListQuery", "parse_draft_list_query"]

_KNOWN = frozenset({"status", "resource", "pk", "author", "cursor", "limit"})


class DraftListQuery(msgspec.Struct, frozen=True, kw_only=True):
    """Which drafts to list, newest first: each given filter narrows the list.

    ``author`` is a user id or ``"me"``; ``before_id`` continues a list
    after the draft with that id.
    """

    statuses: tuple[str, ...] | None = None
    resource: str | None = None
    pk: str | None = None
    author: int | Literal["me"] | None = None
    before_id: int | None = None
    limit: int = 50


def parse_draft_list_query(
    params: Mapping[str, Sequence[str]], *, max_limit: int = 200
) -> DraftListQuery:
    def one(name: str) -> str | None:
        return single_param(params, name)

    refuse_unknown_params(params, _KNOWN)
    statuses = parse_statuses(one("status"), STATUSES)
    author: int | Literal["me"] | None = None
    raw_author = one("author")
    if raw_author == "me":
        author = "me"
    elif raw_author is not None:
        author = ascii_int(raw_author)
        if author is None:
            raise BadRequest("author must be a user id or 'me'.", parameter="author")
    return DraftListQuery(
        statuses=statuses,
        resource=one("resource"),
        pk=one("pk"),
        author=author,
        before_id=parse_id_cursor(one("cursor")),
        limit=parse_limit(one("limit"), 50, max_limit),
    )
