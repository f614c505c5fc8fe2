"""The live part: the LISTEN connection, the hub, presence and ``/api/ws``."""

from __future__ import annotations

from litestar.config.app import AppConfig
from litestar.plugins import InitPluginProtocol

from collabadmin.auth.credentials import CredentialCache
from collabadmin.context import Startable, provide, run_with_app, services_in
from collabadmin.db.engine import Database
from collabadmin.hub.clients import Client
from collabadmin.hub.cluster import Cluster
from collabadmin.hub.credential_watch import CredentialWatch
from collabadmin.hub.hub import Hub, HubSettings
from collabadmin.hub.list_presence import ListPresence
from collabadmin.hub.listener import ChangeListener
from collabadmin.hub.presence import Presence
from collabadmin.hub.routes import ws_endpoint
from collabadmin.resources.service import RecordService
from collabadmin.settings import Settings

__all__ = ["HubPlugin"]


class HubPlugin(InitPluginProtocol):
    """Provides ``listener``, ``hub``, ``presence``, ``list_presence`` and ``cluster``.

    Parts above add their feeds to the hub (``Hub.add_feed``), follow the
    listener's wake-ups (``ChangeListener.subscribe``) and run the work that
    must run once per cluster through ``Cluster.run_once``. In broker mode
    (``Settings.broker``) the ``broker`` is provided too.
    """

    def on_app_init(self, app_config: AppConfig) -> AppConfig:
        services = services_in(app_config)
        settings, db = services.get(Settings), services.get(Database)
        records, cache = services.get(RecordService), services.get(CredentialCache)
        registry, policy = records.registry, records.policy
        listener = provide(app_config, "listener", ChangeListener(db.url))
        hub = provide(
            app_config,
            "hub",
            Hub(
                db,
                registry,
                policy,
                HubSettings(
                    wake="poll" if settings.hub_wake == "poll" else "notify",
                    poll_interval=settings.hub_poll_ms / 1000,
                    queue_capacity=settings.ws_queue,
                ),
            ),
        )

        def subscribers(topic: str) -> list[Client]:
            return list(hub.subscriptions.get(topic, {}))

        def readable(client: Client, topic: str) -> frozenset[str]:
            resource = registry.get(topic.split("/")[1])  # presence is on r/{resource}/{pk}
            return policy.readable_fields(client.actor, resource)

        # Presence on record topics, and its echo on the lists (r/{resource}).
        presence = provide(
            app_config,
            "presence",
            Presence(
                db,
                subscribers,
                heartbeat=settings.presence_heartbeat,
                expiry=settings.presence_expiry,
                readable=readable,
            ),
        )
        list_presence = provide(
            app_config, "list_presence", ListPresence(db, registry, policy, presence, subscribers)
        )

        async def topic_lost(client: Client, topic: str) -> None:
            await presence.announce(client, topic, "left", None)

        # Sockets end with their credentials: at once for those ended here,
        # on the next check for those ended anywhere else.
        credential_watch = CredentialWatch(
            db,
            hub,
            idle_seconds=settings.session_idle_seconds,
            interval=settings.socket_recheck_interval,
            on_topic_lost=topic_lost,
            cache=cache,
        )
        cache.on_end(hub.end_credential)
        cluster = provide(app_config, "cluster", Cluster(settings.background))
        cluster.count_reads("hub", lambda: hub.log_reads)
        cluster.count_reads("replay", lambda: hub.replays.reads)
        listener.subscribe(hub.wake)
        background_only = settings.background == "only" and not settings.broker
        if not background_only:
            listener.on_presence(presence.received)
        # A credential changed somewhere: requests look it up again, sockets are re-checked.
        listener.on_credentials(cache.clear)
        listener.on_credentials(credential_watch.wake)
        app_config.route_handlers.append(ws_endpoint)
        if background_only:
            # The background-only process (``collabadmin background``): it
            # serves no socket, so only the listener runs, to wake the
            # evaluators (which the parts above run with Cluster.run_once).
            run_with_app(app_config, listener)
            return app_config
        if settings.broker:
            # Only in broker mode, which needs the broker extra (nats-py).
            try:
                from collabadmin.hub.broker.broker import Broker  # noqa: PLC0415
            except ImportError:
                raise ValueError(
                    "COLLABADMIN_BROKER needs nats-py: pip install 'collabadmin[broker]'"
                ) from None

            broker = provide(
                app_config,
                "broker",
                Broker(
                    settings.broker,
                    db,
                    hub,
                    presence,
                    stream=settings.broker_stream,
                    max_age=settings.broker_max_age,
                ),
            )
            cluster.broker = broker
            cluster.count_reads("publisher", lambda: broker.publisher.reads)
            cluster.count_reads("stream_gaps", lambda: broker.consumer.log_reads)
            listener.subscribe(broker.publisher.wake)
            # The broker connects before the hub takes its first batch from it.
            parts: tuple[Startable, ...] = (listener, broker, hub)
        else:
            parts = (listener, hub)
        run_with_app(app_config, *parts, presence, list_presence, credential_watch)
        return app_config
