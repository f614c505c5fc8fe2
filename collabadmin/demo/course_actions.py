"""The course catalogue's record actions: *Open enrollment* and *Close course*.

Both change the course and its sessions in one run (one transaction, each
row its own change with ``source: "action"``), through the record action
objects, so the policy decides who may: an editor or admin may; an
instructor may not change a course's status, so neither is offered to it.

*Open enrollment* applies while the course is not closed and none of its
coming sessions has enrollment open (so two people pressing it at once
open one session, not two): it opens enrollment on the course's next
session (the earliest one starting today or later), or creates one when it
has none, and opens a draft course.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ColumnElement, Table, and_, exists, func, select

from collabadmin.demo.tables import SESSIONS
from collabadmin.resources.actions import ActionRun
from collabadmin.resources.record_actions import RecordActionDecl

__all__ = ["CLOSE", "COURSE_ACTIONS", "OPEN_ENROLLMENT"]

NEW_SESSION_DAYS = 7
"""A created session's length when the course has none to copy the length of."""


def _coming_sessions(course_id: ColumnElement[int]) -> ColumnElement[bool]:
    return and_(
        SESSIONS.c.course_id == course_id,
        SESSIONS.c.deleted_at.is_(None),
        SESSIONS.c.starts_on >= func.current_date(),
    )


def _may_open(courses: Table) -> ColumnElement[bool]:
    already_open = exists().where(
        _coming_sessions(courses.c.id), SESSIONS.c.enrollment_open.is_(True)
    )
    return and_(courses.c.status != "closed", ~already_open)


async def _open_enrollment(run: ActionRun) -> None:
    course, tx = run.row, run.tx
    next_session = await tx.row(
        select(SESSIONS)
        .where(
            _coming_sessions(SESSIONS.c.course_id),
            SESSIONS.c.course_id == course["id"],
            SESSIONS.c.enrollment_open.is_(False),
        )
        .order_by(SESSIONS.c.starts_on, SESSIONS.c.id)
        .limit(1)
        .with_for_update()
    )
    if next_session is not None:
        await run.update(
            "sessions", (next_session["id"],), {"enrollment_open": True}, next_session["version"]
        )
    else:
        today: dt.date = await tx.value(select(func.current_date()))
        starts = max(today, course["start_date"] or today)
        last = await tx.row(
            select(SESSIONS.c.starts_on, SESSIONS.c.ends_on)
            .where(SESSIONS.c.course_id == course["id"], SESSIONS.c.deleted_at.is_(None))
            .order_by(SESSIONS.c.starts_on.desc(), SESSIONS.c.id.desc())
            .limit(1)
        )
        length = (
            last["ends_on"] - last["starts_on"] if last else dt.timedelta(days=NEW_SESSION_DAYS)
        )
        await run.create(
            "sessions",
            {
                "course_id": course["id"],
                "starts_on": starts.isoformat(),
                "ends_on": (starts + length).isoformat(),
                "enrollment_open": True,
            },
        )
    if course["status"] == "draft":
        await run.change({"status": "open"})


async def _close(run: ActionRun) -> None:
    open_sessions = await run.tx.rows(
        select(SESSIONS.c.id, SESSIONS.c.version)
        .where(
            SESSIONS.c.course_id == run.row["id"],
            SESSIONS.c.deleted_at.is_(None),
            SESSIONS.c.enrollment_open.is_(True),
        )
        .order_by(SESSIONS.c.id)
        .with_for_update()
    )
    for session in open_sessions:
        await run.update(
            "sessions", (session["id"],), {"enrollment_open": False}, session["version"]
        )
    await run.change({"status": "closed"})


OPEN_ENROLLMENT = RecordActionDecl(
    name="open-enrollment",
    label="Open enrollment",
    confirm=(
        "Open enrollment on this course's next session? A session is created"
        " if none is planned, and a draft course is opened."
    ),
    applies=_may_open,
    writes=("status",),
    run=_open_enrollment,
    not_applicable=(
        "Enrollment cannot be opened: the course is closed, or one of its coming"
        " sessions already has enrollment open."
    ),
)

CLOSE = RecordActionDecl(
    name="close",
    label="Close course",
    confirm="Close this course? Enrollment closes on all of its sessions.",
    applies=lambda courses: courses.c.status != "closed",
    writes=("status",),
    run=_close,
    not_applicable="The course is already closed.",
)

COURSE_ACTIONS = (OPEN_ENROLLMENT, CLOSE)
