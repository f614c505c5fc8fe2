"""The drafts list's query as a typed :class:`DraftListQuery`, built at the edge.

``GET /api/drafts?status=submitted,approved&resource=&pk=&author=me|<id>&cursor=&limit=``:
the route declares each parameter (so the OpenAPI document lists them, the
:func:`collabadmin.web.strict_query` hook refuses any other, a repeated one
or a ``limit`` that is not ASCII digits, and Litestar its range); what their
text means is checked here (a 400 naming the parameter), so the service
takes the struct.
"""

from __future__ import annotations

from typing import Literal

import msgspec

from collabadmin.changelog.changes import parse_id_cursor
from collabadmin.drafts.tables import STATUSES
from collabadmin.errors import BadRequest
from collabadmin.inputs import ascii_int, parse_statuses

__all__ = ["DEFAULT_LIMIT", "MAX_LIMIT", "DraftListQuery", "draft_list_query"]

DEFAULT_LIMIT = 50
MAX_LIMIT = 200


class DraftListQuery(msgspec.Struct, frozen=True, kw_only=True):
    """Which drafts to list, newest first: each given filter narrows the list.

    ``author`` is a user id or ``"me"``; ``before_id`` continues a list
    after the draft with that id.
    """

    statuses: tuple[str, ...] | None = None
    resource: str | None = None
    pk: str | None = None
    author: int | Literal["me"] | None = None
    batch: int | None = None
    before_id: int | None = None
    limit: int = DEFAULT_LIMIT


def draft_list_query(
    *,
    status: str | None,
    resource: str | None,
    pk: str | None,
    author: str | None,
    cursor: str | None,
    limit: int | None,
    batch: int | None = None,
) -> DraftListQuery:
    who: int | Literal["me"] | None = None
    if author == "me":
        who = "me"
    elif author is not None:
        who = ascii_int(author)
        if who is None:
            raise BadRequest("author must be a user id or 'me'.", parameter="author")
    return DraftListQuery(
        statuses=parse_statuses(status, STATUSES),
        resource=resource,
        pk=pk,
        author=who,
        batch=batch,
        before_id=parse_id_cursor(cursor),
        limit=DEFAULT_LIMIT if limit is None else limit,
    )
