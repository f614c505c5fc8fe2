"""The bulk part: ``POST /api/r/{resource}/bulk``, its jobs and their ``jobs/{id}`` topic."""

from __future__ import annotations

from litestar.config.app import AppConfig
from litestar.plugins import InitPluginProtocol

from collabadmin.bulk.jobs import JobFeed, JobService
from collabadmin.bulk.routes import bulk_router, jobs_router
from collabadmin.context import provide, run_with_app, services_in
from collabadmin.db.engine import Database
from collabadmin.hub.hub import Hub

__all__ = ["BulkPlugin"]


class BulkPlugin(InitPluginProtocol):
    """Provides ``jobs`` (the job service); its jobs stop (recorded as failed) with the app."""

    def on_app_init(self, app_config: AppConfig) -> AppConfig:
        services = services_in(app_config)
        hub = services.get(Hub)
        jobs = provide(app_config, "jobs", JobService(services.get(Database), hub))
        hub.add_feed(JobFeed(jobs))
        hub.greet("job", jobs.greet)
        run_with_app(app_config, jobs)
        app_config.route_handlers.extend([bulk_router, jobs_router])
        return app_config
