"""The parts a collabadmin app is made of, in the order they are set up.

Each is a Litestar plugin of its own package (``<package>/plugin.py``) that
adds its services, routes, middleware, background tasks, hub feeds and
change-log renderers while the app is built, using the services of the
parts before it (:mod:`collabadmin.context`). So the order is the layering,
bottom-up, and adding a surface is one line here: nothing in
``collabadmin.app`` or ``collabadmin.context`` changes.
"""

from __future__ import annotations

from collections.abc import Sequence

from litestar.plugins import InitPluginProtocol

from collabadmin.audit.plugin import AuditPlugin
from collabadmin.auth.plugin import AuthPlugin
from collabadmin.bulk.plugin import BulkPlugin
from collabadmin.drafts.plugin import DraftsPlugin
from collabadmin.hub.plugin import HubPlugin
from collabadmin.imports.plugin import ImportsPlugin
from collabadmin.ops.plugin import OpsPlugin
from collabadmin.prefs.plugin import PrefsPlugin
from collabadmin.resources.plugin import RecordsPlugin
from collabadmin.resources.policy import Policy
from collabadmin.views.definitions import LiveView
from collabadmin.views.plugin import ViewsPlugin
from collabadmin.workflows.definitions import Workflow
from collabadmin.workflows.plugin import WorkflowsPlugin

__all__ = ["surfaces"]


def surfaces(
    policy: Policy, workflows: Sequence[Workflow], views: Sequence[LiveView] = ()
) -> list[InitPluginProtocol]:
    return [
        AuthPlugin(),
        RecordsPlugin(policy),
        HubPlugin(),
        ViewsPlugin(views),
        DraftsPlugin(),
        WorkflowsPlugin(workflows),
        PrefsPlugin(),
        BulkPlugin(),
        ImportsPlugin(),
        AuditPlugin(),
        OpsPlugin(),
    ]
