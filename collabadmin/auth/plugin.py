"""The auth part: sign-in routes, the authentication middleware, the session purge."""

from __future__ import annotations

from litestar.config.app import AppConfig
from litestar.plugins import InitPluginProtocol

from collabadmin.auth.credentials import CredentialCache
from collabadmin.auth.login_guard import LoginGuard
from collabadmin.auth.middleware import AuthMiddleware
from collabadmin.auth.purge import SessionPurge
from collabadmin.auth.routes import AuthController
from collabadmin.context import provide, run_with_app, services_in
from collabadmin.db.engine import Database
from collabadmin.settings import Settings

__all__ = ["AuthPlugin"]


class AuthPlugin(InitPluginProtocol):
    """Provides ``credentials`` (the credential cache) and ``login_guard``."""

    def on_app_init(self, app_config: AppConfig) -> AppConfig:
        services = services_in(app_config)
        settings, db = services.get(Settings), services.get(Database)
        cache = provide(app_config, "credentials", CredentialCache())
        provide(app_config, "login_guard", LoginGuard.from_settings(settings))
        # Last of the middleware: after the request id, the access log and the input guard.
        app_config.middleware.append(AuthMiddleware(db, cache, settings.session_idle_seconds))
        app_config.route_handlers.append(AuthController)
        purge = SessionPurge(
            db,
            idle_seconds=settings.session_idle_seconds,
            interval=settings.session_purge_interval,
        )
        run_with_app(app_config, purge)
        return app_config
