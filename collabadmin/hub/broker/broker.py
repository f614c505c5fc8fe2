"""Broker mode's parts of one instance, started and stopped together.

- :class:`~collabadmin.hub.broker.link.Link`: the NATS connection and the stream;
- :class:`~collabadmin.hub.broker.election.Leadership`: the advisory lock;
  while this instance holds it, the
  :class:`~collabadmin.hub.broker.publisher.Publisher` reads the log and
  publishes its batches, and the work registered to run once per cluster runs;
- :class:`~collabadmin.hub.broker.consumer.StreamConsumer`: the hub's source
  of batches, on every instance;
- :class:`~collabadmin.hub.broker.presence.NatsPresence`: presence over NATS.
"""

from __future__ import annotations

import logging

from sqlalchemy.engine import make_url

from collabadmin.db.engine import Database
from collabadmin.hub.broker.consumer import StreamConsumer
from collabadmin.hub.broker.election import Leadership
from collabadmin.hub.broker.link import Link, default_stream_name
from collabadmin.hub.broker.presence import NatsPresence
from collabadmin.hub.broker.publisher import Publisher
from collabadmin.hub.cluster import BrokerStatus
from collabadmin.hub.hub import Hub
from collabadmin.hub.presence import Presence

__all__ = ["Broker"]

log = logging.getLogger("collabadmin.hub.broker")


class Broker:
    def __init__(
        self,
        url: str,
        db: Database,
        hub: Hub,
        presence: Presence,
        *,
        stream: str | None = None,
        max_age: float = 24 * 3600.0,
        heartbeat: float = 1.0,
    ) -> None:
        database = make_url(db.url).database or "postgres"
        self.link = Link(url, stream or default_stream_name(database), database, max_age=max_age)
        settings = hub.settings
        interval = settings.poll_interval if settings.wake == "poll" else settings.safety_interval
        self.publisher = Publisher(db, self.link, interval=interval)
        self.leadership = Leadership(db.conninfo, self.link.stream, self.publisher.lead)
        self.consumer = StreamConsumer(
            db, self.link, heartbeat=heartbeat, fill_limit=settings.replay_limit
        )
        self.presence = NatsPresence(self.link, presence)
        hub.use_source(self.consumer)

    async def start(self) -> None:
        await self.link.connect()
        await self.presence.start()
        await self.leadership.start()

    async def stop(self) -> None:
        await self.leadership.stop()
        await self.consumer.stop()
        await self.link.close()

    def status(self) -> BrokerStatus:
        consumer, publisher = self.consumer, self.publisher
        return BrokerStatus(
            stream=self.link.stream,
            connection=self.link.state,
            leader=self.leadership.leader,
            elections=self.leadership.elections,
            sequence=consumer.sequence,
            lag=consumer.lag,
            published=publisher.published,
            consumer_batches=consumer.batches,
            dropped=consumer.dropped,
            overlaps=consumer.overlaps,
            gaps=consumer.gaps,
            restarts=consumer.restarts,
        )
