"""The workflow runs list's query as a typed :class:`RunListQuery`, parsed at the edge.

``GET /api/workflow-runs?status=open,done&mine=true&workflow=&subject_resource=``
``&subject_pk=&cursor=&limit=``: every parameter is checked here (a 400
naming it), so the service takes the struct and never sees the query string.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import msgspec

from collabadmin.changelog.changes import parse_id_cursor
from collabadmin.errors import BadRequest
from collabadmin.inputs import parse_limit, parse_statuses, refuse_unknown_params, single_param
from collabadmin.workflows.tables import RUN_STATUSES

__all__ = ["RunListQuery", "parse_run_list_query"]

_KNOWN = frozenset(
    {"status", "mine", "workflow", "subject_resource", "subject_pk", "cursor", "limit"}
)
_BOOLEAN = {"true": True, "1": True, "false": False, "0": False}


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
    limit: int = 50


def parse_run_list_query(
    params: Mapping[str, Sequence[str]], *, max_limit: int = 200
) -> RunListQuery:
    def one(name: str) -> str | None:
        return single_param(params, name)

    refuse_unknown_params(params, _KNOWN)
    statuses = parse_statuses(one("status"), RUN_STATUSES)
    mine = one("mine")
    if mine is not None and mine not in _BOOLEAN:
        raise BadRequest("mine must be true or false.", parameter="mine")
    return RunListQuery(
        statuses=statuses,
        mine=mine is not None and _BOOLEAN[mine],
        workflow=one("workflow"),
        subject_resource=one("subject_resource"),
        subject_pk=one("subject_pk"),
        before_id=parse_id_cursor(one("cursor")),
        limit=parse_limit(one("limit"), 50, max_limit),
    )
