"""Applying a :class:`~collabadmin.config.schema.Config` to reflected resources.

:func:`apply_config` refines each configured resource (labels, fields, keys,
search, sort, display) and orders them: resources named in the file come
first, in the file's order, then the others alphabetically by label. Roles
become a :class:`~collabadmin.resources.roles.RolePolicy`. Anything that names a
table, column, role or action that does not exist is a ConfigError naming
the key, before the server starts.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import Any

from sqlalchemy import Engine

from collabadmin.config.bounds import bounds_validator
from collabadmin.config.record_actions import configured_actions
from collabadmin.config.schema import (
    Config,
    ConfigError,
    FieldConfig,
    GrantConfig,
    ResourceConfig,
    UserMatch,
)
from collabadmin.config.scopes import check_scope_text, explain_scope, row_scope
from collabadmin.resources.fields import Field, Relation
from collabadmin.resources.inflect import pluralize, singularize
from collabadmin.resources.resource import Resource
from collabadmin.resources.roles import EVERY_RESOURCE, Grant, RoleGrants, RolePolicy, RowScope

__all__ = ["apply_config", "validate_scopes"]


def apply_config(
    resources: Iterable[Resource], config: Config
) -> tuple[list[Resource], RolePolicy | None]:
    """The resources refined and ordered by ``config``, and its roles' policy (None: no roles)."""
    by_name = {r.name: r for r in resources}
    for name in config.resources:
        if name not in by_name:
            served = ", ".join(sorted(by_name)) or "none"
            raise ConfigError(
                f"resources.{name}: no table or view named {name!r} (found: {served})"
            )
    refined = {
        # Copies: links are re-pointed below, and the caller's resources stay as given.
        name: _refine(resource, config.resources[name])
        if name in config.resources
        else replace(resource, fields=dict(resource.fields))
        for name, resource in by_name.items()
    }
    for name, rc in config.resources.items():
        if rc.display is not None:
            _point_links_at(refined.values(), refined[name], rc.display)
    declared = [refined[name] for name in config.resources]
    rest = sorted(
        (r for name, r in refined.items() if name not in config.resources),
        key=lambda r: (r.label_plural.casefold(), r.name),
    )
    ordered = declared + rest
    return ordered, _policy(ordered, config)


def _refine(resource: Resource, rc: ResourceConfig) -> Resource:
    where = f"resources.{resource.name}"
    columns = set(resource.table.c.keys())

    def known(names: Iterable[str], key: str) -> None:
        missing = sorted(set(names) - columns)
        if missing:
            raise ConfigError(f"{where}.{key}: no columns {', '.join(missing)} in {resource.name}")

    known(rc.fields, "fields")
    known(rc.exclude, "exclude")
    known(rc.search or (), "search")
    known((s.removeprefix("-") for s in rc.sort or ()), "sort")
    known(rc.key or (), "key")
    known([rc.display] if rc.display else (), "display")

    pk = tuple(rc.key) if rc.key else resource.pk
    fields = dict(resource.fields)
    for name in rc.exclude:
        if name in pk:
            raise ConfigError(f"{where}.exclude: {name} is in the key; it cannot be excluded")
        f = fields.pop(name, None)
        if f is not None and f.required and not (rc.read_only or resource.read_only):
            raise ConfigError(
                f"{where}.exclude: {name} is required (NOT NULL, no default);"
                " excluding it would make every new record fail"
            )
    for name, fc in rc.fields.items():
        if name in rc.exclude:
            raise ConfigError(f"{where}.fields.{name}: the column is also excluded")
        if name not in fields:
            continue  # collabadmin's own columns (version, deleted_at) are never fields
        fields[name] = _refine_field(fields[name], fc, f"{where}.fields.{name}")
    for name in [*(rc.search or ()), *(s.removeprefix("-") for s in rc.sort or ())]:
        if name not in fields:
            raise ConfigError(f"{where}: {name} is excluded; it cannot be searched or sorted")
    if rc.display is not None and rc.display not in fields:
        raise ConfigError(f"{where}.display: {rc.display} is excluded")
    read_only = resource.read_only or rc.read_only
    if read_only:
        fields = {name: replace(f, read_only=True) for name, f in fields.items()}
    for name in pk:
        if name not in fields and name in resource.table.c:
            raise ConfigError(f"{where}.key: {name} is not served")
    label, plural = rc.label, rc.label_plural
    if label and not plural:
        plural = pluralize(label)
    elif plural and not label:
        label = singularize(plural)
    refined = replace(
        resource,
        fields=fields,
        pk=pk,
        label=label or resource.label,
        label_plural=plural or resource.label_plural,
        search_fields=tuple(rc.search) if rc.search is not None else resource.search_fields,
        default_sort=tuple(rc.sort) if rc.sort else _sort_after_key(resource, pk),
        read_only=read_only,
        preview_url=rc.preview_url if rc.preview_url is not None else resource.preview_url,
        display=rc.display if rc.display is not None else resource.display,
    )
    if not rc.actions:
        return refined
    return replace(refined, record_actions=configured_actions(refined, rc.actions, where))


def _sort_after_key(resource: Resource, pk: tuple[str, ...]) -> tuple[str, ...]:
    if resource.default_sort == resource.pk:
        return pk
    return resource.default_sort


