"""Stream positions: where a subscriber is in the commit-ordered change stream.

Change-log ids are handed out when a row is written, not when its
transaction commits, so "every id above N" misses a transaction that took a
low id and committed late. Positions are therefore built from transaction
snapshots, as PgQ does: a *batch* is the set of log entries whose
transaction is visible in snapshot ``upper`` but not in snapshot ``lower``
(it committed in between). Batches are delivered in order, and entries
within a batch by id (two writers of one row are serialised by its lock, so
for any one record id order is commit order).

A position is ``(lower, upper, after_id, at)``: every entry committed before
``lower`` has been seen, plus the entries of batch ``(lower, upper]`` up to
id ``after_id``. At a batch boundary ``lower == upper`` and ``after_id`` is
0. Positions depend only on the database, not on the server instance that
produced them, so a client may resume on any instance. ``at`` (when the
position was produced) lets a server refuse to replay too far back.
"""

from __future__ import annotations

import base64
import binascii
import math
import re
import time
from dataclasses import dataclass

import msgspec

__all__ = ["BadPosition", "Position", "snapshot_order"]

_SNAPSHOT = re.compile(r"^[0-9]{1,19}:[0-9]{1,19}:([0-9]{1,19}(,[0-9]{1,19}){0,999})?$")
MAX_XID = (1 << 63) - 1
MAX_ID = (1 << 63) - 1
CLOCK_SKEW = 300.0  # seconds a cursor's time may be ahead of this server's clock


def _valid_snapshot(text: str) -> bool:
    """``xmin:xmax:xip,...`` as PostgreSQL prints it: xmin <= xip < xmax, ascending."""
    if not _SNAPSHOT.match(text):
        return False
    xmin_text, xmax_text, running = text.split(":")
    xmin, xmax = int(xmin_text), int(xmax_text)
    xips = [int(x) for x in running.split(",")] if running else []
    if not 1 <= xmin <= xmax <= MAX_XID:
        return False
    return all(xmin <= x < xmax for x in xips) and xips == sorted(set(xips))


def _order(text: str) -> tuple[int, int]:
    xmin, xmax, _ = text.split(":")
    return int(xmin), int(xmax)


def snapshot_order(snapshot: str) -> tuple[int, int]:
    """A sort key for snapshots: later snapshots have a higher xmax, or fewer running.

    Snapshots are points in PostgreSQL's commit sequence, so any two are
    comparable; this key orders them without a database round trip.
    """
    _xmin, xmax, running = snapshot.split(":")
    return int(xmax), -len([x for x in running.split(",") if x])


class BadPosition(ValueError):
    """A cursor that is not one of ours (malformed or tampered with)."""


class _Wire(msgspec.Struct, array_like=True):
    lower: str
    upper: str
    after_id: int
    at: float


@dataclass(frozen=True, slots=True)
class Position:
    lower: str
    upper: str
    after_id: int = 0
    at: float = 0.0

    @classmethod
    def boundary(cls, snapshot: str) -> Position:
        return cls(snapshot, snapshot, 0, time.time())

    @property
    def at_boundary(self) -> bool:
        return self.lower == self.upper

    def after(self, entry_id: int) -> Position:
        return Position(self.lower, self.upper, entry_id, self.at)

    def encode(self) -> str:
        raw = msgspec.json.encode(_Wire(self.lower, self.upper, self.after_id, round(self.at, 3)))
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    @classmethod
    def decode(cls, token: str) -> Position:
        if not isinstance(token, str) or not 0 < len(token) <= 8192:
            raise BadPosition("cursor has the wrong size")
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
            wire = msgspec.json.decode(raw, type=_Wire)
        except (binascii.Error, ValueError, msgspec.DecodeError):
            raise BadPosition("cursor is not valid") from None
        if not (_valid_snapshot(wire.lower) and _valid_snapshot(wire.upper)):
            raise BadPosition("cursor is not valid")
        # A batch's lower snapshot is never later than its upper one.
        lower, upper = _order(wire.lower), _order(wire.upper)
        if lower[0] > upper[0] or lower[1] > upper[1]:
            raise BadPosition("cursor is not valid")
        if not 0 <= wire.after_id <= MAX_ID:
            raise BadPosition("cursor is not valid")
        if not math.isfinite(wire.at) or not 0 <= wire.at <= time.time() + CLOCK_SKEW:
            raise BadPosition("cursor is not valid")
        return cls(wire.lower, wire.upper, wire.after_id, wire.at)
