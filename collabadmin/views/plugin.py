"""The live views part: the evaluator, the read gates, and the stale-read header."""

from __future__ import annotations

import functools
from collections.abc import Sequence

from litestar.config.app import AppConfig
from litestar.plugins import InitPluginProtocol

from collabadmin.context import provide, services_in
from collabadmin.freshness import FreshnessMiddleware, add_stale_header
from collabadmin.hub.cluster import Cluster
from collabadmin.hub.listener import ChangeListener
from collabadmin.resources.service import RecordService
from collabadmin.settings import Settings
from collabadmin.views.definitions import LiveView
from collabadmin.views.evaluator import EVALUATION_PACE, ViewEvaluator

__all__ = ["ViewsPlugin"]

READ_WAIT = 2.0  # seconds a read waits for a running evaluation of the view it reads


class ViewsPlugin(InitPluginProtocol):
    """Provides ``views`` (the :class:`ViewEvaluator`) for the app's live views.

    Each view's resource (declared over its copy's table) becomes a live,
    read-only view; its reads first catch the view up (read-your-writes).
    """

    def __init__(self, views: Sequence[LiveView]) -> None:
        self.views = list(views)

    def on_app_init(self, app_config: AppConfig) -> AppConfig:
        services = services_in(app_config)
        records = services.get(RecordService)
        poll = services.get(Settings).hub_wake == "poll"
        evaluator = provide(
            app_config,
            "views",
            ViewEvaluator(
                records.db,
                records.registry,
                self.views,
                # In poll mode nothing NOTIFYs: look as often as the workflow evaluator.
                interval=0.25 if poll else 1.0,
                read_wait=READ_WAIT,
                pace=EVALUATION_PACE,
            ),
        )
        for view in self.views:
            if view.name not in records.registry:
                raise ValueError(f"live view {view.name}: declare a resource of that name")
            resource = records.registry.get(view.name)
            if not resource.read_only:
                raise ValueError(f"live view {view.name}: declare its resource read-only")
            if view.describes is not None:
                described = records.registry.get(view.describes)
                if len(described.pk) != len(resource.pk):
                    raise ValueError(
                        f"live view {view.name}: its key is not the key of {view.describes}"
                    )
                resource.describes = view.describes
            resource.view = True
            resource.derived = True
            resource.read_only_reason = resource.read_only_reason or (
                "A live view: computed from other records, and read-only."
            )
            records.read_gates[view.name] = functools.partial(evaluator.catch_up, view.name)
        services.get(ChangeListener).subscribe(evaluator.wake)
        # Reads of derived state (here and in workflows) say when they may be behind.
        app_config.middleware.append(FreshnessMiddleware())
        app_config.before_send.append(add_stale_header)
        # Following the log is once per cluster (on the leader in broker mode);
        # a read catches its view up on any instance (the position is in the
        # database).
        cluster = services.get(Cluster)
        cluster.run_once(app_config, evaluator)
        cluster.count_reads("views", lambda: evaluator.reads)
        return app_config
