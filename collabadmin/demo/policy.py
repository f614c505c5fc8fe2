"""The demo roles of API.md, as a :class:`~collabadmin.resources.roles.RolePolicy`.

| user       | may                                                                    |
|------------|------------------------------------------------------------------------|
| admin      | everything, purge included                                             |
| editor     | view, add, change, delete, restore on all resources; comment on        |
|            | drafts; share list views                                               |
| instructor | view and change only the courses it teaches and their sessions; only   |
|            | description, start_date and session dates; never sees internal_notes;  |
|            | comment on drafts of those records; their rows of course_overview      |
| reviewer   | view all, approve/reject/publish drafts, comment on drafts             |
| auditor    | view all and the audit log; changes nothing, comments on nothing       |
| viewer     | view all but internal_notes; no audit; writes nothing others see       |
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, select

from collabadmin.db.engine import Actor
from collabadmin.demo.tables import COURSE_INSTRUCTORS, INSTRUCTORS
from collabadmin.resources.policy import EDITING_ACTIONS
from collabadmin.resources.resource import Resource
from collabadmin.resources.roles import Grant, RolePolicy

__all__ = ["demo_policy"]


def _taught_course_ids(actor: Actor) -> ColumnElement[bool]:
    return (
        select(COURSE_INSTRUCTORS.c.course_id)
        .join(INSTRUCTORS, INSTRUCTORS.c.id == COURSE_INSTRUCTORS.c.instructor_id)
        .where(
            and_(
                INSTRUCTORS.c.user == actor.username,
                INSTRUCTORS.c.deleted_at.is_(None),
                COURSE_INSTRUCTORS.c.deleted_at.is_(None),
            )
        )
        .scalar_subquery()
    )


def courses_taught(actor: Actor, resource: Resource) -> ColumnElement[bool]:
    """The courses linked to the instructor record whose login is this user."""
    return resource.column("id").in_(_taught_course_ids(actor))


def sessions_of_courses_taught(actor: Actor, resource: Resource) -> ColumnElement[bool]:
    return resource.column("course_id").in_(_taught_course_ids(actor))


def demo_policy() -> RolePolicy:
    return RolePolicy(
        {
            "editor": Grant(actions=EDITING_ACTIONS),
            "instructor": {
                "courses": Grant(
                    actions={"view", "change", "comment"},
                    hide={"internal_notes"},
                    write={"description", "start_date"},
                    rows=courses_taught,
                ),
                "sessions": Grant(
                    actions={"view", "change", "comment"},
                    write={"starts_on", "ends_on"},
                    rows=sessions_of_courses_taught,
                ),
                # The live view's rows are courses: the same scope.
                "course_overview": Grant(actions={"view"}, rows=courses_taught),
            },
            "reviewer": Grant(actions={"view", "publish", "comment"}),
            "auditor": Grant(actions={"view", "audit"}),
            "viewer": {
                "*": Grant(actions={"view"}),
                "courses": Grant(actions={"view"}, hide={"internal_notes"}),
            },
        }
    )
