"""Draft entries in the audit: who may see them, and their ``data`` cut per reader.

A draft's entries carry its ``data`` (fields of the target record), so they
are shown to those who may audit the draft's resource without a row scope,
with ``data`` cut to the fields each may read (as on the ``drafts`` topic).
Registered with the app's :class:`~collabadmin.changelog.renderers.Renderers`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, cast, select
from sqlalchemy import Text as SqlText

from collabadmin.changelog.types import Change, Entry, Reader
from collabadmin.drafts.feed import draft_change_body
from collabadmin.drafts.tables import DRAFTS

__all__ = ["DraftRenderer"]


class DraftRenderer:
    log_resource = "drafts"

    def keys_about(self, resources: Sequence[str]) -> Select[Any]:
        return select(cast(DRAFTS.c.id, SqlText)).where(DRAFTS.c.resource.in_(resources))

    async def targets(self, tx: Reader, keys: Sequence[str]) -> dict[str, str]:
        if not keys:
            return {}
        ids = [int(k) for k in keys]
        rows = await tx.rows(select(DRAFTS.c.id, DRAFTS.c.resource).where(DRAFTS.c.id.in_(ids)))
        return {str(r["id"]): r["resource"] for r in rows}

    def body(self, entry: Entry, readable: frozenset[str]) -> Change:
        return draft_change_body(entry, readable)
