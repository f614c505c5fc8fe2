"""The workflow runs list's query as a typed :class:`RunListQuery`, built at the edge.

``GET /api/workflow-runs?status=open,done&mine=true&workflow=&subject_resource=``
``&subject_pk=&cursor=&limit=``: the route declares each parameter (so the
OpenAPI document lists them, the :func:`collabadmin.web.strict_query` hook
refuses any other, a repeated one, a ``limit`` that is not ASCII digits or a
``mine`` other than true/false, and Litestar the range of ``limit``); what
their text means is checked here (a 400 naming the parameter), so the
service takes the struct.
"""

from __future__ import annotations

import msgspec

from collabadmin.changelog.changes import parse_id_cursor
from collabadmin.inputs import parse_statuses
from collabadmin.workflows.tables import RUN_STATUSES

__all__ = ["DEFAULT_LIMIT", "MAX_LIMIT", "RunListQuery", "run_list_query"]

DEFAULT_LIMIT = 50
MAX_LIMIT = 200


class RunListQuery(msgspec.Struct, frozen=True, kw_only=True):
    """Which runs to list, newest first; each given filter narrows the list.

    ``mine``: runs the reader started or is assigned; ``before_id``
    continues a list after the run with that id.
    """

    statuses: tuple[str, ...] | None = None
    mine: bool = False
    workflow: str | None = None
    subject_resource: str | None = None
    subject_pk: str | None = None
    before_id: int | None = None
    limit: int = DEFAULT_LIMIT


def run_list_query(
    *,
    status: str | None,
    mine: bool | None,
    workflow: str | None,
    subject_resource: str | None,
    subject_pk: str | None,
    cursor: str | None,
    limit: int | None,
) -> RunListQuery:
    return RunListQuery(
        statuses=parse_statuses(status, RUN_STATUSES),
        mine=bool(mine),
        workflow=workflow,
        subject_resource=subject_resource,
        subject_pk=subject_pk,
        before_id=parse_id_cursor(cursor),
        limit=DEFAULT_LIMIT if limit is None else limit,
    )
