"""The body of ``/health`` as a msgspec Struct (see :mod:`collabadmin.auth.types`)."""

from __future__ import annotations

from typing import Literal

import msgspec

__all__ = ["HealthBody"]


class HealthBody(msgspec.Struct, kw_only=True):
    status: Literal["ok", "unavailable"]
    database: Literal["ok", "unavailable"]
    hub: str
