"""The services an application holds, reachable from any request."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from litestar import Request
from litestar.types import Scope

from collabadmin.auth.credentials import CredentialCache
from collabadmin.auth.login_guard import LoginGuard
from collabadmin.auth.policy import Policy
from collabadmin.db.engine import Actor, Database
from collabadmin.drafts.service import DraftService
from collabadmin.hub.hub import Hub
from collabadmin.hub.list_presence import ListPresence
from collabadmin.hub.listener import ChangeListener
from collabadmin.hub.presence import Presence
from collabadmin.resources.resource import Registry
from collabadmin.resources.service import RecordService
from collabadmin.settings import Settings
from collabadmin.workflows.definitions import Workflow
from collabadmin.workflows.runs import RunService

__all__ = ["Services", "services_of"]

STATE_KEY = "collabadmin"


@dataclass
class Services:
    settings: Settings
    db: Database
    registry: Registry
    policy: Policy
    records: RecordService
    credentials: CredentialCache
    listener: ChangeListener
    hub: Hub
    presence: Presence
    list_presence: ListPresence
    drafts: DraftService
    runs: RunService
    login: LoginGuard
    workflows: list[Workflow] = field(default_factory=list)

    def workflow_summaries(self, actor: Actor) -> list[dict[str, Any]]:
        visible = []
        for workflow in self.workflows:
            if workflow.subject not in self.registry:
                continue
            subject = self.registry.get(workflow.subject)
            if self.policy.allows(actor, subject, "view"):
                visible.append(workflow.summary())
        return visible


def services_of(request: Request[Any, Any, Any]) -> Services:
    return services_from_scope(request.scope)


def services_from_scope(scope: Scope) -> Services:
    services = scope["litestar_app"].state[STATE_KEY]
    assert isinstance(services, Services)
    return services
