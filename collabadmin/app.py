"""``create_app``: the one entry point that builds a collabadmin server.

Everything the app needs is passed in (settings, resources, policy,
workflows); nothing is configured through globals or the environment at
import time, so tests build as many independent apps as they like.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Iterable, Sequence
from typing import Any

from litestar import Litestar, Request, Response, get
from litestar.datastructures import State
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin, SwaggerRenderPlugin

from collabadmin import __version__
from collabadmin.audit.chain import Sealer
from collabadmin.audit.routes import audit_router
from collabadmin.auth.client_address import ClientAddressMiddleware
from collabadmin.auth.credentials import CredentialCache
from collabadmin.auth.headers import add_response_headers
from collabadmin.auth.login_guard import LoginGuard
from collabadmin.auth.middleware import AuthMiddleware, RequestIdMiddleware
from collabadmin.auth.policy import Policy, StaffPolicy
from collabadmin.auth.purge import SessionPurge
from collabadmin.auth.routes import AuthController
from collabadmin.context import STATE_KEY, Services, services_of
from collabadmin.db.engine import Database
from collabadmin.drafts.feed import DraftFeed
from collabadmin.drafts.routes import drafts_router
from collabadmin.drafts.scheduler import Scheduler
from collabadmin.drafts.service import DraftService
from collabadmin.errors import problem_response
from collabadmin.hub.clients import Client
from collabadmin.hub.credential_watch import CredentialWatch
from collabadmin.hub.hub import Hub, HubSettings
from collabadmin.hub.list_presence import ListPresence
from collabadmin.hub.listener import ChangeListener
from collabadmin.hub.presence import Presence
from collabadmin.hub.routes import ws_endpoint
from collabadmin.inputs import InputGuardMiddleware
from collabadmin.openapi import document_problems
from collabadmin.ops.http import RequestContextMiddleware, RequestObserver, metrics_handler
from collabadmin.ops.metrics import Metrics
from collabadmin.prefs import prefs_router
from collabadmin.resources.key_path import RecordKeyPath
from collabadmin.resources.resource import Registry, Resource
from collabadmin.resources.routes import MetaController, records_router
from collabadmin.resources.service import RecordService
from collabadmin.resources.stats import stats_router
from collabadmin.settings import Settings
from collabadmin.spa import spa_handlers
from collabadmin.web import JsonObject, json_response
from collabadmin.workflows.definitions import Workflow
from collabadmin.workflows.evaluation import Evaluator
from collabadmin.workflows.feed import RunFeed
from collabadmin.workflows.routes import workflows_router
from collabadmin.workflows.runs import RunService

__all__ = ["create_app"]

log = logging.getLogger("collabadmin")
HEALTH_TIMEOUT = 2.0


@get("/health", operation_id="health", summary="Liveness of the database and the listener")
async def health(request: Request[Any, Any, Any]) -> Response[JsonObject]:
    svc = services_of(request)
    database = "ok"
    try:
        async with asyncio.timeout(HEALTH_TIMEOUT), svc.db.connection() as tx:
            await tx.value("SELECT 1")
    except Exception:  # any failure here means "the database is down" to an operator
        database = "unavailable"
    hub = svc.listener.status
    ok = database == "ok" and hub == "listening"
    return json_response(
        {"status": "ok" if ok else "unavailable", "database": database, "hub": hub},
        200 if ok else 503,
        {"Cache-Control": "no-store"},
    )


def _presence(
    settings: Settings, db: Database, registry: Registry, policy: Policy, hub: Hub
) -> tuple[Presence, ListPresence]:
    """Presence on record topics, and its echo on the lists (``r/{resource}``)."""

    def subscribers(topic: str) -> list[Client]:
        return list(hub.subscriptions.get(topic, {}))

    def readable(client: Client, topic: str) -> frozenset[str]:
        resource = registry.get(topic.split("/")[1])  # presence is on r/{resource}/{pk}
        return policy.readable_fields(client.actor, resource)

    presence = Presence(
        db,
        subscribers,
        heartbeat=settings.presence_heartbeat,
        expiry=settings.presence_expiry,
        readable=readable,
    )
    return presence, ListPresence(db, registry, policy, presence, subscribers)


def _metrics(services: Services) -> Metrics:
    metrics = Metrics()
    metrics.watch_hub(services.hub)
    metrics.watch_pool(services.db.pool)
    metrics.watch_password_slots(services.login.slots)
    return metrics


def _session_tasks(settings: Settings, services: Services) -> tuple[CredentialWatch, SessionPurge]:
    """Sockets that end with their credentials, and the purge of ended sessions."""

    async def topic_lost(client: Client, topic: str) -> None:
        await services.presence.announce(client, topic, "left", None)

    credential_watch = CredentialWatch(
        services.db,
        services.hub,
        idle_seconds=settings.session_idle_seconds,
        interval=settings.socket_recheck_interval,
        on_topic_lost=topic_lost,
        cache=services.credentials,
    )
    # A credential changed somewhere: requests look it up again, sockets are re-checked.
    services.listener.on_credentials(services.credentials.clear)
    services.listener.on_credentials(credential_watch.wake)
    session_purge = SessionPurge(
        services.db,
        idle_seconds=settings.session_idle_seconds,
        interval=settings.session_purge_interval,
    )
    return credential_watch, session_purge


def create_app(
    settings: Settings,
    resources: Registry | Iterable[Resource] = (),
    *,
    policy: Policy | None = None,
    workflows: Sequence[Workflow] = (),
) -> Litestar:
    """Build the ASGI app. ``settings.database_url`` must point at a migrated database."""
    if not settings.database_url:
        raise ValueError("create_app needs settings.database_url (the CLI starts one if unset)")
    registry = resources if isinstance(resources, Registry) else Registry(resources)
    if settings.hub_wake not in ("notify", "poll"):
        raise ValueError("hub_wake must be notify or poll")
    poll = settings.hub_wake == "poll"
    # In poll mode the server's own writes skip pg_notify (the capture trigger
    # reads this setting); the hub reads the log every hub_poll_ms instead.
    db = Database(
        settings.database_url,
        pool_size=settings.pool_size,
        session_settings={"collabadmin.notify": "off"} if poll else None,
    )
    chosen_policy: Policy = policy or StaffPolicy()
    cache = CredentialCache()
    listener = ChangeListener(db.url)
    records = RecordService(db, registry, chosen_policy)
    drafts = DraftService(records)
    scheduler = Scheduler(drafts, interval=settings.draft_schedule_interval)
    runs = RunService(records, workflows)
    evaluator = Evaluator(
        db,
        registry,
        list(runs.compiled.values()),
        # Progress is for people: a quarter second is soon enough in poll mode.
        interval=0.25 if poll else 1.0,
    )
    hub = Hub(
        db,
        registry,
        chosen_policy,
        HubSettings(
            wake="poll" if poll else "notify",
            poll_interval=settings.hub_poll_ms / 1000,
            queue_capacity=settings.ws_queue,
        ),
        feeds=[DraftFeed(registry, chosen_policy), RunFeed(runs)],
    )
    presence, list_presence = _presence(settings, db, registry, chosen_policy, hub)
    services = Services(
        settings=settings,
        db=db,
        registry=registry,
        policy=chosen_policy,
        records=records,
        credentials=cache,
        listener=listener,
        hub=hub,
        presence=presence,
        list_presence=list_presence,
        drafts=drafts,
        runs=runs,
        login=LoginGuard.from_settings(settings),
        workflows=list(workflows),
    )
    listener.subscribe(hub.wake)
    listener.subscribe(evaluator.wake)
    sealer = Sealer(db)
    listener.on_presence(services.presence.received)
    # Started in this order once the hub runs, stopped in reverse.
    background = [sealer, scheduler, evaluator, *_session_tasks(settings, services)]
    metrics = _metrics(services)

    @contextlib.asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        await db.open()
        await listener.start()
        await hub.start()
        await services.presence.start()
        await list_presence.start()
        for task in background:
            await task.start()
        try:
            yield
        finally:
            for task in reversed(background):
                await task.stop()
            await list_presence.stop()
            await services.presence.stop()
            await hub.stop()
            await listener.stop()
            await db.dispose()

    app = Litestar(
        route_handlers=[
            health,
            AuthController,
            MetaController,
            records_router,
            audit_router,
            drafts_router,
            workflows_router,
            prefs_router,
            stats_router,
            ws_endpoint,
            metrics_handler(metrics, settings.metrics_token),
            *spa_handlers,
        ],
        middleware=[
            ClientAddressMiddleware(settings.trusted_proxies),
            RequestIdMiddleware(),
            RequestContextMiddleware(),
            # After the request id and access log, so a refused request is logged with its id.
            InputGuardMiddleware(),
            AuthMiddleware(db, cache, settings.session_idle_seconds),
        ],
        before_send=[add_response_headers, RequestObserver(metrics)],
        exception_handlers={Exception: problem_response},
        lifespan=[lifespan],
        state=State({STATE_KEY: services}),
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
    app.asgi_handler = RecordKeyPath(app.asgi_handler)
    return app
