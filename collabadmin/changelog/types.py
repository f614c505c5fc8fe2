"""The change log's typed contract: an entry, the API's ``Change``, and a reader.

These are the types every layer above speaks when it handles the log: the
hub's frames, the audit's pages, a record's history and a draft's trail all
carry a :class:`Change`. The package sits below ``db`` in the layering, so
what it needs of a connection is written here as a protocol (:class:`Reader`,
which ``collabadmin.db.engine.Tx`` satisfies) instead of being imported.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any, Protocol, TypedDict

from sqlalchemy import ClauseElement

__all__ = ["Change", "ChangeActor", "Entry", "JsonForm", "Reader"]

Entry = dict[str, Any]
"""One row of ``collabadmin_change`` as read (columns by name)."""


class Reader(Protocol):
    """What reading the log needs of a connection: rows and single values."""

    async def rows(
        self, statement: ClauseElement | str, params: Mapping[str, Any] | None = None
    ) -> list[Entry]: ...

    async def value(
        self, statement: ClauseElement | str, params: Mapping[str, Any] | None = None
    ) -> Any: ...


class JsonForm(Protocol):
    """A field as far as the log needs it: its value's JSON form (a resource's ``Field``)."""

    def json(self, value: Any) -> Any: ...


class ChangeActor(TypedDict):
    id: int
    name: str


class Change(TypedDict):
    """One change as the API shows it (API.md's ``Change``).

    ``diff`` maps a field to ``{"old", "new"}`` (drafts and runs put their own
    columns there); ``hidden_fields`` says that something this reader may not
    see was left out of it, never what.
    """

    id: int
    at: dt.datetime
    resource: str
    pk: str
    op: str
    actor: ChangeActor | None
    source: str
    db_role: str | None
    request_id: str | None
    version: int
    diff: dict[str, Any]
    hidden_fields: bool
