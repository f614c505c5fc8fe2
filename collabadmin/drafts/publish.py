"""Publishing a draft, now or when due, and rebasing one that conflicts.

Publish applies the draft's fields to the live record as *one* change with
``source: "draft"``, in the same transaction that marks the draft
published, through the records' own write path (:class:`PatchRecord`,
:class:`CreateRecord`): the live row is locked within the publisher's row
scope and compared with the draft's base exactly like a PATCH with
``X-Base-Version``. If anyone changed one of the draft's fields since,
nothing is written and the reviewer gets the three-way conflicts (base,
theirs, yours). The author can then rebase (take theirs or keep yours, per
field) and resubmit.

A publish that fails on the draft's own account (a conflict, the record gone
or deleted, validation) is recorded on the draft (``publish_error``) and in
its review trail, whether it was "publish now" or a schedule coming due
(:mod:`collabadmin.drafts.scheduler`): the draft's author, who is usually not
the reviewer, sees it on the draft page (with the rebase) and is told on the
``drafts`` topic (a ``publish_failed`` event). The failed attempt itself
writes nothing to the record: it runs in a savepoint that is rolled back,
while the record of the failure commits.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from collabadmin.auth.tables import USERS
from collabadmin.changelog.conflicts import Precondition, Resolution, rebased
from collabadmin.db.engine import Actor, Row, Source, Tx
from collabadmin.drafts.access import require
from collabadmin.drafts.actions import DraftAction
from collabadmin.drafts.service import DraftService, json_values
from collabadmin.errors import (
    Conflict,
    NotFound,
    PreconditionFailed,
    ProblemError,
    ValidationFailed,
)
from collabadmin.resources.actions import (
    CreateRecord,
    FieldRules,
    PatchRecord,
    Written,
    record_conflicts,
)
from collabadmin.resources.resource import Resource

__all__ = ["PublishDraft", "RebaseDraft", "record_failure"]

PUBLISH_CONFLICT = (
    "The record changed the same fields since this draft was started;"
    " rebase the draft and submit it again."
)


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


@dataclass(kw_only=True)
class PublishDraft(DraftAction):
    """Publish an approved draft now, or schedule it with a future ``publish_at``.

    Needs the review capability (``publish`` on the resource). A failure on
    the draft's own account is recorded on it and then raised (409/422).
    """

    comment: str | None = None
    publish_at: dt.datetime | None = None
    source: Source = "draft"

    async def _allowed(self, tx: Tx, row: Row, resource: Resource) -> None:
        await require(tx, self.drafts.policy, self.actor, resource, row, capability="review")
        if row["status"] != "approved":
            raise Conflict(
                f"Only an approved draft can be published; this one is {row['status']}.",
                draft_status=row["status"],
            )

    async def execute(self, tx: Tx | None = None) -> dict[str, Any]:
        drafts, actor = self.drafts, self.actor
        failure: ProblemError | None = None
        async with self._locked(tx) as (own, draft, _):
            now = await own.value(select(func.now()))
            if self.publish_at is not None and self.publish_at > now:
                await drafts.record_event(own, actor, draft, "scheduled", comment=self.comment)
                scheduled = await drafts.set_fields(
                    own,
                    draft["id"],
                    publish_at=self.publish_at,
                    scheduled_by=actor.id,
                    scheduled_by_name=actor.name,
                    publish_error=None,
                )
                return drafts.body(actor, scheduled)
            try:
                async with own.conn.transaction():  # a savepoint: a failure writes nothing
                    published, written = await self.apply(own, draft)
            except (Conflict, ValidationFailed) as exc:
                # Told to the reviewer (this 409/422) and kept for the author; commits.
                await record_failure(drafts, own, actor, draft, exc)
                failure = exc
        if failure is not None:
            raise failure
        body = drafts.body(actor, published)
        body["record"] = written.body
        return body

    async def apply(self, tx: Tx, draft: Row) -> tuple[Row, Written]:
        """Write the (locked, approved) draft to the live table and mark it published.

        The scheduler calls this for a due draft it locked itself; a refusal
        is raised before anything is written, a conflict as a 409 for the draft.
        """
        drafts, actor = self.drafts, self.actor
        resource = drafts.target(draft["resource"])
        existing = draft["pk"] is not None
        rules = FieldRules(
            readable=frozenset(resource.fields),
            writable=_publishable(resource, existing),
            roles=actor.roles | await _author_roles(tx, draft),
        )
        if not existing:
            written = await CreateRecord(
                records=drafts.records, actor=actor, resource=resource.name,
                values=draft["data"], permission="publish", rules=rules,
            ).execute(tx)  # fmt: skip
        else:
            written = await self._patch(tx, draft, resource, rules)
        await drafts.record_event(tx, actor, draft, "published", to_status="published",
                                  comment=self.comment)  # fmt: skip
        published = await drafts.set_fields(
            tx,
            draft["id"],
            status="published",
            pk=resource.key_of(written.row),
            published_at=func.now(),
            published_version=written.row["version"],
            publish_at=None,
            publish_error=None,
        )
        return published, written

    async def _patch(self, tx: Tx, draft: Row, resource: Resource, rules: FieldRules) -> Written:
        """The draft's fields written over the live record, merged from the draft's base."""
        gone = Conflict(f"The {resource.label.lower()} no longer exists.")
        key = resource.pk_values(draft["pk"])
        if key is None:
            raise gone
        try:
            return await PatchRecord(
                records=self.drafts.records,
                actor=self.actor,
                resource=resource.name,
                pk=key,
                changes=draft["data"],
                precondition=Precondition(draft["base_version"], strict=False),
                permission="publish",
                rules=rules,
            ).execute(tx)
        except NotFound:
            raise gone from None
        except (Conflict, PreconditionFailed) as exc:
            if "conflicts" not in exc.extensions:
                raise
            raise Conflict(PUBLISH_CONFLICT, **exc.extensions) from None


async def _author_roles(tx: Tx, draft: Row) -> frozenset[str]:
    if draft["author_id"] is None:
        return frozenset()
    roles = await tx.value(select(USERS.c.roles).where(USERS.c.id == draft["author_id"]))
    return frozenset(roles or ())


@dataclass(kw_only=True)
class RebaseDraft(DraftAction):
    """Move the draft's base to the live version, resolving each conflicting field.

    ``resolutions`` maps a conflicting field to ``"theirs"`` (drop it from
    the draft: the live value stands) or ``"yours"`` (keep the drafted
    value); every conflict the author can see needs one (else 422). A
    rebased draft goes back to ``draft`` and must be submitted again.
    """

    resolutions: Mapping[str, Resolution]

    async def _allowed(self, tx: Tx, row: Row, resource: Resource) -> None:
        await require(tx, self.drafts.policy, self.actor, resource, row, capability="edit")
        if row["status"] in ("published", "discarded") or row["pk"] is None:
            raise Conflict(
                f"A {row['status']} draft cannot be rebased.", draft_status=row["status"]
            )

    async def execute(self, tx: Tx | None = None) -> dict[str, Any]:
        drafts, actor = self.drafts, self.actor
        async with self._locked(tx) as (own, draft, resource):
            live = await drafts.live_row(own, resource, draft["pk"])
            if live is None:
                raise Conflict(f"The {resource.label.lower()} no longer exists.")
            conflicts = await record_conflicts(
                own, resource, live, draft["base_version"], draft["data"]
            )
            data = rebased(
                draft["data"],
                conflicts,
                self.resolutions,
                shown=drafts.policy.readable_fields(actor, resource),
            )
            await drafts.record_event(own, actor, draft, "rebased", to_status="draft")
            moved = await drafts.set_fields(
                own,
                draft["id"],
                data=json_values(resource, data),
                base_version=live["version"],
                status="draft",
                publish_at=None,
                publish_error=None,
            )
            return drafts.body(actor, moved)


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
