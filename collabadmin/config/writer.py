"""``collabadmin init``: a config file written from the live schema, to be edited.

Like Django's ``inspectdb``, the file states what reflection found (labels,
display fields, search fields, keys of views) so that a person edits values
rather than looks up key names; loading it back serves the same resources.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence

from collabadmin.resources.policy import ACTIONS
from collabadmin.resources.resource import Resource, display_field

__all__ = ["display_field", "write_config"]

_SEARCHED_TYPES = ("string", "text")
_EDITOR_ACTIONS = ("view", "add", "change", "delete", "restore", "comment", "share_view")


def _string(value: str) -> str:
    # A JSON string is a valid TOML basic string (same escapes).
    return json.dumps(value, ensure_ascii=False)


def _strings(values: Iterable[str]) -> str:
    return "[" + ", ".join(_string(v) for v in values) + "]"


def _key(name: str) -> str:
    bare = name.replace("_", "").replace("-", "").isalnum() and name.isascii()
    return name if bare else _string(name)


def write_config(resources: Sequence[Resource]) -> str:
    """The TOML text of a config describing ``resources`` as reflected, with default roles."""
    lines = [
        "# collabadmin.toml: how collabadmin serves this database.",
        "# Written by `collabadmin init` from the live schema; edit it freely.",
        "# Every key is described in docs/configuration.md.",
        "",
        "# Holders of this role may do everything, purge included.",
        'superuser_role = "admin"',
        "",
    ]
    for resource in sorted(resources, key=lambda r: (r.label_plural.casefold(), r.name)):
        lines += _resource_lines(resource)
    lines += [
        "# Roles: what each may do on every resource; [roles.NAME.resources.RESOURCE]",
        "# replaces that for one resource (hidden and writable fields, a row scope).",
        "[roles.editor]",
        f"actions = {_strings(_EDITOR_ACTIONS)}",
        "",
        "[roles.viewer]",
        'actions = ["view"]',
        "",
        f"# Actions: {', '.join(ACTIONS)}.",
        "",
    ]
    return "\n".join(lines)


def _resource_lines(resource: Resource) -> list[str]:
    header = f"resources.{_key(resource.name)}"
    display = display_field(resource)
    searched = [
        n for n, f in resource.fields.items() if f.type in _SEARCHED_TYPES and n not in resource.pk
    ][:4]
    sort = [display] if display not in resource.pk else list(resource.default_sort)
    lines = [
        f"[{header}]",
        f"label = {_string(resource.label)}",
        f"label_plural = {_string(resource.label_plural)}",
        f"display = {_string(display)}",
        f"search = {_strings(searched)}",
        f"sort = {_strings(sort)}",
    ]
    if resource.read_only:
        lines.append("read_only = true")
        if resource.pk:
            lines.append(f"key = {_strings(list(resource.pk))}")
        else:
            lines.append("# key = []  # no key: list-only; name unique columns to address rows")
    lines.append("# exclude = []  # columns never served")
    lines.append("")
    for name, f in resource.fields.items():
        lines.append(f"[{header}.fields.{_key(name)}]")
        lines.append(f"label = {_string(f.label)}")
        if f.choices is not None:
            lines.append(f"choices = {_strings(f.choices)}")
        if f.max_length is not None:
            lines.append(f"max_length = {f.max_length}")
        lines.append("")
    return lines
