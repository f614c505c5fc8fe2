"""The bodies of ``/api/audit`` as msgspec Structs (see :mod:`collabadmin.auth.types`).

Entries are the change log's :class:`~collabadmin.changelog.types.Change`, the
same shape as a record's history and a websocket ``change`` frame.
"""

from __future__ import annotations

import datetime as dt

import msgspec

from collabadmin.changelog.types import Change

__all__ = ["AuditHead", "AuditVerify", "ChangePage", "RevertRequest"]


class ChangePage(msgspec.Struct, kw_only=True):
    """A page of changes, newest first; ``next_cursor`` is null on the last page."""

    items: list[Change]
    next_cursor: str | None


class AuditVerify(msgspec.Struct, kw_only=True):
    ok: bool
    checked: int
    first_bad: int | None


class AuditHead(msgspec.Struct, kw_only=True):
    """The sealed chain's last link: its entry's id, position, hash and time."""

    id: int | None
    seq: int
    hash: str
    at: dt.datetime | None


class RevertRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    change_id: int
    fields: list[str] | None = None
