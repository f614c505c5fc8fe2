"""SQLAlchemy tables of the course catalogue (created by the ``demo`` migration)."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

__all__ = [
    "CATALOGUE_FIGURES",
    "CATEGORIES",
    "COURSES",
    "COURSE_INSTRUCTORS",
    "COURSE_OVERVIEW",
    "INSTRUCTORS",
    "SESSIONS",
    "UNIVERSITIES",
    "metadata",
]

metadata = MetaData()


def _tracked() -> list[Column[object]]:
    return [
        Column("version", Integer, nullable=False, server_default="1"),
        Column("deleted_at", DateTime(timezone=True)),
    ]


UNIVERSITIES = Table(
    "universities",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(120), nullable=False),
    Column("country", Text, nullable=False, server_default=""),
    *_tracked(),
)

CATEGORIES = Table(
    "categories",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(60), nullable=False),
    Column("short_name", String(20), nullable=False),
    *_tracked(),
)

INSTRUCTORS = Table(
    "instructors",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", Text, nullable=False),
    Column("email", Text, nullable=False, server_default=""),
    Column("university_id", Integer, ForeignKey("universities.id")),
    Column("user", Text),
    *_tracked(),
)

COURSES = Table(
    "courses",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("title", String(200), nullable=False),
    Column("short_name", String(20), nullable=False),
    Column("description", Text, nullable=False, server_default=""),
    Column("status", Text, nullable=False, server_default="draft"),
    Column("start_date", Date),
    Column("category_id", Integer, ForeignKey("categories.id")),
    Column("university_id", Integer, ForeignKey("universities.id")),
    Column("internal_notes", Text, nullable=False, server_default=""),
    *_tracked(),
)

COURSE_INSTRUCTORS = Table(
    "course_instructors",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("course_id", Integer, ForeignKey("courses.id"), nullable=False),
    Column("instructor_id", Integer, ForeignKey("instructors.id"), nullable=False),
    *_tracked(),
)

SESSIONS = Table(
    "sessions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("course_id", Integer, ForeignKey("courses.id"), nullable=False),
    Column("starts_on", Date, nullable=False),
    Column("ends_on", Date, nullable=False),
    Column("enrollment_open", Boolean, nullable=False, server_default="false"),
    *_tracked(),
)

# The live view course_overview as collabadmin keeps it (migration
# 0018_demo_course_overview): the view's columns, plus the copy's own.
COURSE_OVERVIEW = Table(
    "collabadmin_live_course_overview",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("title", String(200)),
    Column("status", Text),
    Column("sessions", Integer),
    Column("open_sessions", Integer),
    Column("instructors", Integer),
    Column("next_start", Date),
    Column("pending_drafts", Integer),
    *_tracked(),
    schema="collabadmin",
)

# The dashboard's figures per course status, a Python view model's copy
# (collabadmin.demo.views.CATALOGUE_FIGURES; made by the same migration).
CATALOGUE_FIGURES = Table(
    "collabadmin_live_catalogue_figures",
    metadata,
    Column("status", Text, primary_key=True),
    Column("courses", Integer),
    Column("scheduled", Integer),
    Column("sessions", Integer),
    Column("open_sessions", Integer),
    *_tracked(),
    schema="collabadmin",
)
