"""The preferences part: per-user list settings and shared views."""

from __future__ import annotations

from litestar.config.app import AppConfig
from litestar.plugins import InitPluginProtocol

from collabadmin.prefs.routes import prefs_router

__all__ = ["PrefsPlugin"]


class PrefsPlugin(InitPluginProtocol):
    """Routes only: they use ``records`` and ``db``."""

    def on_app_init(self, app_config: AppConfig) -> AppConfig:
        app_config.route_handlers.append(prefs_router)
        return app_config
