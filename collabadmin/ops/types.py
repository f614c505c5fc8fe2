"""The body of ``/health`` as a msgspec Struct (see :mod:`collabadmin.auth.types`)."""

from __future__ import annotations

from typing import Literal

import msgspec

__all__ = ["BrokerHealth", "HealthBody"]


class BrokerHealth(msgspec.Struct, kw_only=True):
    """Broker mode on this instance (see docs/operations.md, "Broker mode")."""

    # connected, or connecting / reconnecting / closed (the body is then a 503).
    connection: str
    # Whether this instance is the leader: the one that reads the change log.
    leader: bool
    # The last stream sequence this instance took, and how many it has yet to take.
    sequence: int
    lag: int


class HealthBody(msgspec.Struct, kw_only=True):
    status: Literal["ok", "unavailable"]
    database: Literal["ok", "unavailable"]
    hub: str
    # Only in broker mode.
    broker: BrokerHealth | msgspec.UnsetType = msgspec.UNSET