def _refine_field(f: Field, fc: FieldConfig, where: str) -> Field:
    changes: dict[str, Any] = {}
    for key in ("label", "read_only", "read_only_after_create", "required", "protected"):
        value = getattr(fc, key)
        if value is not None:
            changes[key] = value
    if fc.max_length is not None:
        if fc.max_length < 1:
            raise ConfigError(f"{where}.max_length: must be at least 1")
        changes["max_length"] = fc.max_length
    if fc.pattern is not None:
        if f.type not in ("string", "text"):
            raise ConfigError(f"{where}.pattern: only text fields take a pattern")
        try:
            re.compile(fc.pattern)
        except re.error as exc:
            raise ConfigError(f"{where}.pattern: not a valid regular expression: {exc}") from None
        changes["pattern"] = fc.pattern
    if fc.choices is not None:
        if not fc.choices:
            raise ConfigError(f"{where}.choices: list at least one choice")
        changes["choices"] = tuple(fc.choices)
    if fc.messages:
        changes["messages"] = {**f.messages, **fc.messages}
    if fc.min is not None or fc.max is not None:
        changes["validators"] = (*f.validators, bounds_validator(f, fc, where))
    elif fc.exempt_roles:
        raise ConfigError(f"{where}.exempt_roles: only bounds (min, max) have exemptions")
    return replace(f, **changes) if changes else f


def _point_links_at(resources: Iterable[Resource], target: Resource, display: str) -> None:
    names = {target.name, str(target.table.name)}
    for resource in resources:
        for name, f in resource.fields.items():
            if f.relation is not None and f.relation.resource in names:
                resource.fields[name] = replace(
                    f, relation=Relation(resource=target.name, display=display)
                )


def _grant(gc: GrantConfig, where: str) -> Grant:
    scope: RowScope | None = None
    if gc.scope is not None:
        if isinstance(gc.scope, str):
            check_scope_text(gc.scope, f"{where}.scope")
        scope = row_scope(gc.scope)
    return Grant(
        actions=frozenset(gc.actions),
        hide=frozenset(gc.hidden),
        write=frozenset(gc.writable) if gc.writable is not None else None,
        rows=scope,
    )


def _declares_default(rc: GrantConfig) -> bool:
    return bool(rc.actions or rc.hidden or rc.writable is not None or rc.scope is not None)


def _policy(resources: Sequence[Resource], config: Config) -> RolePolicy | None:
    hidden = {
        r.name: frozenset(n for n, fc in config.resources[r.name].fields.items() if fc.hidden)
        for r in resources
        if r.name in config.resources
    }
    hidden = {name: fields for name, fields in hidden.items() if fields}
    if not config.roles:
        if hidden:
            some = next(iter(hidden))
            raise ConfigError(
                f"resources.{some}: hidden fields need roles to hide them from;"
                " declare [roles.NAME] tables (collabadmin init writes admin, editor, viewer)"
            )
        return None
    names = {r.name for r in resources}
    roles: dict[str, RoleGrants] = {}
    for role, rc in config.roles.items():
        grants: dict[str, Grant] = {}
        if _declares_default(rc):
            every_field = {n for r in resources for n in r.fields}
            for key, named in (("hidden", rc.hidden), ("writable", rc.writable or ())):
                missing = sorted(set(named) - every_field)
                if missing:
                    raise ConfigError(
                        f"roles.{role}.{key}: no resource has fields {', '.join(missing)}"
                    )
            grants[EVERY_RESOURCE] = _grant(rc, f"roles.{role}")
        for name, gc in rc.resources.items():
            if name not in names:
                raise ConfigError(f"roles.{role}.resources.{name}: no resource named {name!r}")
            grants[name] = _grant(gc, f"roles.{role}.resources.{name}")
        for name, fields in hidden.items():
            base = grants.get(name) or grants.get(EVERY_RESOURCE)
            if base is not None:
                grants[name] = replace(base, hide=frozenset(base.hide) | fields)
        roles[role] = grants
    policy = RolePolicy(roles, superuser_role=config.superuser_role)
    try:
        policy.check(resources)
    except ValueError as exc:
        raise ConfigError(f"roles: {exc}") from None
    for where, resource, _scope in _scoped(resources, config):
        scope = _effective_scope(config, where)
        if isinstance(scope, UserMatch) and scope.column not in resource.table.c:
            raise ConfigError(f"{where}.scope: {resource.name} has no column {scope.column!r}")
    return policy


def _effective_scope(config: Config, where: str) -> Any:
    parts = where.split(".")
    role = config.roles[parts[1]]
    return role.resources[parts[3]].scope if len(parts) == 4 else role.scope


def _scoped(resources: Sequence[Resource], config: Config) -> list[tuple[str, Resource, RowScope]]:
    """Every (where, resource, scope) a role's grants apply, for checking up front."""
    found = []
    for role, rc in config.roles.items():
        if role == config.superuser_role:
            continue
        for resource in resources:
            gc = rc.resources.get(resource.name)
            if gc is not None:
                where = f"roles.{role}.resources.{resource.name}"
            elif _declares_default(rc):
                gc, where = rc, f"roles.{role}"
            else:
                continue
            if gc.scope is not None:
                found.append((where, resource, row_scope(gc.scope)))
    return found


def validate_scopes(engine: Engine, resources: Sequence[Resource], config: Config) -> None:
    """Prepare every raw scope on each resource it applies to; ConfigError if one fails."""
    explain_scope(
        engine,
        (
            (f"{where} (on {resource.name})", resource, scope)
            for where, resource, scope in _scoped(resources, config)
            if isinstance(_effective_scope(config, where), str)
        ),
    )
