"""The workflows part: runs, their evaluator, the run feed, audit renderer and meta section."""

from __future__ import annotations

from collections.abc import Sequence

from litestar.config.app import AppConfig
from litestar.plugins import InitPluginProtocol

from collabadmin.changelog.renderers import Renderers
from collabadmin.context import provide, services_in
from collabadmin.hub.cluster import Cluster
from collabadmin.hub.hub import Hub
from collabadmin.hub.listener import ChangeListener
from collabadmin.resources.meta import MetaSections
from collabadmin.resources.service import RecordService
from collabadmin.settings import Settings
from collabadmin.views.evaluator import EVALUATION_PACE
from collabadmin.workflows.definitions import Workflow
from collabadmin.workflows.evaluation import Evaluator
from collabadmin.workflows.feed import RunFeed
from collabadmin.workflows.renderer import RunRenderer
from collabadmin.workflows.routes import workflows_router
from collabadmin.workflows.runs import RunService

__all__ = ["WorkflowsPlugin"]


class WorkflowsPlugin(InitPluginProtocol):
    """Provides ``runs`` (the run service) for the app's workflow definitions."""

    def __init__(self, workflows: Sequence[Workflow]) -> None:
        self.workflows = list(workflows)

    def on_app_init(self, app_config: AppConfig) -> AppConfig:
        services = services_in(app_config)
        records = services.get(RecordService)
        runs = provide(app_config, "runs", RunService(records, self.workflows))
        poll = services.get(Settings).hub_wake == "poll"
        evaluator = Evaluator(
            records.db,
            records.registry,
            list(runs.compiled.values()),
            # Progress is for people: a quarter second is soon enough in poll mode.
            interval=0.25 if poll else 1.0,
            pace=EVALUATION_PACE,
        )
        services.get(ChangeListener).subscribe(evaluator.wake)
        services.get(Hub).add_feed(RunFeed(runs))
        services.get(Renderers).register(RunRenderer())
        services.get(MetaSections).add("workflows", runs.summaries)
        app_config.route_handlers.append(workflows_router)
        # Once per cluster: on the leader in broker mode.
        cluster = services.get(Cluster)
        cluster.run_once(app_config, evaluator)
        cluster.count_reads("workflows", lambda: evaluator.reads)
        return app_config
