"""The bodies of the list-view preferences and shared views as msgspec Structs.

Requests (:class:`ViewConfigRequest`, :class:`SharedViewRequest`) are what a
client may send: unknown members are refused, a filter's value may be a
number, a yes/no or a list; :mod:`collabadmin.prefs.config` checks them
against the resource and stores the normalised :class:`ViewConfig`, which
every response carries (values as text, as the records API reads them).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import msgspec

from collabadmin.auth.types import ActorRef

__all__ = [
    "ColumnChoice",
    "ColumnPref",
    "FilterChoice",
    "FilterPref",
    "SharedView",
    "SharedViewList",
    "SharedViewRequest",
    "ViewConfig",
    "ViewConfigRequest",
    "ViewPref",
]

MAX_COLUMNS = 60
MAX_FILTERS = 40
WIDTH_RANGE = (40, 1200)


class ColumnChoice(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A column as sent: a readable field, a width in pixels, a display format."""

    field: str
    # The range is checked with the config's meaning, so it is listed with those problems.
    width: Annotated[int, msgspec.Meta(description="Pixels, 40 to 1200.")] | None = None
    format: str | None = None


FilterValue = str | int | float | bool | list[str | int | float]
"""A filter's value as sent; stored as the query-string text (a list joined by commas)."""


class FilterChoice(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A filter as sent, in the records API's grammar: ``filter[field][op]=value``."""

    field: str
    op: str = "eq"
    value: FilterValue


class ViewConfigRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A list's settings as sent: ``sort`` is the records API's (empty: the default)."""

    columns: Annotated[list[ColumnChoice], msgspec.Meta(min_length=1, max_length=MAX_COLUMNS)]
    sort: str | None = None
    filters: Annotated[list[FilterChoice], msgspec.Meta(max_length=MAX_FILTERS)] | None = None


class SharedViewRequest(ViewConfigRequest, kw_only=True, forbid_unknown_fields=True):
    name: str


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


class SharedView(ViewConfig, kw_only=True):
    id: int
    name: str
    created_by: ActorRef | None
    created_at: dt.datetime
    editable: Annotated[
        bool,
        msgspec.Meta(description="The reader may update or delete it (its creator, a superuser)."),
    ] = False


class SharedViewList(msgspec.Struct, kw_only=True):
    items: list[SharedView]
