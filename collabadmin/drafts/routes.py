"""HTTP routes of drafts: ``/api/r/{resource}[/{pk}]/drafts`` and ``/api/drafts``.

Thin: each handler declares its typed inputs (the body as a Struct of
:mod:`collabadmin.drafts.types`, the list's query parameters, the version
headers), calls the service (reads) or a draft action (writes), and returns
the typed body.
"""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

import msgspec
from litestar import Router, get, patch, post
from litestar.handlers import HTTPRouteHandler
from litestar.params import FromPath, JSONBody, QueryParameter

from collabadmin.context import Injected
from collabadmin.db.engine import Actor
from collabadmin.drafts.actions import CommentOnDraft, CreateDraft, EditDraft, TransitionDraft
from collabadmin.drafts.batches import publish_batch
from collabadmin.drafts.listing import MAX_LIMIT, draft_list_query
from collabadmin.drafts.publish import PublishDraft, RebaseDraft
from collabadmin.drafts.service import DraftService, TransitionName
from collabadmin.drafts.types import (
    CommentRequest,
    Draft,
    DraftBatchPublished,
    DraftDetail,
    DraftEditRequest,
    DraftEvent,
    DraftEventList,
    DraftPage,
    NewDraft,
    PublishedDraft,
    PublishRequest,
    RebaseRequest,
)
from collabadmin.errors import FieldError, ValidationFailed
from collabadmin.resources.preconditions import BaseVersion, IfMatch, precondition_of
from collabadmin.resources.types import RecordBody
from collabadmin.web import JsonResponse, etag, strict_query

__all__ = ["drafts_router"]


D = TypeVar("D", bound=Draft)


def _draft(body: dict[str, Any], status: int = 200) -> JsonResponse[Draft]:
    """The draft the service made, with its ETag (and its Location when new)."""
    return _respond(msgspec.convert(body, Draft), status)


def _respond(draft: D, status: int = 200) -> JsonResponse[D]:
    headers = {"ETag": etag(draft.version)}
    if status == 201:
        headers["Location"] = f"/api/drafts/{draft.id}"
    return JsonResponse(draft, status_code=status, headers=headers)


def _events(items: list[dict[str, Any]]) -> DraftEventList:
    return DraftEventList(items=msgspec.convert(items, list[DraftEvent]))


@post(
    "/r/{resource:str}/{pk:str}/drafts",
    operation_id="createRecordDraft",
    summary="Start a draft of changes to a record (base = its current version)",
)
async def create_record_draft(
    resource: FromPath[str],
    pk: FromPath[str],
    data: JSONBody[NewDraft],
    *,
    actor: Injected[Actor],
    request_id: Injected[str | None],
    drafts: Injected[DraftService],
) -> JsonResponse[Draft]:
    draft = await CreateDraft(
        drafts=drafts,
        actor=actor,
        resource=resource,
        pk=pk,
        data=data.data,
        request_id=request_id,
    ).execute()
    return _draft(draft, 201)


@post(
    "/r/{resource:str}/drafts",
    operation_id="createNewRecordDraft",
    summary="Start a draft of a new record (validated in full when published)",
)
async def create_new_record_draft(
    resource: FromPath[str],
    data: JSONBody[NewDraft],
    *,
    actor: Injected[Actor],
    request_id: Injected[str | None],
    drafts: Injected[DraftService],
) -> JsonResponse[Draft]:
    draft = await CreateDraft(
        drafts=drafts,
        actor=actor,
        resource=resource,
        pk=None,
        data=data.data,
        request_id=request_id,
    ).execute()
    return _draft(draft, 201)


@get("/drafts", operation_id="listDrafts", summary="Drafts you may see, newest first")
async def list_drafts(
    *,
    status: Annotated[
        str | None,
        QueryParameter(
            description="Comma-separated statuses (draft, submitted, approved, rejected,"
            " published, discarded); all when left out"
        ),
    ] = None,
    resource: Annotated[str | None, QueryParameter(description="Drafts of this resource")] = None,
    pk: Annotated[str | None, QueryParameter(description="Drafts of this record (its key)")] = None,
    author: Annotated[
        str | None, QueryParameter(description="A user id, or me for your own drafts")
    ] = None,
    cursor: Annotated[
        str | None, QueryParameter(description="The next_cursor of the page before")
    ] = None,
    limit: Annotated[int | None, QueryParameter(ge=1, le=MAX_LIMIT)] = None,
    batch: Annotated[
        int | None, QueryParameter(description="The drafts an import staged (its batch)")
    ] = None,
    actor: Injected[Actor],
    drafts: Injected[DraftService],
) -> DraftPage:
    query = draft_list_query(
        status=status, resource=resource, pk=pk, author=author, cursor=cursor, limit=limit,
        batch=batch,
    )  # fmt: skip
    items, next_cursor = await drafts.search(actor, query)
    return DraftPage(items=msgspec.convert(items, list[Draft]), next_cursor=next_cursor)


@get("/drafts/{draft_id:str}", operation_id="getDraft", summary="A draft, with its diff")
async def get_draft(
    draft_id: FromPath[str], *, actor: Injected[Actor], drafts: Injected[DraftService]
) -> JsonResponse[DraftDetail]:
    body = await drafts.get(actor, draft_id)
    return JsonResponse(
        msgspec.convert(body, DraftDetail), headers={"ETag": etag(body["_version"])}
    )


