"""Publishing a draft, now or when due, and rebasing one that conflicts.

Publish applies the draft's fields to the live record as *one* change with
``source: "draft"``, in the same transaction that marks the draft
published. The live row is locked first, then compared with the draft's
base: if anyone changed one of the draft's fields since, nothing is written
and the reviewer gets the three-way conflicts (base, theirs, yours), exactly
like a PATCH with ``X-Base-Version``. The author can then rebase (take
theirs or keep yours, per field) and resubmit.

A publish that fails on the draft's own account (a conflict, the record gone
or deleted, validation) is recorded on the draft (``publish_error``) and in
its review trail, whether it was "publish now" or a schedule coming due: the
draft's author, who is usually not the reviewer, sees it on the draft page
(with the rebase) and is told on the ``drafts`` topic (a ``publish_failed``
event). The failed attempt itself writes nothing to the record: it runs in a
savepoint that is rolled back, while the record of the failure commits.

Scheduled publish: every server runs a :class:`Scheduler` that picks due
drafts with ``FOR UPDATE SKIP LOCKED`` and publishes each in the
transaction that holds its lock, so with any number of instances a draft is
published exactly once. A failure (a conflict, a record gone, a permission
withdrawn) is recorded on the draft (``publish_error``) and in its review
trail, and the schedule is cleared: it is visible, not retried forever.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Mapping
from typing import Any

import psycopg
from sqlalchemy import exists, func, select

from collabadmin.auth.tables import USERS
from collabadmin.auth.users import actor_from_row
from collabadmin.db.background import BackgroundTask
from collabadmin.db.engine import SYSTEM, Actor, Row, Tx
from collabadmin.drafts.access import require
from collabadmin.drafts.service import DraftService, json_values, parse_comment
from collabadmin.drafts.tables import DRAFTS
from collabadmin.errors import Conflict, FieldError, Forbidden, ProblemError, ValidationFailed
from collabadmin.resources.resource import Resource
from collabadmin.resources.validation import validate_create, validate_patch

__all__ = ["Publisher", "Scheduler"]

log = logging.getLogger("collabadmin.drafts")


def _publishable(resource: Resource, existing: bool) -> frozenset[str]:
    """Fields a publish may write: the resource's own rules, not the reviewer's.

    Each field was checked against its editor's permissions when drafted;
    the reviewer who publishes need not be allowed to edit it themselves.
    """
    return frozenset(
        name
        for name, f in resource.fields.items()
        if not f.read_only and not (existing and f.read_only_after_create)
    )


def _parse_when(raw: object) -> dt.datetime | None:
    if raw is None:
        return None
    try:
        if not isinstance(raw, str):
            raise ValueError
        value = dt.datetime.fromisoformat(raw)
    except ValueError:
        raise ValidationFailed(
            [FieldError("publish_at", "An ISO 8601 date-time, e.g. 2026-12-01T09:00:00Z.")]
        ) from None
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


class Publisher:
    def __init__(self, drafts: DraftService) -> None:
        self.drafts = drafts
        self.records = drafts.records
        self.policy = drafts.policy

    async def _lock_live(self, tx: Tx, actor: Actor, resource: Resource, pk: str) -> Row:
        statement = select(resource.table).where(resource.key_text_clause(pk))
        scope = self.policy.row_filter(actor, resource, "publish")
        row = await tx.row(
            (statement if scope is None else statement.where(scope)).with_for_update()
        )
        if row is None:
            if scope is not None and await tx.row(statement) is not None:
                raise Forbidden(f"You may not publish to this {resource.label.lower()}.")
            raise Conflict(f"The {resource.label.lower()} no longer exists.")
        if resource.soft_delete and row["deleted_at"] is not None:
            raise Conflict(f"The {resource.label.lower()} is deleted; restore it first.")
        return row

    async def apply(self, tx: Tx, actor: Actor, draft: Row, *, comment: str | None) -> Row:
        """Write the draft to the live table and mark it published (one transaction)."""
        resource = self.drafts.target(draft["resource"])
        roles = actor.roles | await self._author_roles(tx, draft)
        everything = frozenset(resource.fields)
        data = draft["data"]
        if draft["pk"] is None:
            values = validate_create(
                resource,
                data,
                readable=everything,
                writable=_publishable(resource, existing=False),
                roles=roles,
            )
            record = await self.records.insert_row(tx, resource, values)
        else:
            live = await self._lock_live(tx, actor, resource, draft["pk"])
            if live["version"] != draft["base_version"]:
                conflicts = await self.records.conflicts(
                    tx, resource, live, draft["base_version"], data
                )
                readable = self.policy.readable_fields(actor, resource)
                if conflicts:
                    raise Conflict(
                        "The record changed the same fields since this draft was started;"
                        " rebase the draft and submit it again.",
                        current=self.records.body(actor, resource, live),
                        conflicts=[c for c in conflicts if c["field"] in readable],
                    )
            changes = validate_patch(
                resource,
                data,
                live,
                readable=everything,
                writable=_publishable(resource, existing=True),
                roles=roles,
            )
            written = await self.records.update_row(
                tx, resource, resource.key_values(live), changes
            )
            record = written if changes and written is not None else live
        await self.drafts.record_event(tx, actor, draft, "published", to_status="published",
                                       comment=comment)  # fmt: skip
        return await self.drafts.set_fields(
            tx,
            draft["id"],
            status="published",
            pk=resource.key_of(record),
            published_at=func.now(),
            published_version=record["version"],
            publish_at=None,
            publish_error=None,
        )

    async def _author_roles(self, tx: Tx, draft: Row) -> frozenset[str]:
        if draft["author_id"] is None:
            return frozenset()
        roles = await tx.value(select(USERS.c.roles).where(USERS.c.id == draft["author_id"]))
        return frozenset(roles or ())

    async def publish(
        self,
        actor: Actor,
        raw_id: str,
        body: Mapping[str, Any],
        *,
        request_id: str | None = None,
    ) -> dict[str, Any]:
        """Publish an approved draft now, or schedule it with a future ``publish_at``."""
        comment = parse_comment(body, allowed=("publish_at",))
        when = _parse_when(body.get("publish_at"))
        db = self.drafts.db
        async with db.transaction(actor, source="draft", request_id=request_id) as tx:
            draft = await self.drafts.load(tx, actor, raw_id, lock=True)
            resource = self.drafts.target(draft["resource"])
            await require(tx, self.policy, actor, resource, draft, capability="review")
            if draft["status"] != "approved":
                raise Conflict(
                    f"Only an approved draft can be published; this one is {draft['status']}.",
                    draft_status=draft["status"],
                )
            now = await tx.value(select(func.now()))
            if when is not None and when > now:
                await self.drafts.record_event(tx, actor, draft, "scheduled", comment=comment)
                draft = await self.drafts.set_fields(
                    tx,
                    draft["id"],
                    publish_at=when,
                    scheduled_by=actor.id,
                    scheduled_by_name=actor.name,
                    publish_error=None,
                )
                return self.drafts.body(actor, draft)
            try:
                async with tx.conn.transaction():  # a savepoint: a failure writes nothing
                    draft = await self.apply(tx, actor, draft, comment=comment)
            except (Conflict, ValidationFailed) as exc:
                # Told to the reviewer (this 409/422) and kept for the author; commits.
                await record_failure(self.drafts, tx, actor, draft, exc)
                failure: ProblemError | None = exc
            else:
                failure = None
                record = await self.drafts.live_row(tx, resource, draft["pk"])
        if failure is not None:
            raise failure
        body_out = self.drafts.body(actor, draft)
        body_out["record"] = None if record is None else self.records.body(actor, resource, record)
        return body_out

    async def rebase(
        self,
        actor: Actor,
        raw_id: str,
        body: Mapping[str, Any],
        *,
        request_id: str | None = None,
    ) -> dict[str, Any]:
        """Move the draft's base to the live version, resolving each conflicting field.

        ``resolutions`` maps a conflicting field to ``"theirs"`` (drop it from
        the draft: the live value stands) or ``"yours"`` (keep the drafted
        value). A rebased draft goes back to ``draft`` and must be submitted again.
        """
        errors = [FieldError(k, "Unknown field.") for k in sorted(set(body) - {"resolutions"})]
        resolutions = body.get("resolutions", {})
        if not isinstance(resolutions, dict) or not all(
            v in ("theirs", "yours") for v in resolutions.values()
        ):
            errors.append(FieldError("resolutions", 'An object of field: "theirs" | "yours".'))
        if errors:
            raise ValidationFailed(errors)
        db = self.drafts.db
        async with db.transaction(actor, request_id=request_id) as tx:
            draft = await self.drafts.load(tx, actor, raw_id, lock=True)
            resource = self.drafts.target(draft["resource"])
            await require(tx, self.policy, actor, resource, draft, capability="edit")
            if draft["status"] in ("published", "discarded") or draft["pk"] is None:
                raise Conflict(
                    f"A {draft['status']} draft cannot be rebased.", draft_status=draft["status"]
                )
            live = await self.drafts.live_row(tx, resource, draft["pk"])
            if live is None:
                raise Conflict(f"The {resource.label.lower()} no longer exists.")
            conflicts = await self.records.conflicts(
                tx, resource, live, draft["base_version"], draft["data"]
            )
            readable = self.policy.readable_fields(actor, resource)
            missing = [
                c["field"]
                for c in conflicts
                if c["field"] in readable and c["field"] not in resolutions
            ]
            if missing:
                raise ValidationFailed([FieldError(f, "Choose theirs or yours.") for f in missing])
            data = dict(draft["data"])
            for name, choice in resolutions.items():
                if choice == "theirs" and name in readable:
                    data.pop(name, None)
            # A conflicting field this user may not see is never reported nor
            # theirs to choose (any resolution named for it is ignored, so that
            # success cannot be used to probe it): the live value stands, as
            # they cannot have seen it, and the field leaves the draft.
            for c in conflicts:
                if c["field"] not in readable:
                    data.pop(c["field"], None)
            await self.drafts.record_event(tx, actor, draft, "rebased", to_status="draft")
            draft = await self.drafts.set_fields(
                tx,
                draft["id"],
                data=json_values(resource, data),
                base_version=live["version"],
                status="draft",
                publish_at=None,
                publish_error=None,
            )
        return self.drafts.body(actor, draft)


def _failure(exc: ProblemError) -> dict[str, Any]:
    """A publish failure as stored on the draft (hidden fields are filtered when shown)."""
    problem: dict[str, Any] = {"status": exc.status, "title": exc.title, "summary": exc.detail}
    for key in ("conflicts", "errors"):
        if key in exc.extensions:
            problem[key] = exc.extensions[key]
            problem["summary"] = exc.title
    if isinstance(exc, ValidationFailed):
        problem["summary"] = "The draft does not pass validation."
    elif "conflicts" in exc.extensions:
        # Said to the author in the trail and on the draft page: no field named here.
        problem["summary"] = "The live record changed the same fields since the draft was started."
    return problem  # stored whole; draft_body filters it for each reader


async def record_failure(
    drafts: DraftService, tx: Tx, actor: Actor, draft: Row, exc: ProblemError
) -> None:
    """Keep a failed publish on the draft and in its trail; any schedule is cleared."""
    problem = _failure(exc)
    await drafts.record_event(tx, actor, draft, "publish_failed", comment=problem["summary"])
    await drafts.set_fields(tx, draft["id"], publish_at=None, publish_error=problem)


_DUE = (DRAFTS.c.status == "approved", DRAFTS.c.publish_at <= func.now())


class Scheduler(BackgroundTask):
    """Publishes approved drafts whose ``publish_at`` has come, in every server instance."""

    name = "collabadmin-draft-scheduler"

    def __init__(self, publisher: Publisher, *, interval: float = 1.0, batch: int = 20) -> None:
        super().__init__()
        self.publisher = publisher
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
        drafts = self.publisher.drafts
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
        drafts = self.publisher.drafts
        user = await tx.row(select(USERS).where(USERS.c.id == draft["scheduled_by"]))
        actor = (
            actor_from_row(user)
            if user is not None and user["is_active"]
            else Actor(id=None, name=draft["scheduled_by_name"] or "scheduler")
        )
        await tx.attribute(actor, "draft")
        resource = drafts.target(draft["resource"])
        try:
            async with tx.conn.transaction():  # a savepoint: a failure undoes only this draft
                if not self.publisher.policy.allows(actor, resource, "publish"):
                    raise Forbidden("The person who scheduled this may no longer publish it.")
                await self.publisher.apply(tx, actor, draft, comment=None)
        except ProblemError as exc:
            await record_failure(drafts, tx, actor, draft, exc)
