"""The application ``collabadmin serve`` builds when no ``--app`` is named.

It adopts the database in ``DATABASE_URL`` (the schemas in
``COLLABADMIN_SCHEMAS``, comma-separated, default ``public``): every table,
partitioned table and view that can be served, read-only where a table is
not tracked; see :mod:`collabadmin.resources.reflection`. Default roles:

| role    | may                                                                      |
|---------|--------------------------------------------------------------------------|
| admin   | everything, purge and the audit log included (the superuser role)        |
| editor  | view, add, change, delete, restore, comment on drafts, share list views |
| auditor | view everything and the audit log                                        |
| viewer  | view everything                                                          |

Roles are names on users (``collabadmin user create alice --role editor``).
A config file (``collabadmin.toml``, ``--config``) refines the resources and,
when it declares roles, replaces these.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from litestar import Litestar
from sqlalchemy import create_engine
from sqlalchemy.pool import NullPool

from collabadmin.app import create_app
from collabadmin.config.app import CONFIG_ENV
from collabadmin.config.apply import apply_config, validate_scopes
from collabadmin.config.schema import Config, load_config
from collabadmin.db.engine import normalise_url
from collabadmin.resources.policy import EDITING_ACTIONS
from collabadmin.resources.reflection import Adoption, adopt_database
from collabadmin.resources.resource import Resource
from collabadmin.resources.roles import Grant, RolePolicy
from collabadmin.settings import Settings

__all__ = [
    "DEFAULT_ROLES",
    "adopt",
    "adopted_policy",
    "configured",
    "create_adopted_app",
    "schemas_from_env",
]

DEFAULT_ROLES = ("admin", "editor", "auditor", "viewer")
SCHEMAS_VARIABLE = "COLLABADMIN_SCHEMAS"


def schemas_from_env() -> tuple[str, ...]:
    raw = os.environ.get(SCHEMAS_VARIABLE, "")
    found = tuple(s.strip() for s in raw.split(",") if s.strip())
    return found or ("public",)


def adopted_policy() -> RolePolicy:
    return RolePolicy(
        {
            "editor": Grant(actions=EDITING_ACTIONS),
            "auditor": Grant(actions={"view", "audit"}),
            "viewer": Grant(actions={"view"}),
        },
        superuser_role="admin",
    )


def adopt(
    settings: Settings, schemas: Sequence[str] | None = None, *, config: Config | None = None
) -> Adoption:
    """What the database offers; ``config`` supplies keys of tables and views that lack one."""
    if not settings.database_url:
        raise ValueError("adopting a database needs DATABASE_URL")
    return adopt_database(
        settings.database_url,
        tuple(schemas or schemas_from_env()),
        keys=config.keys if config is not None else None,
    )


def configured(
    settings: Settings, adoption: Adoption, config: Config | None
) -> tuple[list[Resource], RolePolicy]:
    """The adopted resources as the config file refines them, and the roles' policy.

    Without a config file (or one without roles), the default roles above.
    Raises ConfigError when the file names what the database lacks or a row
    scope is not a valid condition on its table.
    """
    resources: list[Resource] = list(adoption.resources)
    policy: RolePolicy | None = None
    if config is not None:
        resources, policy = apply_config(resources, config)
        if policy is not None:
            assert settings.database_url is not None
            engine = create_engine(normalise_url(settings.database_url), poolclass=NullPool)
            try:
                validate_scopes(engine, resources, config)
            finally:
                engine.dispose()
    if policy is None:
        policy = adopted_policy()
        policy.check(resources)
    return resources, policy


def create_adopted_app(
    settings: Settings, adoption: Adoption | None = None, config: Config | None = None
) -> Litestar:
    """The app serving what :func:`adopt` found, refined by the config file.

    As a factory (``--workers``), it reads the file named by
    ``COLLABADMIN_CONFIG`` and adopts the database itself.
    """
    if config is None:
        path = os.environ.get(CONFIG_ENV)
        config = load_config(Path(path) if path else None)
    found = adoption if adoption is not None else adopt(settings, config=config)
    resources, policy = configured(settings, found, config)
    return create_app(settings, resources, policy=policy)