@patch(
    "/drafts/{draft_id:str}",
    operation_id="patchDraft",
    summary="Change a draft's fields (If-Match or X-Base-Version, like records)",
)
async def patch_draft(
    draft_id: FromPath[str],
    data: JSONBody[DraftEditRequest],
    *,
    if_match: IfMatch = None,
    base_version: BaseVersion = None,
    actor: Injected[Actor],
    request_id: Injected[str | None],
    drafts: Injected[DraftService],
) -> JsonResponse[Draft]:
    draft = await EditDraft(
        drafts=drafts,
        actor=actor,
        draft=draft_id,
        data=data.data,
        unset=tuple(data.unset),
        precondition=precondition_of(if_match, base_version, allow_merge=True),
        request_id=request_id,
    ).execute()
    return _draft(draft)


@get(
    "/drafts/{draft_id:str}/preview",
    operation_id="previewDraft",
    summary="The record as it would be once this draft is published",
)
async def preview_draft(
    draft_id: FromPath[str], *, actor: Injected[Actor], drafts: Injected[DraftService]
) -> RecordBody:
    return await drafts.preview(actor, draft_id)


@get(
    "/drafts/{draft_id:str}/comments",
    operation_id="listDraftComments",
    summary="The review trail: transitions and comments, oldest first",
)
async def list_draft_comments(
    draft_id: FromPath[str], *, actor: Injected[Actor], drafts: Injected[DraftService]
) -> DraftEventList:
    return _events(await drafts.comments(actor, draft_id))


@post(
    "/drafts/{draft_id:str}/comments",
    operation_id="commentDraft",
    summary="Add a review comment",
)
async def comment_draft(
    draft_id: FromPath[str],
    data: JSONBody[CommentRequest],
    *,
    actor: Injected[Actor],
    request_id: Injected[str | None],
    drafts: Injected[DraftService],
) -> DraftEventList:
    comment = data.text
    if comment is None:
        raise ValidationFailed([FieldError("comment", "Write a comment.")])
    items = await CommentOnDraft(
        drafts=drafts,
        actor=actor,
        draft=draft_id,
        comment=comment,
        request_id=request_id,
    ).execute()
    return _events(items)


def _transition(name: TransitionName, summary: str) -> HTTPRouteHandler:
    async def handler(
        draft_id: FromPath[str],
        data: JSONBody[CommentRequest | None] = None,
        *,
        actor: Injected[Actor],
        request_id: Injected[str | None],
        drafts: Injected[DraftService],
    ) -> JsonResponse[Draft]:
        draft = await TransitionDraft(
            drafts=drafts,
            actor=actor,
            draft=draft_id,
            transition=name,
            comment=data.text if data is not None else None,
            request_id=request_id,
        ).execute()
        return _draft(draft)

    handler.__name__ = f"{name}_draft"
    return post(
        f"/drafts/{{draft_id:str}}/{name}",
        operation_id=f"{name}Draft",
        summary=summary,
        status_code=200,
    )(handler)


@post(
    "/drafts/{draft_id:str}/publish",
    operation_id="publishDraft",
    summary="Publish an approved draft now, or at publish_at (needs publish)",
    status_code=200,
)
async def publish_draft(
    draft_id: FromPath[str],
    data: JSONBody[PublishRequest | None] = None,
    *,
    actor: Injected[Actor],
    request_id: Injected[str | None],
    drafts: Injected[DraftService],
) -> JsonResponse[PublishedDraft]:
    body = data or PublishRequest()
    draft = await PublishDraft(
        drafts=drafts,
        actor=actor,
        draft=draft_id,
        comment=body.text,
        publish_at=body.when,
        request_id=request_id,
    ).execute()
    return _respond(msgspec.convert(draft, PublishedDraft))


@post(
    "/drafts/batches/{batch:int}/publish",
    operation_id="publishDraftBatch",
    summary="Approve and publish every pending draft of an import's batch, all or none",
    status_code=200,
)
async def publish_draft_batch(
    batch: FromPath[int],
    *,
    actor: Injected[Actor],
    request_id: Injected[str | None],
    drafts: Injected[DraftService],
) -> DraftBatchPublished:
    published = await publish_batch(drafts, actor, batch, request_id=request_id)
    return DraftBatchPublished(batch=batch, published=published)


@post(
    "/drafts/{draft_id:str}/rebase",
    operation_id="rebaseDraft",
    summary="Move a draft onto the live version, taking theirs or keeping yours per field",
    status_code=200,
)
async def rebase_draft(
    draft_id: FromPath[str],
    data: JSONBody[RebaseRequest | None] = None,
    *,
    actor: Injected[Actor],
    request_id: Injected[str | None],
    drafts: Injected[DraftService],
) -> JsonResponse[Draft]:
    draft = await RebaseDraft(
        drafts=drafts,
        actor=actor,
        draft=draft_id,
        resolutions=data.resolutions if data is not None else {},
        request_id=request_id,
    ).execute()
    return _draft(draft)


drafts_router = Router(
    path="/api",
    tags=["drafts"],
    before_request=strict_query,
    response_class=JsonResponse,
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
        publish_draft_batch,
        publish_draft,
        rebase_draft,
    ],
)
