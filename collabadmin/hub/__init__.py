"""The hub: one LISTEN connection per process that wakes live delivery."""

from collabadmin.hub.listener import CHANNEL, ChangeListener

__all__ = ["CHANNEL", "ChangeListener"]
