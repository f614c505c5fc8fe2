"""The bodies of the list-view preferences and shared views as msgspec Structs.

As in :mod:`collabadmin.auth.types`: declared by the handlers, which encode
their dicts themselves; request bodies are documented from
``opt["request_body"]`` and still parsed by :mod:`collabadmin.prefs.config`.
"""

from __future__ import annotations

import datetime as dt

import msgspec

from collabadmin.auth.types import ActorRef

__all__ = [
    "ColumnPref",
    "FilterPref",
    "SharedView",
    "SharedViewList",
    "SharedViewRequest",
    "ViewConfig",
    "ViewPref",
]


class ColumnPref(msgspec.Struct, kw_only=True):
    """One column of a list: a readable field, an optional width (px) and display format."""

    field: str
    width: int | msgspec.UnsetType = msgspec.UNSET
    format: str | msgspec.UnsetType = msgspec.UNSET


class FilterPref(msgspec.Struct, kw_only=True):
    """A filter in the records API's grammar: ``filter[field][op]=value``."""

    field: str
    op: str
    value: str


class ViewConfig(msgspec.Struct, kw_only=True):
    columns: list[ColumnPref]
    sort: str
    filters: list[FilterPref]


class ViewPref(ViewConfig, kw_only=True):
    updated_at: dt.datetime | None


class SharedViewRequest(ViewConfig, kw_only=True):
    name: str


class SharedView(ViewConfig, kw_only=True):
    id: int
    name: str
    created_by: ActorRef | None
    created_at: dt.datetime


class SharedViewList(msgspec.Struct, kw_only=True):
    items: list[SharedView]
