"""The course catalogue's resources, as an application would declare its own."""

from __future__ import annotations

import datetime as dt

from collabadmin.demo.course_actions import COURSE_ACTIONS
from collabadmin.demo.tables import (
    CATALOGUE_FIGURES,
    CATEGORIES,
    COURSE_INSTRUCTORS,
    COURSE_OVERVIEW,
    COURSES,
    INSTRUCTORS,
    SESSIONS,
    UNIVERSITIES,
)
from collabadmin.resources.declare import resource_from_table
from collabadmin.resources.fields import ValidationContext
from collabadmin.resources.resource import Registry, Resource

__all__ = ["SHORT_NAME", "SHORT_NAME_MESSAGE", "demo_registry", "demo_resources"]

SHORT_NAME = r"^[a-z0-9.-]+$"
# What a short name that does not match SHORT_NAME is told (never the regex).
SHORT_NAME_MESSAGE = "Use lower-case letters, digits, dots and hyphens only, such as cs-101."
STATUSES = ("draft", "open", "closed")


def _start_date_in_the_past(value: object, ctx: ValidationContext) -> str | None:
    """Instructors plan ahead; only editors may backdate a course's start."""
    if ctx.roles & {"admin", "editor"} or not isinstance(value, dt.date):
        return None
    if value < dt.date.today():
        return "Only an editor may set a start date in the past."
    return None


def demo_resources() -> list[Resource]:
    return [
        resource_from_table(
            UNIVERSITIES,
            label="University",
            label_plural="Universities",
            default_sort=("name",),
            search_fields=("name", "country"),
        ),
        resource_from_table(
            CATEGORIES,
            label="Category",
            label_plural="Categories",
            default_sort=("name",),
            search_fields=("name", "short_name"),
            fields={
                "short_name": {
                    "pattern": SHORT_NAME,
                    "messages": {"pattern": SHORT_NAME_MESSAGE},
                    "read_only_after_create": True,
                    "label": "Short name",
                },
            },
        ),
        resource_from_table(
            INSTRUCTORS,
            label="Instructor",
            label_plural="Instructors",
            default_sort=("name",),
            search_fields=("name", "email"),
            fields={
                "university_id": {"label": "University"},
                "user": {"label": "Login name"},
            },
        ),
        resource_from_table(
            COURSES,
            label="Course",
            label_plural="Courses",
            default_sort=("title",),
            search_fields=("title", "short_name"),
            # The public course page, rendered from a draft's merged record.
            preview_url="/preview/course.html",
            fields={
                "title": {"required": True, "protected": True},
                "short_name": {
                    "pattern": SHORT_NAME,
                    "messages": {"pattern": SHORT_NAME_MESSAGE},
                    "read_only_after_create": True,
                    "required": True,
                    "label": "Short name",
                },
                "description": {"type": "text"},
                "status": {"choices": STATUSES},
                "start_date": {"validators": [_start_date_in_the_past]},
                "category_id": {"label": "Category"},
                "university_id": {"label": "University"},
                "internal_notes": {"label": "Internal notes"},
            },
            record_actions=COURSE_ACTIONS,
        ),
        resource_from_table(
            COURSE_INSTRUCTORS,
            name="course_instructors",
            label="Course instructor",
            label_plural="Course instructors",
            fields={"course_id": {"label": "Course"}, "instructor_id": {"label": "Instructor"}},
        ),
        resource_from_table(
            SESSIONS,
            label="Session",
            label_plural="Sessions",
            default_sort=("starts_on",),
            fields={
                "course_id": {"label": "Course"},
                "starts_on": {"label": "Starts on"},
                "ends_on": {"label": "Ends on"},
                "enrollment_open": {"label": "Enrollment open"},
            },
        ),
        resource_from_table(
            COURSE_OVERVIEW,
            name="course_overview",
            label="Course overview",
            label_plural="Course overviews",
            default_sort=("title",),
            search_fields=("title",),
            read_only=True,
            display="title",
            fields={
                "id": {"label": "Course"},
                "status": {"choices": STATUSES},
                "open_sessions": {"label": "Open sessions"},
                "next_start": {"label": "Next start"},
                "pending_drafts": {"label": "Pending drafts"},
            },
        ),
        resource_from_table(
            CATALOGUE_FIGURES,
            name="catalogue_figures",
            label="Catalogue figure",
            label_plural="Catalogue figures",
            default_sort=("status",),
            read_only=True,
            display="status",
            fields={
                "status": {"label": "Status"},
                "scheduled": {"label": "With a start date"},
                "open_sessions": {"label": "Open sessions"},
            },
        ),
    ]


def demo_registry() -> Registry:
    return Registry(demo_resources())
