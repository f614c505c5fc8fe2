"""``POST /api/r/{resource}/{pk}/actions/{name}``: run a record action (a button).

Thin, in the typed style of :mod:`collabadmin.web`: the actor, the request
id and the precondition headers are parameters; the run is
:class:`~collabadmin.resources.actions.RunRecordAction`.
"""

from __future__ import annotations

from typing import Annotated

from litestar import Response, post
from litestar.params import FromPath, HeaderParameter

from collabadmin.context import Injected
from collabadmin.db.engine import Actor
from collabadmin.resources.actions import RunRecordAction
from collabadmin.resources.preconditions import precondition_of
from collabadmin.resources.service import RecordService
from collabadmin.resources.types import RecordBody
from collabadmin.web import etag, json_response

__all__ = ["run_record_action"]


@post(
    "/api/r/{resource:str}/{pk:str}/actions/{name:str}",
    operation_id="runRecordAction",
    tags=["records"],
    summary="Run one of the resource's record actions on a record",
    description=(
        "One transaction, each row it writes logged with source `action`. Needs"
        " `If-Match` (strict) or `X-Base-Version` (field merge over the fields the"
        " action reads and writes), as PATCH does; an action that does not apply"
        " to the record now is a 409 (`not-applicable`). Takes no body."
    ),
    status_code=200,
)
async def run_record_action(
    resource: FromPath[str],
    pk: FromPath[str],
    name: FromPath[str],
    *,
    actor: Injected[Actor],
    request_id: Injected[str | None],
    records: Injected[RecordService],
    if_match: Annotated[str | None, HeaderParameter(name="If-Match")] = None,
    base_version: Annotated[str | None, HeaderParameter(name="X-Base-Version")] = None,
) -> Response[RecordBody]:
    written = await RunRecordAction(
        records=records,
        actor=actor,
        resource=resource,
        pk=pk,
        name=name,
        precondition=precondition_of(if_match, base_version, allow_merge=True),
        request_id=request_id,
    ).execute()
    return json_response(written.body, headers={"ETag": etag(written.body["_version"])})
