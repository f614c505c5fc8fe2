"""HTTP routes of drafts: ``/api/r/{resource}[/{pk}]/drafts`` and ``/api/drafts``.

Thin: parse the request into typed inputs (:mod:`collabadmin.drafts.bodies`,
:mod:`collabadmin.drafts.listing`), call the service (reads) or a draft
action (writes), shape the response.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, Router, get, patch, post
from litestar.handlers import HTTPRouteHandler
from litestar.params import FromPath

from collabadmin.context import Injected
from collabadmin.drafts.actions import CommentOnDraft, CreateDraft, EditDraft, TransitionDraft
from collabadmin.drafts.bodies import (
    parse_comment,
    parse_data,
    parse_edit,
    parse_publish,
    parse_resolutions,
)
from collabadmin.drafts.listing import parse_draft_list_query
from collabadmin.drafts.publish import PublishDraft, RebaseDraft
from collabadmin.drafts.service import DraftService, TransitionName
from collabadmin.drafts.types import (
    CommentRequest,
    Draft,
    DraftDetail,
    DraftEditRequest,
    DraftEventList,
    DraftPage,
    NewDraft,
    PublishRequest,
    RebaseRequest,
)
from collabadmin.errors import FieldError, ValidationFailed
from collabadmin.resources.preconditions import parse_precondition
from collabadmin.resources.types import RecordBody
from collabadmin.web import (
    actor_of,
    etag,
    json_response,
    query_params,
    read_json_object,
    request_id_of,
)

__all__ = ["drafts_router"]


def _created(body: dict[str, Any]) -> Response[Any]:
    return json_response(
        body, 201, {"Location": f"/api/drafts/{body['id']}", "ETag": etag(body["_version"])}
    )


def _draft(body: dict[str, Any]) -> Response[Any]:
    return json_response(body, headers={"ETag": etag(body["_version"])})


async def _optional_body(request: Request[Any, Any, Any]) -> dict[str, Any]:
    """Transition bodies are optional: no body at all means no comment."""
    if not await request.body():
        return {}
    return await read_json_object(request)


@post(
    "/r/{resource:str}/{pk:str}/drafts",
    operation_id="createRecordDraft",
    opt={"request_body": NewDraft},
    summary="Start a draft of changes to a record (base = its current version)",
)
async def create_record_draft(
    request: Request[Any, Any, Any],
    resource: FromPath[str],
    pk: FromPath[str],
    *,
    drafts: Injected[DraftService],
) -> Response[Draft]:
    draft = await CreateDraft(
        drafts=drafts,
        actor=actor_of(request),
        resource=resource,
        pk=pk,
        data=parse_data(await read_json_object(request)),
        request_id=request_id_of(request),
    ).execute()
    return _created(draft)


@post(
    "/r/{resource:str}/drafts",
    operation_id="createNewRecordDraft",
    opt={"request_body": NewDraft},
    summary="Start a draft of a new record (validated in full when published)",
)
async def create_new_record_draft(
    request: Request[Any, Any, Any],
    resource: FromPath[str],
    *,
    drafts: Injected[DraftService],
) -> Response[Draft]:
    draft = await CreateDraft(
        drafts=drafts,
        actor=actor_of(request),
        resource=resource,
        pk=None,
        data=parse_data(await read_json_object(request)),
        request_id=request_id_of(request),
    ).execute()
    return _created(draft)


@get("/drafts", operation_id="listDrafts", summary="Drafts you may see, newest first")
async def list_drafts(
    request: Request[Any, Any, Any], *, drafts: Injected[DraftService]
) -> Response[DraftPage]:
    query = parse_draft_list_query(query_params(request))
    items, next_cursor = await drafts.search(actor_of(request), query)
    return json_response({"items": items, "next_cursor": next_cursor})


@get("/drafts/{draft_id:str}", operation_id="getDraft", summary="A draft, with its diff")
async def get_draft(
    request: Request[Any, Any, Any],
    draft_id: FromPath[str],
    *,
    drafts: Injected[DraftService],
) -> Response[DraftDetail]:
    return _draft(await drafts.get(actor_of(request), draft_id))


@patch(
    "/drafts/{draft_id:str}",
    operation_id="patchDraft",
    opt={"request_body": DraftEditRequest},
    summary="Change a draft's fields (If-Match or X-Base-Version, like records)",
)
async def patch_draft(
    request: Request[Any, Any, Any],
    draft_id: FromPath[str],
    *,
    drafts: Injected[DraftService],
) -> Response[Draft]:
    edit = parse_edit(await read_json_object(request))
    draft = await EditDraft(
        drafts=drafts,
        actor=actor_of(request),
        draft=draft_id,
        data=edit.data,
        unset=edit.unset,
        precondition=parse_precondition(request, allow_merge=True),
        request_id=request_id_of(request),
    ).execute()
    return _draft(draft)


@get(
    "/drafts/{draft_id:str}/preview",
    operation_id="previewDraft",
    summary="The record as it would be once this draft is published",
)
async def preview_draft(
    request: Request[Any, Any, Any],
    draft_id: FromPath[str],
    *,
    drafts: Injected[DraftService],
) -> Response[RecordBody]:
    return json_response(await drafts.preview(actor_of(request), draft_id))


@get(
    "/drafts/{draft_id:str}/comments",
    operation_id="listDraftComments",
    summary="The review trail: transitions and comments, oldest first",
)
async def list_draft_comments(
    request: Request[Any, Any, Any],
    draft_id: FromPath[str],
    *,
    drafts: Injected[DraftService],
) -> Response[DraftEventList]:
    items = await drafts.comments(actor_of(request), draft_id)
    return json_response({"items": items})


@post(
    "/drafts/{draft_id:str}/comments",
    operation_id="commentDraft",
    opt={"request_body": CommentRequest},
    summary="Add a review comment",
)
async def comment_draft(
    request: Request[Any, Any, Any],
    draft_id: FromPath[str],
    *,
    drafts: Injected[DraftService],
) -> Response[DraftEventList]:
    comment = parse_comment(await read_json_object(request))
    if comment is None:
        raise ValidationFailed([FieldError("comment", "Write a comment.")])
    items = await CommentOnDraft(
        drafts=drafts,
        actor=actor_of(request),
        draft=draft_id,
        comment=comment,
        request_id=request_id_of(request),
    ).execute()
    return json_response({"items": items}, 201)


def _transition(name: TransitionName, summary: str) -> HTTPRouteHandler:
    async def handler(
        request: Request[Any, Any, Any],
        draft_id: FromPath[str],
        *,
        drafts: Injected[DraftService],
    ) -> Response[Draft]:
        draft = await TransitionDraft(
            drafts=drafts,
            actor=actor_of(request),
            draft=draft_id,
            transition=name,
            comment=parse_comment(await _optional_body(request)),
            request_id=request_id_of(request),
        ).execute()
        return _draft(draft)

    handler.__name__ = f"{name}_draft"
    return post(
        f"/drafts/{{draft_id:str}}/{name}",
        operation_id=f"{name}Draft",
        opt={"request_body": CommentRequest, "request_body_required": False},
        summary=summary,
        status_code=200,
    )(handler)


@post(
    "/drafts/{draft_id:str}/publish",
    operation_id="publishDraft",
    opt={"request_body": PublishRequest, "request_body_required": False},
    summary="Publish an approved draft now, or at publish_at (needs publish)",
    status_code=200,
)
async def publish_draft(
    request: Request[Any, Any, Any],
    draft_id: FromPath[str],
    *,
    drafts: Injected[DraftService],
) -> Response[Draft]:
    body = parse_publish(await _optional_body(request))
    draft = await PublishDraft(
        drafts=drafts,
        actor=actor_of(request),
        draft=draft_id,
        comment=body.comment,
        publish_at=body.publish_at,
        request_id=request_id_of(request),
    ).execute()
    return _draft(draft)


@post(
    "/drafts/{draft_id:str}/rebase",
    operation_id="rebaseDraft",
    opt={"request_body": RebaseRequest, "request_body_required": False},
    summary="Move a draft onto the live version, taking theirs or keeping yours per field",
    status_code=200,
)
async def rebase_draft(
    request: Request[Any, Any, Any],
    draft_id: FromPath[str],
    *,
    drafts: Injected[DraftService],
) -> Response[Draft]:
    draft = await RebaseDraft(
        drafts=drafts,
        actor=actor_of(request),
        draft=draft_id,
        resolutions=parse_resolutions(await _optional_body(request)),
        request_id=request_id_of(request),
    ).execute()
    return _draft(draft)


drafts_router = Router(
    path="/api",
    tags=["drafts"],
    route_handlers=[
        create_record_draft,
        create_new_record_draft,
        list_drafts,
        get_draft,
        patch_draft,
        preview_draft,
        list_draft_comments,
        comment_draft,
        _transition("submit", "Submit a draft for review"),
        _transition("approve", "Approve a submitted draft (needs publish)"),
        _transition("reject", "Send a draft back to its author (needs publish)"),
        _transition("discard", "Discard a draft that was not published"),
        publish_draft,
        rebase_draft,
    ],
)
