"""The shape of ``collabadmin.toml``, and reading it with errors a person can act on.

Every table of the file is a msgspec Struct that forbids unknown keys, so a
typo (``lable = "Film"``) stops start-up with the key's path and line rather
than being silently ignored. Reading never raises anything but
:class:`ConfigError`.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any, Literal

import msgspec

from collabadmin.resources.policy import Action

__all__ = [
    "Config",
    "ConfigError",
    "FieldConfig",
    "GrantConfig",
    "RecordActionConfig",
    "ResourceConfig",
    "RoleConfig",
    "UserMatch",
    "load_config",
    "parse_config",
]

DEFAULT_PATH = "collabadmin.toml"

MessageKind = Literal["required", "max_length", "pattern", "choices", "min", "max"]
UserAttribute = Literal["user.username", "user.id"]


class ConfigError(ValueError):
    """The config file cannot be used; the message says where and why."""


class _Table(msgspec.Struct, forbid_unknown_fields=True, kw_only=True, omit_defaults=True):
    pass


class FieldConfig(_Table):
    """``[resources.NAME.fields.COLUMN]``: refinements of one column."""

    label: str | None = None
    hidden: bool = False  # never shown to anyone but the superuser role
    read_only: bool | None = None
    read_only_after_create: bool | None = None
    required: bool | None = None
    protected: bool | None = None  # may not be emptied once it has a value
    max_length: int | None = None
    pattern: str | None = None
    choices: list[str] | None = None
    # Bounds of a number or date field; a date bound is "YYYY-MM-DD" or "today".
    min: int | float | str | None = None
    max: int | float | str | None = None
    exempt_roles: list[str] = []  # roles whose writes the bounds do not apply to
    messages: dict[MessageKind, str] = {}


class RecordActionConfig(_Table):
    """``[resources.NAME.actions.ACTION]``: a button that sets fields of a record.

    It applies when every ``when`` field equals its value and no ``unless``
    field equals its value; it writes ``patch`` (a merge patch, as a PATCH
    body). ACTION is its URL name.
    """

    label: str
    patch: dict[str, Any]
    when: dict[str, Any] = {}
    unless: dict[str, Any] = {}
    confirm: str | None = None
    permission: Action = "change"
    not_applicable: str | None = None  # the 409's detail when it does not apply


class ResourceConfig(_Table):
    """``[resources.NAME]``: one table or view (NAME is the table's name)."""

    label: str | None = None
    label_plural: str | None = None
    display: str | None = None  # the field shown for a record in links to it
    exclude: list[str] = []
    search: list[str] | None = None
    sort: list[str] | None = None  # "-column" for descending
    key: list[str] | None = None  # a view's (or key-less table's) identifying columns
    read_only: bool = False
    preview_url: str | None = None  # a page rendering a draft's merged record
    fields: dict[str, FieldConfig] = {}
    actions: dict[str, RecordActionConfig] = {}


class UserMatch(_Table):
    """A structured row scope: rows whose ``column`` equals the user's attribute."""

    column: str
    equals: UserAttribute


Scope = str | UserMatch
"""A raw SQL condition over the table's columns (``:username``, ``:user_id`` and
``:roles`` bound as parameters), or a :class:`UserMatch`."""


class GrantConfig(_Table):
    """What a role may do on one resource."""

    actions: list[Action] = []
    hidden: list[str] = []
    writable: list[str] | None = None  # absent: every field that is not read-only
    scope: Scope | None = None


class RoleConfig(GrantConfig):
    """``[roles.NAME]``: a grant on every resource, and per-resource grants replacing it."""

    resources: dict[str, GrantConfig] = {}


class Config(_Table):
    superuser_role: str = "admin"
    resources: dict[str, ResourceConfig] = {}
    roles: dict[str, RoleConfig] = {}

    @property
    def keys(self) -> dict[str, list[str]]:
        """Configured keys by table name (views and tables without a primary key)."""
        return {name: r.key for name, r in self.resources.items() if r.key}


def parse_config(text: str, *, source: str = DEFAULT_PATH) -> Config:
    """Decode the TOML ``text``; ConfigError names the file, the key and its line."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: not valid TOML: {exc}") from None
    return _decode(raw, text, source)


# Tables whose keys are names (resources, fields, roles): decoded entry by entry,
# since msgspec reports a path through a dict as ``[...]``, not the name.
_NAMED: dict[type[Any], dict[str, type[Any]]] = {
    Config: {"resources": ResourceConfig, "roles": RoleConfig},
    ResourceConfig: {"fields": FieldConfig, "actions": RecordActionConfig},
    RoleConfig: {"resources": GrantConfig},
}


def _decode(raw: Any, text: str, source: str) -> Config:
    config: Config = _convert(raw, Config, [], text, source)
    return config


def _convert(raw: Any, kind: type[Any], path: list[str], text: str, source: str) -> Any:
    named = _NAMED.get(kind, {})
    entries: dict[str, dict[str, Any]] = {}
    if isinstance(raw, dict):
        raw = dict(raw)
        for key, entry_kind in named.items():
            value = raw.get(key)
            if isinstance(value, dict):
                raw[key] = {}
                entries[key] = {
                    name: _convert(item, entry_kind, [*path, key, name], text, source)
                    for name, item in value.items()
                }
    try:
        decoded = msgspec.convert(raw, kind, strict=True)
    except msgspec.ValidationError as exc:
        raise ConfigError(_explain(str(exc), path, text, source)) from None
    for key, values in entries.items():
        setattr(decoded, key, values)
    return decoded


def load_config(path: str | Path | None) -> Config:
    """The config at ``path``; with None, ``collabadmin.toml`` here if present, else empty."""
    if path is None:
        default = Path(DEFAULT_PATH)
        if not default.is_file():
            return Config()
        path = default
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file (write one with `collabadmin init`)") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from None
    return parse_config(text, source=str(path))


_UNKNOWN = re.compile(r"Object contains unknown field `(?P<key>[^`]+)`(?: - at `(?P<at>[^`]+)`)?")
_AT = re.compile(r" - at (?P<key>`key` in )?`(?P<at>[^`]+)`$")


def _explain(message: str, base: list[str], text: str, source: str) -> str:
    """msgspec's message in the file's own terms: a dotted key path and a line."""
    unknown = _UNKNOWN.match(message)
    if unknown:
        parts = base + _path_parts(unknown["at"] or "$") + [unknown["key"]]
        line = _line_of(text, parts)
        at = f", line {line}" if line else ""
        return f"{source}{at}: unknown key {'.'.join(parts)!r}"
    found = _AT.search(message)
    parts = base + (_path_parts(found["at"]) if found else [])
    reason = _AT.sub("", message) + (" (as a key)" if found and found["key"] else "")
    line = _line_of(text, [p for p in parts if not p.isdigit()])
    at = f", line {line}" if line else ""
    where = f" at {'.'.join(parts)!r}" if parts else ""
    return f"{source}{at}: {reason}{where}"


def _path_parts(at: str) -> list[str]:
    """``$.fields[...].x[0]`` → ``['fields', 'x', '0']`` (elided dict keys dropped)."""
    return [a or b for a, b in re.findall(r"\.([A-Za-z0-9_-]+)|\[(\d+)\]", at)]


def _line_of(text: str, parts: list[str]) -> int | None:
    """The line where the last key of ``parts`` is written, best effort.

    Looks for ``key =`` or a table header naming it, after the header of the
    enclosing table when one can be found.
    """
    if not parts:
        return None
    key = re.escape(parts[-1])
    lines = text.splitlines()
    start = 0
    parents = parts[:-1]
    if parents:
        header = re.compile(
            r"^\s*\[{1,2}\s*" + r"\s*\.\s*".join(_quoted(p) for p in parents) + r"\s*\]"
        )
        for number, line in enumerate(lines):
            if header.match(line):
                start = number
                break
    assignment = re.compile(r"^\s*(?:[\w\"'.-]+\s*\.\s*)*" + _quoted_re(key) + r"\s*(?:=|\.)")
    table = re.compile(r"^\s*\[{1,2}[^\]]*(?:^|\.|\[)\s*" + _quoted_re(key) + r"\s*\]")
    for number in range(start, len(lines)):
        if assignment.match(lines[number]) or table.match(lines[number]):
            return number + 1
    inline = re.compile(r"\b" + key + r"\s*=")
    for number in range(start, len(lines)):
        if inline.search(lines[number]):
            return number + 1
    return None


def _quoted(part: str) -> str:
    return _quoted_re(re.escape(part))


def _quoted_re(escaped: str) -> str:
    return r"(?:" + escaped + r"|\"" + escaped + r"\"|'" + escaped + r"')"
