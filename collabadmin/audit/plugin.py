"""The audit part: browsing and exporting the log, revert, and sealing the hash chain."""

from __future__ import annotations

from litestar.config.app import AppConfig
from litestar.plugins import InitPluginProtocol

from collabadmin.audit.browse import AuditLog
from collabadmin.audit.chain import Sealer
from collabadmin.audit.routes import audit_router, revert_record
from collabadmin.changelog.renderers import Renderers
from collabadmin.context import provide, services_in
from collabadmin.hub.cluster import Cluster
from collabadmin.resources.service import RecordService

__all__ = ["AuditPlugin"]


class AuditPlugin(InitPluginProtocol):
    """Provides ``audit`` (the log as auditors browse it).

    Set up after the parts that register change-log renderers: it reads
    the registry when a page is shown, so it needs them only to be there
    by the time the app serves.
    """

    def on_app_init(self, app_config: AppConfig) -> AppConfig:
        services = services_in(app_config)
        records = services.get(RecordService)
        provide(app_config, "audit", AuditLog(records, services.get(Renderers)))
        app_config.route_handlers.extend([audit_router, revert_record])
        # Once per cluster: on the leader in broker mode.
        sealer = Sealer(records.db)
        cluster = services.get(Cluster)
        cluster.run_once(app_config, sealer)
        cluster.count_reads("sealer", lambda: sealer.reads)
        return app_config
