"""``create_app``: the one entry point that builds a collabadmin server.

Everything the app needs is passed in (settings, resources, policy,
workflows); nothing is configured through globals or the environment at
import time, so tests build as many independent apps as they like.

The app itself holds only the core (settings, the database, the resources,
the change log's renderers), the middleware every request goes through, and
the single-page app. Everything else comes from the parts listed in
:mod:`collabadmin.surfaces`, each a Litestar plugin that adds its own
services, routes and background tasks (see :mod:`collabadmin.context`).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Iterable, Sequence

from litestar import Litestar
from litestar.config.app import AppConfig
from litestar.datastructures import State
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin, SwaggerRenderPlugin

from collabadmin import __version__
from collabadmin.auth.client_address import ClientAddressMiddleware
from collabadmin.auth.headers import add_response_headers
from collabadmin.auth.middleware import RequestIdMiddleware
from collabadmin.changelog.renderers import Renderers
from collabadmin.context import STATE_KEY, Services, provide
from collabadmin.db.engine import Database
from collabadmin.dependencies import resolve_in_turn
from collabadmin.errors import problem_response
from collabadmin.inputs import InputGuardMiddleware
from collabadmin.openapi import (
    document_closed_bodies,
    document_exports,
    document_frames,
    document_optional_bodies,
    document_problems,
    document_query_objects,
    document_request_bodies,
)
from collabadmin.ops.http import RequestContextMiddleware
from collabadmin.resources.key_path import RecordKeyPath
from collabadmin.resources.policy import Policy, StaffPolicy
from collabadmin.resources.resource import Registry, Resource
from collabadmin.resources.schemas import document_records
from collabadmin.settings import Settings
from collabadmin.spa import spa_handlers
from collabadmin.surfaces import surfaces
from collabadmin.views.definitions import LiveView
from collabadmin.web import JsonRequest, edge_dependencies
from collabadmin.workflows.definitions import Workflow

__all__ = ["create_app"]

log = logging.getLogger("collabadmin")


def create_app(
    settings: Settings,
    resources: Registry | Iterable[Resource] = (),
    *,
    policy: Policy | None = None,
    workflows: Sequence[Workflow] = (),
    views: Sequence[LiveView] = (),
) -> Litestar:
    """Build the ASGI app. ``settings.database_url`` must point at a migrated database.

    ``views`` are the live views (collabadmin.views) among ``resources``.
    """
    if not settings.database_url:
        raise ValueError("create_app needs settings.database_url (the CLI starts one if unset)")
    registry = resources if isinstance(resources, Registry) else Registry(resources)
    if settings.hub_wake not in ("notify", "poll"):
        raise ValueError("hub_wake must be notify or poll")
    if settings.background not in ("here", "elsewhere", "only"):
        raise ValueError("background must be here, elsewhere or only")
    resolve_in_turn()
    # In poll mode the server's own writes skip pg_notify (the capture trigger
    # reads this setting); the hub reads the log every hub_poll_ms instead.
    db = Database(
        settings.database_url,
        pool_size=settings.pool_size,
        session_settings={"collabadmin.notify": "off"} if settings.hub_wake == "poll" else None,
    )

    def core(config: AppConfig) -> AppConfig:
        """The services every part may use; they run before the plugins' own."""
        config.dependencies.update(edge_dependencies())
        provide(config, "settings", settings)
        provide(config, "db", db)
        provide(config, "registry", registry)
        provide(config, "renderers", Renderers())
        return config

    @contextlib.asynccontextmanager
    async def database(app: Litestar) -> AsyncIterator[None]:
        # The first lifespan: the pool is open before any part starts, and
        # closed after the last one stopped.
        await db.open()
        try:
            yield
        finally:
            await db.dispose()

    app = Litestar(
        route_handlers=[*spa_handlers],
        on_app_init=[core],
        plugins=surfaces(policy or StaffPolicy(), workflows, views),
        middleware=[
            ClientAddressMiddleware(settings.trusted_proxies),
            RequestIdMiddleware(),
            RequestContextMiddleware(),
            # After the request id and access log, so a refused request is logged with
            # its id. (The auth part adds the authentication middleware after these.)
            InputGuardMiddleware(),
        ],
        before_send=[add_response_headers],
        exception_handlers={Exception: problem_response},
        request_class=JsonRequest,
        lifespan=[database],
        state=State({STATE_KEY: Services()}),
        request_max_body_size=settings.max_body_bytes,
        openapi_config=OpenAPIConfig(
            title="collabadmin",
            version=__version__,
            path="/schema",
            render_plugins=[SwaggerRenderPlugin(path="/"), JsonRenderPlugin()],
        ),
        debug=False,
        logging_config=None,
    )
    document_problems(app.openapi_schema)
    document_request_bodies(app)
    document_closed_bodies(app)
    document_optional_bodies(app)
    document_query_objects(app)
    document_exports(app.openapi_schema)
    document_frames(app.openapi_schema)
    document_records(app.openapi_schema, registry)
    app.asgi_handler = RecordKeyPath(app.asgi_handler)
    return app
