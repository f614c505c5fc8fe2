"""Prometheus metrics of one collabadmin app, in a registry of its own.

Each app owns a :class:`Metrics` with its own ``CollectorRegistry`` rather
than the client library's global default: tests (and embedding
applications) build several apps in one process, and a global registry
would refuse the second app's metric names or mix their values.

Two kinds of source:

- *events* observed as they happen: request durations (``collabadmin.ops.http``)
  and, per change-log batch the hub delivers, its lag, size and frames;
- *state* read at scrape time by custom collectors: open sockets and
  resyncs from the hub's own counters, and the connection pool's
  ``get_stats()``. Reading at scrape time costs nothing between scrapes
  and can never drift from the real value.
"""

from __future__ import annotations

import time
from collections import Counter as Tally
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from collabadmin.auth.passwords import PasswordSlots, password_checks

if TYPE_CHECKING:
    from psycopg_pool import AsyncConnectionPool

    from collabadmin.hub.cluster import Cluster
    from collabadmin.hub.fanout import Delivery
    from collabadmin.hub.hub import Hub

__all__ = ["Metrics"]

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
LAG_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
SIZE_BUCKETS = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 50000)
FRAME_BUCKETS = (0, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 5000, 10000, 50000, 100000)


def status_class(status: int) -> str:
    return f"{status // 100}xx"


class Metrics:
    """The instruments of one app and the registry that exposes them."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Histogram(
            "collabadmin_http_request_duration_seconds",
            "Time from routing an HTTP request to its last response byte, by route template"
            " (e.g. /api/r/{resource}/{pk}), method and status class.",
            ["route", "method", "status"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.hub_lag = Histogram(
            "collabadmin_hub_lag_seconds",
            "Per change delivered by the hub: the time it was queued to its sockets minus the"
            " change-log entry's 'at', which is the writing transaction's START time (now() in"
            " PostgreSQL), so it includes the transaction's own duration and any clock"
            " difference between the database and this server.",
            buckets=LAG_BUCKETS,
            registry=self.registry,
        )
        self.batch_entries = Histogram(
            "collabadmin_hub_batch_entries",
            "Change-log entries per batch the hub delivered.",
            buckets=SIZE_BUCKETS,
            registry=self.registry,
        )
        self.batch_frames = Histogram(
            "collabadmin_hub_batch_frames",
            "Websocket frames queued per batch the hub delivered (all sockets together).",
            buckets=FRAME_BUCKETS,
            registry=self.registry,
        )
        self.entries_read = Counter(
            "collabadmin_hub_entries_read",
            "Change-log entries the hub read, by resource: the rate changes commit, as seen by"
            " this instance (only resources someone on this instance follows, or all of them"
            " while someone follows the audit topic).",
            ["resource"],
            registry=self.registry,
        )

    def watch_hub(self, hub: Hub) -> None:
        """Observe the hub's batches and expose its socket and resync counts."""
        hub.observe_batches(self.observe_batch)
        self.registry.register(_HubCollector(hub))

    def watch_cluster(self, cluster: Cluster) -> None:
        """The change log's readers on this instance, and broker mode's state."""
        self.registry.register(_ClusterCollector(cluster))

    def watch_pool(self, pool: AsyncConnectionPool[Any]) -> None:
        self.registry.register(_PoolCollector(pool))

    def watch_password_slots(self, slots: PasswordSlots) -> None:
        self.registry.register(_PasswordCollector(slots))

    def observe_request(self, route: str, method: str, status: int, seconds: float) -> None:
        self.requests.labels(route, method, status_class(status)).observe(seconds)

    def observe_batch(self, entries: Sequence[dict[str, Any]], delivery: Delivery) -> None:
        """One delivered batch: ``entries`` as read from the log, ``delivery`` as fanned out."""
        now = time.time()
        self.batch_entries.observe(len(entries))
        self.batch_frames.observe(delivery.frames)
        for entry in entries:
            at = entry.get("at")
            if at is not None:
                self.hub_lag.observe(max(0.0, now - at.timestamp()))
        for resource, count in Tally(str(e["resource"]) for e in entries).items():
            self.entries_read.labels(resource).inc(count)

    def render(self) -> bytes:
        """The registry in the Prometheus text exposition format."""
        return generate_latest(self.registry)


