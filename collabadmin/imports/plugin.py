"""The imports part: ``POST /api/r/{resource}/import``, into records or staged as drafts."""

from __future__ import annotations

from litestar.config.app import AppConfig
from litestar.plugins import InitPluginProtocol

from collabadmin.imports.routes import imports_router

__all__ = ["ImportsPlugin"]


class ImportsPlugin(InitPluginProtocol):
    """Adds the import route, which uses the record and draft services of the parts below."""

    def on_app_init(self, app_config: AppConfig) -> AppConfig:
        app_config.route_handlers.append(imports_router)
        return app_config
