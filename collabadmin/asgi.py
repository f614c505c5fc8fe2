"""An application factory for ASGI servers that import the app by name.

Multi-worker uvicorn (``collabadmin serve --workers N``) starts each worker
by importing ``collabadmin.asgi:app_from_env``; the application to build is
named by ``COLLABADMIN_APP`` (``module:factory``, the factory taking
:class:`~collabadmin.settings.Settings`) and everything else comes from the
environment as for ``collabadmin serve``.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable
from typing import Any

from collabadmin.ops.logs import configure_logging
from collabadmin.settings import Settings

__all__ = ["AppSpecError", "app_from_env", "load_factory"]


class AppSpecError(ValueError):
    """``module:factory`` does not name a callable."""


def load_factory(spec: str) -> Callable[[Settings], Any]:
    module_name, _, attr = spec.partition(":")
    if not module_name or not attr:
        raise AppSpecError("--app takes module:factory, e.g. myproject.admin:create_admin")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise AppSpecError(f"cannot import {module_name}: {exc}") from None
    factory = getattr(module, attr, None)
    if not callable(factory):
        raise AppSpecError(f"{spec} is not a callable factory")
    return factory  # type: ignore[no-any-return]


def app_from_env() -> Any:
    # A worker process is spawned afresh: it sets up the log format it was given.
    log_format = os.environ.get("COLLABADMIN_LOG_FORMAT")
    if log_format:
        configure_logging(log_format)
    return load_factory(os.environ["COLLABADMIN_APP"])(Settings.from_env())
