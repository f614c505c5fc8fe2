"""The demo application: the course catalogue resources, its workflow and live view."""

from __future__ import annotations

from litestar import Litestar

from collabadmin.app import create_app
from collabadmin.demo.policy import demo_policy
from collabadmin.demo.resources import demo_registry
from collabadmin.demo.views import CATALOGUE_FIGURES, COURSE_OVERVIEW
from collabadmin.demo.workflows import LAUNCH_COURSE
from collabadmin.settings import Settings

__all__ = ["create_demo_app"]


def create_demo_app(settings: Settings) -> Litestar:
    registry = demo_registry()
    policy = demo_policy()
    policy.check(registry)
    return create_app(
        settings,
        registry,
        policy=policy,
        workflows=[LAUNCH_COURSE],
        views=[COURSE_OVERVIEW, CATALOGUE_FIGURES],
    )
