"""The drafts part: routes, scheduled publishing, the ``drafts`` feed and audit renderer."""

from __future__ import annotations

from litestar.config.app import AppConfig
from litestar.plugins import InitPluginProtocol

from collabadmin.changelog.renderers import Renderers
from collabadmin.context import provide, run_with_app, services_in
from collabadmin.drafts.feed import DraftFeed
from collabadmin.drafts.renderer import DraftRenderer
from collabadmin.drafts.routes import drafts_router
from collabadmin.drafts.scheduler import Scheduler
from collabadmin.drafts.service import DraftService
from collabadmin.hub.hub import Hub
from collabadmin.resources.service import RecordService
from collabadmin.settings import Settings

__all__ = ["DraftsPlugin"]


class DraftsPlugin(InitPluginProtocol):
    """Provides ``drafts`` (the draft service)."""

    def on_app_init(self, app_config: AppConfig) -> AppConfig:
        services = services_in(app_config)
        records = services.get(RecordService)
        drafts = provide(app_config, "drafts", DraftService(records))
        services.get(Hub).add_feed(DraftFeed(records.registry, records.policy))
        services.get(Renderers).register(DraftRenderer())
        app_config.route_handlers.append(drafts_router)
        interval = services.get(Settings).draft_schedule_interval
        run_with_app(app_config, Scheduler(drafts, interval=interval))
        return app_config
