"""``/api/prefs/views/{resource}`` (per user) and ``/api/views/{resource}`` (shared).

Both check the resource the way the records API does (unknown → 404, not
viewable → 403) before anything is read or written, validate configs with
the reader's readable fields, and shape every config they return for the
reader, so a hidden field is refused on the way in and dropped on the way out.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, Router, delete, get, post, put
from litestar.params import FromPath

from collabadmin.context import Injected
from collabadmin.db.engine import Actor, Database, Row
from collabadmin.errors import FieldError, Forbidden, NotFound, ValidationFailed
from collabadmin.inputs import ascii_int
from collabadmin.prefs.config import default_config, parse_view_config, shape_config
from collabadmin.prefs.store import (
    delete_shared_view,
    insert_shared_view,
    list_shared_views,
    load_pref,
    save_pref,
)
from collabadmin.prefs.types import (
    SharedView,
    SharedViewList,
    SharedViewRequest,
    ViewConfig,
    ViewPref,
)
from collabadmin.resources.resource import Resource
from collabadmin.resources.service import RecordService
from collabadmin.web import actor_of, json_response, read_json_object

__all__ = ["prefs_router"]

NAME_MAX = 80
_NO_STORE = {"Cache-Control": "no-store"}


def _resource(
    records: RecordService, request: Request[Any, Any, Any], name: str
) -> tuple[Actor, Resource, frozenset[str]]:
    actor = actor_of(request)
    resource = records.resource(actor, name, "view")
    return actor, resource, records.policy.readable_fields(actor, resource)


def _view_body(resource: Resource, readable: frozenset[str], row: Row) -> dict[str, Any]:
    creator = None
    if row["created_by"] is not None:
        creator = {"id": row["created_by"], "name": row["created_by_name"]}
    return {
        "id": row["id"],
        "name": row["name"],
        **shape_config(resource, readable, row["config"]),
        "created_by": creator,
        "created_at": row["created_at"],
    }


@get(
    "/api/prefs/views/{resource:str}",
    operation_id="getViewPref",
    summary="This user's column, sort and filter settings for a resource's list",
)
async def get_view_pref(
    request: Request[Any, Any, Any],
    resource: FromPath[str],
    *,
    records: Injected[RecordService],
    db: Injected[Database],
) -> Response[ViewPref]:
    actor, res, readable = _resource(records, request, resource)
    row = await load_pref(db, actor, res.name)
    if row is None:
        return json_response(
            {**default_config(res, readable), "updated_at": None}, headers=_NO_STORE
        )
    body = {**shape_config(res, readable, row["config"]), "updated_at": row["updated_at"]}
    return json_response(body, headers=_NO_STORE)


@put(
    "/api/prefs/views/{resource:str}",
    operation_id="putViewPref",
    opt={"request_body": ViewConfig},
    summary="Save this user's list settings for a resource",
)
async def put_view_pref(
    request: Request[Any, Any, Any],
    resource: FromPath[str],
    *,
    records: Injected[RecordService],
    db: Injected[Database],
) -> Response[ViewPref]:
    actor, res, readable = _resource(records, request, resource)
    config = parse_view_config(res, readable, await read_json_object(request), extra=frozenset())
    row = await save_pref(db, actor, res.name, config)
    return json_response({**row["config"], "updated_at": row["updated_at"]}, headers=_NO_STORE)


@get(
    "/api/views/{resource:str}",
    operation_id="listSharedViews",
    summary="Named list views shared with everyone, by name",
)
async def list_views(
    request: Request[Any, Any, Any],
    resource: FromPath[str],
    *,
    records: Injected[RecordService],
    db: Injected[Database],
) -> Response[SharedViewList]:
    _, res, readable = _resource(records, request, resource)
    rows = await list_shared_views(db, res.name)
    return json_response({"items": [_view_body(res, readable, r) for r in rows]}, headers=_NO_STORE)


@post(
    "/api/views/{resource:str}",
    operation_id="createSharedView",
    opt={"request_body": SharedViewRequest},
    summary="Share a named list view with everyone who may view the resource",
)
async def create_view(
    request: Request[Any, Any, Any],
    resource: FromPath[str],
    *,
    records: Injected[RecordService],
    db: Injected[Database],
) -> Response[SharedView]:
    actor, res, readable = _resource(records, request, resource)
    if not records.policy.allows(actor, res, "share_view"):
        raise Forbidden(f"You may not share views of {res.label_plural.lower()}.")
    body = await read_json_object(request)
    name = body.get("name")
    name_error = None
    if not isinstance(name, str) or not name.strip():
        name_error = FieldError("name", "A name for the view.")
    elif len(name.strip()) > NAME_MAX:
        name_error = FieldError("name", f"At most {NAME_MAX} characters.")
    try:
        config = parse_view_config(res, readable, body, extra=frozenset({"name"}))
    except ValidationFailed as exc:
        raise ValidationFailed([*([name_error] if name_error else []), *exc.errors]) from None
    if name_error is not None:
        raise ValidationFailed([name_error])
    assert isinstance(name, str)
    row = await insert_shared_view(db, actor, res.name, name.strip(), config)
    return json_response(
        _view_body(res, readable, row), 201, {"Location": f"/api/views/{res.name}/{row['id']}"}
    )


@delete(
    "/api/views/{resource:str}/{view_id:str}",
    operation_id="deleteSharedView",
    summary="Delete a shared view (its creator only)",
    status_code=204,
)
async def delete_view(
    request: Request[Any, Any, Any],
    resource: FromPath[str],
    view_id: FromPath[str],
    *,
    records: Injected[RecordService],
    db: Injected[Database],
) -> None:
    actor, res, _ = _resource(records, request, resource)
    shared_view_id = ascii_int(view_id)
    if shared_view_id is None:
        raise NotFound(f"No shared view {view_id!r}.")
    await delete_shared_view(db, actor, res.name, shared_view_id)


prefs_router = Router(
    path="/",
    route_handlers=[get_view_pref, put_view_pref, list_views, create_view, delete_view],
    tags=["prefs"],
)
