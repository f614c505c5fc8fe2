"""Workflow-run entries in the audit.

A run's entries hold its own columns (steps ticked, status, assignee), never
fields of its subject record, so they are shown whole to those who may
audit the subject's resource without a row scope (the rule drafts follow).
Registered with the app's :class:`~collabadmin.changelog.renderers.Renderers`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, cast, select
from sqlalchemy import Text as SqlText

from collabadmin.changelog.changes import change_body
from collabadmin.changelog.types import Change, Entry, Reader
from collabadmin.workflows.tables import RUNS

__all__ = ["RunRenderer"]


class RunRenderer:
    log_resource = "workflow_runs"

    def keys_about(self, resources: Sequence[str]) -> Select[Any]:
        return select(cast(RUNS.c.id, SqlText)).where(RUNS.c.subject_resource.in_(resources))

    async def targets(self, tx: Reader, keys: Sequence[str]) -> dict[str, str]:
        if not keys:
            return {}
        ids = [int(k) for k in keys]
        rows = await tx.rows(select(RUNS.c.id, RUNS.c.subject_resource).where(RUNS.c.id.in_(ids)))
        return {str(r["id"]): r["subject_resource"] for r in rows}

    def body(self, entry: Entry, readable: frozenset[str]) -> Change:
        return change_body(entry)
