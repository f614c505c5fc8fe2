"""Scheduled publish: approved drafts whose ``publish_at`` has come, in every server instance.

Every server runs a :class:`Scheduler` that picks due drafts with ``FOR
UPDATE SKIP LOCKED`` and publishes each (:meth:`PublishDraft.apply
<collabadmin.drafts.publish.PublishDraft.apply>`) in the transaction that
holds its lock, so with any number of instances a draft is published
exactly once. Each publish acts as the person who scheduled it, with their
rights at the time it comes due. A failure (a conflict, a record gone, a
permission withdrawn) is recorded on the draft (``publish_error``) and in
its review trail, and the schedule is cleared: it is visible, not retried
forever.
"""

from __future__ import annotations

import asyncio
import logging

import psycopg
from sqlalchemy import exists, func, select

from collabadmin.auth.tables import USERS
from collabadmin.auth.users import actor_from_row
from collabadmin.db.background import BackgroundTask
from collabadmin.db.engine import SYSTEM, Actor, Row, Tx
from collabadmin.drafts.publish import PublishDraft, record_failure
from collabadmin.drafts.service import DraftService
from collabadmin.drafts.tables import DRAFTS
from collabadmin.errors import Forbidden, ProblemError

__all__ = ["Scheduler"]

log = logging.getLogger("collabadmin.drafts")

_DUE = (DRAFTS.c.status == "approved", DRAFTS.c.publish_at <= func.now())


class Scheduler(BackgroundTask):
    """Publishes approved drafts whose ``publish_at`` has come."""

    name = "collabadmin-draft-scheduler"

    def __init__(self, drafts: DraftService, *, interval: float = 1.0, batch: int = 20) -> None:
        super().__init__()
        self.drafts = drafts
        self.interval = interval
        self.batch = batch

    async def run(self) -> None:
        while True:
            try:
                handled = self.batch
                while handled == self.batch:  # a full batch: more may be due at once
                    handled = await self.publish_due()
            except (psycopg.Error, OSError) as exc:
                log.warning("scheduled publish could not run: %s", type(exc).__name__)
            except Exception:
                log.exception("scheduled publish failed")
            await asyncio.sleep(self.interval)

    async def publish_due(self) -> int:
        """Publish (or record the failure of) up to ``batch`` due drafts; how many were due."""
        drafts = self.drafts
        handled = 0
        # Look first without a transaction: most of the time nothing is due, and
        # an idle server should hold no locks (not even the table's row-share lock).
        async with drafts.db.connection() as tx:
            if not await tx.value(select(exists().where(*_DUE))):
                return 0
        async with drafts.db.transaction(SYSTEM, source="draft") as tx:
            due = await tx.rows(
                select(DRAFTS)
                .where(*_DUE)
                .order_by(DRAFTS.c.publish_at, DRAFTS.c.id)
                .limit(self.batch)
                .with_for_update(skip_locked=True)
            )
            for draft in due:
                handled += 1
                await self._publish_one(tx, draft)
        return handled

    async def _publish_one(self, tx: Tx, draft: Row) -> None:
        drafts = self.drafts
        user = await tx.row(select(USERS).where(USERS.c.id == draft["scheduled_by"]))
        actor = (
            actor_from_row(user)
            if user is not None and user["is_active"]
            else Actor(id=None, name=draft["scheduled_by_name"] or "scheduler")
        )
        await tx.attribute(actor, "draft")
        resource = drafts.target(draft["resource"])
        publish = PublishDraft(drafts=drafts, actor=actor, draft=draft["id"])
        try:
            async with tx.conn.transaction():  # a savepoint: a failure undoes only this draft
                if not drafts.policy.allows(actor, resource, "publish"):
                    raise Forbidden("The person who scheduled this may no longer publish it.")
                await publish.apply(tx, draft)
        except ProblemError as exc:
            await record_failure(drafts, tx, actor, draft, exc)