class _HubCollector(Collector):
    """Sockets and resyncs, read from the hub when scraped."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub

    def collect(self) -> Iterator[Metric]:
        yield GaugeMetricFamily(
            "collabadmin_websockets_open",
            "Authenticated websockets connected to this instance's hub.",
            value=len(self.hub.clients),
        )
        resyncs = CounterMetricFamily(
            "collabadmin_hub_resyncs",
            "Subscriptions ended with 'resync': reason=overflow when a socket's queue"
            " overflowed (counted once per socket and overflow), too_far_back when a resume"
            " cursor was older or further back than the replay allows.",
            labels=["reason"],
        )
        resyncs.add_metric(["overflow"], self.hub.overflows)
        resyncs.add_metric(["too_far_back"], self.hub.too_far_back)
        yield resyncs


# Broker mode's counters (BrokerStatus fields), with their meaning.
_BROKER_COUNTERS = {
    "elections": "Times this instance became the leader (the one that reads the change log).",
    "published": "Change batches this instance published to the stream while it led.",
    "consumer_batches": "Change batches this instance took from the stream.",
    "dropped": "Batches taken from the stream that this instance had delivered already.",
    "overlaps": "Batches that began before this instance's position (their delivered entries"
    " were left out).",
    "gaps": "Losses of the stream (messages gone) this instance read back from the change log,"
    " or answered with resync when too many.",
    "restarts": "Times the stream was made anew and this instance read it from its start.",
}


class _ClusterCollector(Collector):
    """Reads of the change log per reader, and broker mode's state, read when scraped."""

    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster

    def collect(self) -> Iterator[Metric]:
        reads = CounterMetricFamily(
            "collabadmin_log_reads",
            "Queries of this instance that read the change log, by reader: hub (the live"
            " stream without a broker), publisher (the leader's, in broker mode), stream_gaps"
            " (losses of the stream read back), replay (resuming clients), workflows and"
            " sealer (once per cluster in broker mode: on the leader).",
            labels=["reader"],
        )
        for reader, count in sorted(self.cluster.log_reads().items()):
            reads.add_metric([reader], float(count))
        yield reads
        status = self.cluster.broker_status()
        if status is None:
            return
        yield GaugeMetricFamily(
            "collabadmin_broker_leader",
            "1 while this instance leads: it reads the change log and publishes the stream.",
            value=float(status.leader),
        )
        yield GaugeMetricFamily(
            "collabadmin_broker_connected",
            "1 while this instance's NATS connection is up.",
            value=float(status.connection == "connected"),
        )
        yield GaugeMetricFamily(
            "collabadmin_broker_consumer_sequence",
            "The last stream sequence this instance took from the stream.",
            value=float(status.sequence),
        )
        yield GaugeMetricFamily(
            "collabadmin_broker_lag_messages",
            "Messages of the stream this instance has not taken yet (a batch is one message,"
            " or more when it spans several resources or is large).",
            value=float(status.lag),
        )
        for key, help_text in _BROKER_COUNTERS.items():
            yield CounterMetricFamily(
                f"collabadmin_broker_{key}", help_text, value=float(getattr(status, key))
            )


# psycopg_pool's get_stats() keys exposed, with their meaning.
_POOL_GAUGES = {
    "pool_size": "Connections the pool holds now, in use or idle (being opened included).",
    "pool_available": "Idle connections ready to be handed out.",
    "requests_waiting": "Callers waiting for a connection right now.",
    "pool_max": "The most connections the pool may open (COLLABADMIN_POOL_SIZE).",
}


class _PoolCollector(Collector):
    """The psycopg pool's own statistics, read when scraped."""

    def __init__(self, pool: AsyncConnectionPool[Any]) -> None:
        self.pool = pool

    def collect(self) -> Iterator[Metric]:
        stats = self.pool.get_stats()
        for key, help_text in _POOL_GAUGES.items():
            yield GaugeMetricFamily(
                f"collabadmin_db_{key}", help_text, value=float(stats.get(key, 0))
            )


class _PasswordCollector(Collector):
    """Password checks (argon2) and sign-ins refused because all slots were busy."""

    def __init__(self, slots: PasswordSlots) -> None:
        self.slots = slots

    def collect(self) -> Iterator[Metric]:
        yield CounterMetricFamily(
            "collabadmin_password_checks",
            "Password checks started by this process (each costs a core and 64 MiB for its"
            " duration; sign-ins refused by the throttle cost none).",
            value=float(password_checks()),
        )
        yield CounterMetricFamily(
            "collabadmin_password_checks_refused",
            "Sign-ins refused (429) because COLLABADMIN_PASSWORD_CONCURRENCY checks were running.",
            value=float(self.slots.refused),
        )
        yield GaugeMetricFamily(
            "collabadmin_password_checks_running_max",
            "The most password checks that have run at once (at most the concurrency setting).",
            value=float(self.slots.peak),
        )
