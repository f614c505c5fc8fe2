"""This instance's part in a cluster: work run once per cluster, the log's readers, the broker.

Without a broker every instance runs the once-per-cluster work, as
collabadmin always has (the workflow evaluator and the audit chain's sealer
serialise themselves with locks). In broker mode it runs only on the
leader (:mod:`collabadmin.hub.broker.election`), so N instances cost the
database one reader of the change log, not N.

Without a broker, where an instance runs that work is its ``placement``
(``Settings.background``): in its own process (``here``), in another
process (``elsewhere``: ``collabadmin serve`` starts one next to its server
processes, so evaluation never holds up the frames they send), or in a
process that runs only that work (``only``: ``collabadmin background``).
Reads stay correct wherever it runs: a read of derived state catches it up
itself, from positions kept in the database.

Every part that reads the change log over and over registers a counter of
its reads (:meth:`Cluster.count_reads`); ``/metrics`` reports them per
reader (``collabadmin_log_reads``), which is how an operator sees, and the
fault tests check, that only one instance reads the log in broker mode.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from litestar.config.app import AppConfig

from collabadmin.context import Startable, run_with_app

__all__ = ["BrokerStatus", "Cluster"]


@dataclass(frozen=True, slots=True)
class BrokerStatus:
    """What ``/health`` and ``/metrics`` say about broker mode on this instance."""

    stream: str
    connection: str  # connecting, connected, reconnecting, closed
    leader: bool
    elections: int  # times this instance became the leader
    sequence: int  # the last stream sequence this instance took
    lag: int  # messages in the stream it has not taken yet
    published: int  # batches this instance published (while leading)
    consumer_batches: int  # batches this instance took from the stream
    dropped: int  # ... that it had delivered already
    overlaps: int  # ... that began before its position (part of them delivered)
    gaps: int  # losses of the stream it filled from the log (or answered with resync)
    restarts: int  # times the stream was made anew and read again from its start


class _Leadership(Protocol):
    def while_leader(self, *tasks: Startable) -> None: ...


class _Broker(Protocol):
    @property
    def leadership(self) -> _Leadership: ...

    def status(self) -> BrokerStatus: ...


class Cluster:
    """Provided by the hub's part; broker mode sets :attr:`broker`."""

    def __init__(self, placement: str = "here") -> None:
        self.broker: _Broker | None = None
        self.placement = placement
        self._readers: dict[str, Callable[[], int]] = {}

    def run_once(self, app_config: AppConfig, *tasks: Startable) -> None:
        """Run ``tasks`` with the app: on the leader in broker mode, else where placed.

        ``elsewhere``: not in this process (another one runs them); ``here``
        and ``only``: in this one.
        """
        if self.broker is not None:
            self.broker.leadership.while_leader(*tasks)
        elif self.placement != "elsewhere":
            run_with_app(app_config, *tasks)

    def count_reads(self, reader: str, count: Callable[[], int]) -> None:
        """``count()`` is how many times ``reader`` has read the change log."""
        self._readers[reader] = count

    def log_reads(self) -> dict[str, int]:
        return {name: count() for name, count in self._readers.items()}

    def broker_status(self) -> BrokerStatus | None:
        return None if self.broker is None else self.broker.status()
