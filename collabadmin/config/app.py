"""Serving a database with no code: reflect it, apply the config file, check the scopes."""

from __future__ import annotations

import os
from pathlib import Path

from litestar import Litestar
from sqlalchemy import create_engine
from sqlalchemy.pool import NullPool

from collabadmin.app import create_app
from collabadmin.config.apply import apply_config, validate_scopes
from collabadmin.config.schema import Config, ConfigError, load_config
from collabadmin.db.engine import normalise_url
from collabadmin.resources.declare import reflect_resources
from collabadmin.resources.resource import Resource
from collabadmin.resources.roles import RolePolicy
from collabadmin.settings import Settings

__all__ = ["CONFIG_ENV", "app_from_config_env", "configured_resources", "create_configured_app"]

CONFIG_ENV = "COLLABADMIN_CONFIG"


def configured_resources(url: str, config: Config) -> tuple[list[Resource], RolePolicy | None]:
    """The database's resources as ``config`` refines them, and its roles' policy.

    Raises ConfigError when the file names something the database lacks or a
    row scope is not a valid condition on its table.
    """
    try:
        reflected = reflect_resources(url, keys=config.keys)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    resources, policy = apply_config(reflected, config)
    if policy is not None:
        engine = create_engine(normalise_url(url), poolclass=NullPool)
        try:
            validate_scopes(engine, resources, config)
        finally:
            engine.dispose()
    return resources, policy


def create_configured_app(settings: Settings, config: Config) -> Litestar:
    assert settings.database_url is not None
    resources, policy = configured_resources(settings.database_url, config)
    return create_app(settings, resources, policy=policy)


def app_from_config_env(settings: Settings) -> Litestar:
    """An app factory (``module:factory``) reading the config named by COLLABADMIN_CONFIG."""
    path = os.environ.get(CONFIG_ENV)
    return create_configured_app(settings, load_config(Path(path) if path else None))
