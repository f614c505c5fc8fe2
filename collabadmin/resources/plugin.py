"""The records part: ``/api/r``, ``/api/meta`` and counts, over the record service."""

from __future__ import annotations

from litestar.config.app import AppConfig
from litestar.plugins import InitPluginProtocol

from collabadmin.context import provide, services_in
from collabadmin.db.engine import Database
from collabadmin.resources.action_routes import run_record_action
from collabadmin.resources.meta import MetaSections
from collabadmin.resources.policy import Policy
from collabadmin.resources.resource import Registry
from collabadmin.resources.routes import MetaController, records_router
from collabadmin.resources.service import RecordService
from collabadmin.resources.stats import stats_router

__all__ = ["RecordsPlugin"]


class RecordsPlugin(InitPluginProtocol):
    """Provides ``policy``, ``records`` (the record service) and ``meta_sections``.

    The policy is the app's (``create_app(policy=)``); the parts above read
    it from the record service (a protocol is no key to look a service up
    by), route handlers receive it as ``policy``.
    """

    def __init__(self, policy: Policy) -> None:
        self.policy = policy

    def on_app_init(self, app_config: AppConfig) -> AppConfig:
        services = services_in(app_config)
        db, registry = services.get(Database), services.get(Registry)
        provide(app_config, "policy", self.policy)
        provide(app_config, "records", RecordService(db, registry, self.policy))
        provide(app_config, "meta_sections", MetaSections())
        app_config.route_handlers.extend(
            [MetaController, records_router, stats_router, run_record_action]
        )
        return app_config
