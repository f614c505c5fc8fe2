"""``/api/prefs/views/{resource}`` (per user) and ``/api/views/{resource}[/{id}]`` (shared).

Both check the resource the way the records API does (unknown → 404, not
viewable → 403) in a dependency (:func:`view_target`), so before the body's
shape is looked at and before anything is read or written; they validate
configs with the reader's readable fields, and shape every config they
return for the reader, so a hidden field is refused on the way in and
dropped on the way out.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, NamedTuple

from litestar import Response, Router, delete, get, post, put
from litestar.di import Provide
from litestar.params import FromPath, JSONBody
from msgspec.structs import asdict

from collabadmin.auth.types import ActorRef
from collabadmin.context import Injected
from collabadmin.db.engine import Actor, Database, Row
from collabadmin.errors import FieldError, Forbidden, NotFound
from collabadmin.inputs import ascii_int
from collabadmin.prefs.config import default_config, parse_view_config, shape_config
from collabadmin.prefs.store import (
    delete_shared_view,
    insert_shared_view,
    list_shared_views,
    load_pref,
    save_pref,
    update_shared_view,
)
from collabadmin.prefs.types import (
    SharedView,
    SharedViewList,
    SharedViewRequest,
    ViewConfig,
    ViewConfigRequest,
    ViewPref,
)
from collabadmin.resources.resource import Resource
from collabadmin.resources.service import RecordService
from collabadmin.web import strict_query

__all__ = ["ViewTarget", "prefs_router", "view_target"]

NAME_MAX = 80
_NO_STORE = {"Cache-Control": "no-store"}


class ViewTarget(NamedTuple):
    """Whose views of which resource, and the fields that reader may read."""

    actor: Actor
    resource: Resource
    readable: frozenset[str]


def view_target(
    resource: FromPath[str], *, actor: Injected[Actor], records: Injected[RecordService]
) -> ViewTarget:
    """A dependency: the resource, checked as the records API checks it (404, 403)."""
    res = records.resource(actor, resource, "view")
    return ViewTarget(actor, res, records.policy.readable_fields(actor, res))


def sharing_target(target: Injected[ViewTarget], records: Injected[RecordService]) -> ViewTarget:
    """A dependency: :func:`view_target`, for someone who may share views of it (else 403)."""
    if not records.policy.allows(target.actor, target.resource, "share_view"):
        raise Forbidden(f"You may not share views of {target.resource.label_plural.lower()}.")
    return target


def _pref(config: ViewConfig, updated_at: dt.datetime | None) -> ViewPref:
    return ViewPref(**asdict(config), updated_at=updated_at)


def _view(target: ViewTarget, row: Row) -> SharedView:
    creator = None
    if row["created_by"] is not None:
        creator = ActorRef(id=row["created_by"], name=row["created_by_name"])
    config = shape_config(target.resource, target.readable, row["config"])
    actor = target.actor
    return SharedView(
        **asdict(config),
        id=row["id"],
        name=row["name"],
        created_by=creator,
        created_at=row["created_at"],
        editable=actor.is_superuser or (actor.id is not None and row["created_by"] == actor.id),
    )


def _view_name(data: SharedViewRequest, problems: list[FieldError]) -> str:
    name = data.name.strip()
    if not name:
        problems.append(FieldError("name", "A name for the view."))
    elif len(name) > NAME_MAX:
        problems.append(FieldError("name", f"At most {NAME_MAX} characters."))
    return name


@get(
    "/api/prefs/views/{resource:str}",
    operation_id="getViewPref",
    summary="This user's column, sort and filter settings for a resource's list",
)
async def get_view_pref(
    *, target: Injected[ViewTarget], db: Injected[Database]
) -> Response[ViewPref]:
    row = await load_pref(db, target.actor, target.resource.name)
    if row is None:
        body = _pref(default_config(target.resource, target.readable), None)
    else:
        config = shape_config(target.resource, target.readable, row["config"])
        body = _pref(config, row["updated_at"])
    return Response(body, headers=_NO_STORE)


@put(
    "/api/prefs/views/{resource:str}",
    operation_id="putViewPref",
    summary="Save this user's list settings for a resource",
)
async def put_view_pref(
    data: JSONBody[ViewConfigRequest], *, target: Injected[ViewTarget], db: Injected[Database]
) -> Response[ViewPref]:
    config = parse_view_config(target.resource, target.readable, data)
    row = await save_pref(db, target.actor, target.resource.name, config)
    saved = shape_config(target.resource, target.readable, row["config"])
    return Response(_pref(saved, row["updated_at"]), headers=_NO_STORE)


@get(
    "/api/views/{resource:str}",
    operation_id="listSharedViews",
    summary="Named list views shared with everyone, by name",
)
async def list_views(
    *, target: Injected[ViewTarget], db: Injected[Database]
) -> Response[SharedViewList]:
    rows = await list_shared_views(db, target.resource.name)
    items = [_view(target, r) for r in rows]
    return Response(SharedViewList(items=items), headers=_NO_STORE)


@post(
    "/api/views/{resource:str}",
    operation_id="createSharedView",
    summary="Share a named list view with everyone who may view the resource",
    dependencies={"sharer": Provide(sharing_target, sync_to_thread=False)},
)
async def create_view(
    data: JSONBody[SharedViewRequest], *, sharer: Injected[ViewTarget], db: Injected[Database]
) -> Response[SharedView]:
    problems: list[FieldError] = []
    name = _view_name(data, problems)
    config = parse_view_config(sharer.resource, sharer.readable, data, problems)
    row = await insert_shared_view(db, sharer.actor, sharer.resource.name, name, config)
    return Response(
        _view(sharer, row),
        status_code=201,
        headers={"Location": f"/api/views/{sharer.resource.name}/{row['id']}"},
    )


@put(
    "/api/views/{resource:str}/{view_id:str}",
    operation_id="updateSharedView",
    summary="Replace a shared view's name, columns, sort and filters (its creator only)",
    dependencies={"sharer": Provide(sharing_target, sync_to_thread=False)},
)
async def update_view(
    view_id: FromPath[str],
    data: JSONBody[SharedViewRequest],
    *,
    sharer: Injected[ViewTarget],
    db: Injected[Database],
) -> Response[SharedView]:
    shared_view_id = ascii_int(view_id)
    if shared_view_id is None:
        raise NotFound(f"No shared view {view_id!r}.")

    def parse() -> tuple[str, dict[str, Any]]:
        problems: list[FieldError] = []
        name = _view_name(data, problems)
        return name, parse_view_config(sharer.resource, sharer.readable, data, problems)

    row = await update_shared_view(db, sharer.actor, sharer.resource.name, shared_view_id, parse)
    return Response(_view(sharer, row), headers=_NO_STORE)


@delete(
    "/api/views/{resource:str}/{view_id:str}",
    operation_id="deleteSharedView",
    summary="Delete a shared view (its creator only)",
    status_code=204,
)
async def delete_view(
    view_id: FromPath[str], *, target: Injected[ViewTarget], db: Injected[Database]
) -> None:
    shared_view_id = ascii_int(view_id)
    if shared_view_id is None:
        raise NotFound(f"No shared view {view_id!r}.")
    await delete_shared_view(db, target.actor, target.resource.name, shared_view_id)


prefs_router = Router(
    path="/",
    route_handlers=[
        get_view_pref,
        put_view_pref,
        list_views,
        create_view,
        update_view,
        delete_view,
    ],
    tags=["prefs"],
    dependencies={"target": Provide(view_target, sync_to_thread=False)},
    before_request=strict_query,
)
