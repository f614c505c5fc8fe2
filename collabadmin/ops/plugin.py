"""The operations part: ``/health``, ``/metrics`` and timing every response.

The request-id context (:class:`~collabadmin.ops.http.RequestContextMiddleware`)
is among the app's own middleware, where its place in the order is fixed.
"""

from __future__ import annotations

from litestar.config.app import AppConfig
from litestar.plugins import InitPluginProtocol

from collabadmin.auth.login_guard import LoginGuard
from collabadmin.context import provide, services_in
from collabadmin.db.engine import Database
from collabadmin.hub.cluster import Cluster
from collabadmin.hub.hub import Hub
from collabadmin.ops.health import health
from collabadmin.ops.http import RequestObserver, metrics_handler
from collabadmin.ops.metrics import Metrics
from collabadmin.settings import Settings

__all__ = ["OpsPlugin"]


class OpsPlugin(InitPluginProtocol):
    """Provides ``metrics`` (this app's registry of Prometheus metrics)."""

    def on_app_init(self, app_config: AppConfig) -> AppConfig:
        services = services_in(app_config)
        metrics = provide(app_config, "metrics", Metrics())
        metrics.watch_hub(services.get(Hub))
        metrics.watch_cluster(services.get(Cluster))
        metrics.watch_pool(services.get(Database).pool)
        metrics.watch_password_slots(services.get(LoginGuard).slots)
        token = services.get(Settings).metrics_token
        app_config.route_handlers.extend([health, metrics_handler(metrics, token)])
        # After the security headers: it sees the response as it is sent.
        app_config.before_send.append(RequestObserver(metrics))
        return app_config
