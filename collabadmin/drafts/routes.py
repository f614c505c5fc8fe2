"""HTTP routes of drafts: ``/api/r/{resource}[/{pk}]/drafts`` and ``/api/drafts``.

Thin: parse the request, call :class:`DraftService` / :class:`Publisher`,
shape the response.
"""

from __future__ import annotations

from typing import Any, Literal

from litestar import Request, Response, Router, get, patch, post
from litestar.handlers import HTTPRouteHandler
from litestar.params import FromPath

from collabadmin.context import Injected
from collabadmin.drafts.publish import Publisher
from collabadmin.drafts.service import DraftService, TransitionName
from collabadmin.resources.preconditions import parse_precondition
from collabadmin.web import (
    JsonObject,
    actor_of,
    etag,
    json_response,
    query_params,
    read_json_object,
    request_id_of,
)

__all__ = ["drafts_router"]


def _created(body: dict[str, Any]) -> Response[JsonObject]:
    return json_response(
        body, 201, {"Location": f"/api/drafts/{body['id']}", "ETag": etag(body["_version"])}
    )


def _draft(body: dict[str, Any]) -> Response[JsonObject]:
    return json_response(body, headers={"ETag": etag(body["_version"])})


async def _optional_body(request: Request[Any, Any, Any]) -> dict[str, Any]:
    """Transition bodies are optional: no body at all means no comment."""
    if not await request.body():
        return {}
    return await read_json_object(request)


@post(
    "/r/{resource:str}/{pk:str}/drafts",
    operation_id="createRecordDraft",
    summary="Start a draft of changes to a record (base = its current version)",
)
async def create_record_draft(
    request: Request[Any, Any, Any],
    resource: FromPath[str],
    pk: FromPath[str],
    *,
    drafts: Injected[DraftService],
) -> Response[JsonObject]:
    body = await read_json_object(request)
    draft = await drafts.create(
        actor_of(request), resource, pk, body, request_id=request_id_of(request)
    )
    return _created(draft)


@post(
    "/r/{resource:str}/drafts",
    operation_id="createNewRecordDraft",
    summary="Start a draft of a new record (validated in full when published)",
)
async def create_new_record_draft(
    request: Request[Any, Any, Any],
    resource: FromPath[str],
    *,
    drafts: Injected[DraftService],
) -> Response[JsonObject]:
    body = await read_json_object(request)
    draft = await drafts.create(
        actor_of(request), resource, None, body, request_id=request_id_of(request)
    )
    return _created(draft)


@get("/drafts", operation_id="listDrafts", summary="Drafts you may see, newest first")
async def list_drafts(
    request: Request[Any, Any, Any], *, drafts: Injected[DraftService]
) -> Response[JsonObject]:
    items, next_cursor = await drafts.search(actor_of(request), query_params(request))
    return json_response({"items": items, "next_cursor": next_cursor})


@get("/drafts/{draft_id:str}", operation_id="getDraft", summary="A draft, with its diff")
async def get_draft(
    request: Request[Any, Any, Any],
    draft_id: FromPath[str],
    *,
    drafts: Injected[DraftService],
) -> Response[JsonObject]:
    return _draft(await drafts.get(actor_of(request), draft_id))


@patch(
    "/drafts/{draft_id:str}",
    operation_id="patchDraft",
    summary="Change a draft's fields (If-Match or X-Base-Version, like records)",
)
async def patch_draft(
    request: Request[Any, Any, Any],
    draft_id: FromPath[str],
    *,
    drafts: Injected[DraftService],
) -> Response[JsonObject]:
    body = await read_json_object(request)
    precondition = parse_precondition(request, allow_merge=True)
    draft = await drafts.patch(
        actor_of(request), draft_id, body, precondition, request_id=request_id_of(request)
    )
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
) -> Response[JsonObject]:
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
) -> Response[JsonObject]:
    items = await drafts.comments(actor_of(request), draft_id)
    return json_response({"items": items})


@post(
    "/drafts/{draft_id:str}/comments",
    operation_id="commentDraft",
    summary="Add a review comment",
)
async def comment_draft(
    request: Request[Any, Any, Any],
    draft_id: FromPath[str],
    *,
    drafts: Injected[DraftService],
) -> Response[JsonObject]:
    body = await read_json_object(request)
    items = await drafts.comment(actor_of(request), draft_id, body)
    return json_response({"items": items}, 201)


def _transition(name: TransitionName, summary: str) -> HTTPRouteHandler:
    async def handler(
        request: Request[Any, Any, Any],
        draft_id: FromPath[str],
        *,
        drafts: Injected[DraftService],
    ) -> Response[JsonObject]:
        body = await _optional_body(request)
        draft = await drafts.transition(
            actor_of(request), draft_id, name, body, request_id=request_id_of(request)
        )
        return _draft(draft)

    handler.__name__ = f"{name}_draft"
    return post(
        f"/drafts/{{draft_id:str}}/{name}",
        operation_id=f"{name}Draft",
        summary=summary,
        status_code=200,
    )(handler)


def _publisher_action(name: Literal["publish", "rebase"], summary: str) -> HTTPRouteHandler:
    """``publish`` and ``rebase``: the publisher's two actions, with an optional body."""

    async def handler(
        request: Request[Any, Any, Any],
        draft_id: FromPath[str],
        *,
        publisher: Injected[Publisher],
    ) -> Response[JsonObject]:
        body = await _optional_body(request)
        act = getattr(publisher, name)
        draft = await act(actor_of(request), draft_id, body, request_id=request_id_of(request))
        return _draft(draft)

    handler.__name__ = f"{name}_draft"
    return post(
        f"/drafts/{{draft_id:str}}/{name}",
        operation_id=f"{name}Draft",
        summary=summary,
        status_code=200,
    )(handler)


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
        _publisher_action(
            "publish", "Publish an approved draft now, or at publish_at (needs publish)"
        ),
        _publisher_action(
            "rebase", "Move a draft onto the live version, taking theirs or keeping yours per field"
        ),
    ],
)
