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
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from litestar import Litestar

from collabadmin.app import create_app
from collabadmin.auth.policy import Action
from collabadmin.auth.roles import Grant, RolePolicy
from collabadmin.resources.reflection import Adoption, adopt_database
from collabadmin.settings import Settings

__all__ = ["DEFAULT_ROLES", "adopted_policy", "create_adopted_app", "schemas_from_env"]

DEFAULT_ROLES = ("admin", "editor", "auditor", "viewer")
SCHEMAS_VARIABLE = "COLLABADMIN_SCHEMAS"


def schemas_from_env() -> tuple[str, ...]:
    raw = os.environ.get(SCHEMAS_VARIABLE, "")
    found = tuple(s.strip() for s in raw.split(",") if s.strip())
    return found or ("public",)


def adopted_policy() -> RolePolicy:
    editing: set[Action] = {
        "view",
        "add",
        "change",
        "delete",
        "restore",
        "comment",
        "share_view",
    }
    return RolePolicy(
        {
            "editor": Grant(actions=editing),
            "auditor": Grant(actions={"view", "audit"}),
            "viewer": Grant(actions={"view"}),
        },
        superuser_role="admin",
    )


def adopt(settings: Settings, schemas: Sequence[str] | None = None) -> Adoption:
    if not settings.database_url:
        raise ValueError("adopting a database needs DATABASE_URL")
    return adopt_database(settings.database_url, tuple(schemas or schemas_from_env()))


def create_adopted_app(settings: Settings, adoption: Adoption | None = None) -> Litestar:
    """The app serving what :func:`adopt` found (computed here when not given)."""
    found = adoption if adoption is not None else adopt(settings)
    policy = adopted_policy()
    policy.check(found.resources)
    return create_app(settings, found.resources, policy=policy)
