"""Where the hub's batches come from when it does not read the change log itself.

By default each instance's hub reads the log in snapshot batches
(:func:`collabadmin.changelog.batches.read_since`). In broker mode
(:mod:`collabadmin.hub.broker`) one instance reads it and publishes the
batches to a stream, and every hub takes them from a :class:`BatchSource`
instead: the same batches, cut at the same snapshots, for every instance.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from collabadmin.db.engine import Row

__all__ = ["Batch", "BatchSource"]


@dataclass(frozen=True, slots=True)
class Batch:
    """The entries committed between snapshots ``lower`` and ``upper``, by id.

    ``sequence`` is where the batch ends in the stream it came from (0 when
    it did not come from one, e.g. read from the log to fill a gap).
    ``resync``: the entries could not be had (too many to read back); every
    subscriber is told to resync, and the stream goes on from ``upper``.
    """

    lower: str
    upper: str
    entries: list[Row]
    sequence: int = 0
    resync: bool = False


class BatchSource(Protocol):
    async def begin(self, ready: Callable[[], None]) -> str:
        """Start; returns the snapshot the first batch starts at.

        ``ready()`` is called whenever batches are waiting.
        """
        ...

    def pending(self) -> Sequence[Batch]:
        """The batches waiting, in order: each starts where the one before ended."""
        ...

    def delivered(self, batch: Batch) -> None:
        """``batch`` (the first pending one) was delivered: forget it."""
        ...
