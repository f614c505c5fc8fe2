"""The adopted fixture schema (tests/adopt/fixture.sql) as a served app, for ``collabadmin serve --app``."""

from __future__ import annotations

from litestar import Litestar

from collabadmin.app import create_app
from collabadmin.resources.resource import reflect_resources
from collabadmin.settings import Settings
from tests.adopt.conftest import ADOPTED


def create_adopted_app(settings: Settings) -> Litestar:
    """Every tracked table of the fixture, reflected with no resource code and the default policy."""
    return create_app(settings, reflect_resources(settings.database_url, only=list(ADOPTED)))
