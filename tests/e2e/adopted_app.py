"""The adopted fixture schema (tests/adopt/fixture.sql) served with ``collabadmin serve --app``."""

from __future__ import annotations

from litestar import Litestar

from collabadmin.app import create_app
from collabadmin.resources.resource import reflect_resources
from collabadmin.settings import Settings
from tests.adopt.conftest import ADOPTED


def create_adopted_app(settings: Settings) -> Litestar:
    """Every tracked table of the fixture: reflected, no resource code, the default policy."""
    if settings.database_url is None:
        raise RuntimeError("the adopted app needs DATABASE_URL")
    return create_app(settings, reflect_resources(settings.database_url, only=list(ADOPTED)))
