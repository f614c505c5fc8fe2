"""demo: the course catalogue served by `collabadmin demo`

Revision ID: 0002_demo
Revises:
Create Date: 2026-11-23

The tables carry the resource names in the default schema so that outside
SQL clients can work on them, and every one is tracked by the capture
triggers. Unique short names hold among live rows only (partial indexes), so
a soft-deleted course does not block reusing its short name.
"""

from __future__ import annotations

from alembic import op
from collabadmin.db.tracking import track_table

revision = "0002_demo"
down_revision = None
branch_labels = ("demo",)
depends_on = "0001_core"

TABLES = ["universities", "categories", "instructors", "courses", "course_instructors", "sessions"]

SCHEMA = r"""
CREATE TABLE universities (
    id          serial PRIMARY KEY,
    name        varchar(120) NOT NULL CHECK (name <> ''),
    country     text NOT NULL DEFAULT '',
    version     integer NOT NULL DEFAULT 1,
    deleted_at  timestamptz
);
CREATE INDEX universities_name ON universities (name, id);

CREATE TABLE categories (
    id          serial PRIMARY KEY,
    name        varchar(60) NOT NULL CHECK (name <> ''),
    short_name  varchar(20) NOT NULL CHECK (short_name ~ '^[a-z0-9.-]+$'),
    version     integer NOT NULL DEFAULT 1,
    deleted_at  timestamptz
);
CREATE UNIQUE INDEX categories_short_name_live ON categories (short_name) WHERE deleted_at IS NULL;

CREATE TABLE instructors (
    id             serial PRIMARY KEY,
    name           text NOT NULL CHECK (name <> ''),
    email          text NOT NULL DEFAULT '',
    university_id  integer REFERENCES universities (id),
    "user"         text,
    version        integer NOT NULL DEFAULT 1,
    deleted_at     timestamptz
);
CREATE INDEX instructors_university ON instructors (university_id);
CREATE INDEX instructors_name ON instructors (name, id);
CREATE INDEX instructors_user ON instructors ("user") WHERE "user" IS NOT NULL;

CREATE TABLE courses (
    id              serial PRIMARY KEY,
    title           varchar(200) NOT NULL CHECK (title <> ''),
    short_name      varchar(20) NOT NULL CHECK (short_name ~ '^[a-z0-9.-]+$'),
    description     text NOT NULL DEFAULT '',
    status          text NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'open', 'closed')),
    start_date      date,
    category_id     integer REFERENCES categories (id),
    university_id   integer REFERENCES universities (id),
    internal_notes  text NOT NULL DEFAULT '',
    version         integer NOT NULL DEFAULT 1,
    deleted_at      timestamptz
);
CREATE UNIQUE INDEX courses_short_name_live ON courses (short_name) WHERE deleted_at IS NULL;
CREATE INDEX courses_title ON courses (title, id);
CREATE INDEX courses_status ON courses (status, id);
CREATE INDEX courses_start_date ON courses (start_date, id);
CREATE INDEX courses_category ON courses (category_id, id);
CREATE INDEX courses_university ON courses (university_id, id);

CREATE TABLE course_instructors (
    id             serial PRIMARY KEY,
    course_id      integer NOT NULL REFERENCES courses (id),
    instructor_id  integer NOT NULL REFERENCES instructors (id),
    version        integer NOT NULL DEFAULT 1,
    deleted_at     timestamptz
);
CREATE UNIQUE INDEX course_instructors_live
    ON course_instructors (course_id, instructor_id) WHERE deleted_at IS NULL;
CREATE INDEX course_instructors_instructor ON course_instructors (instructor_id);

CREATE TABLE sessions (
    id               serial PRIMARY KEY,
    course_id        integer NOT NULL REFERENCES courses (id),
    starts_on        date NOT NULL,
    ends_on          date NOT NULL,
    enrollment_open  boolean NOT NULL DEFAULT false,
    version          integer NOT NULL DEFAULT 1,
    deleted_at       timestamptz,
    CHECK (ends_on >= starts_on)
);
CREATE INDEX sessions_course ON sessions (course_id, id);
CREATE INDEX sessions_starts_on ON sessions (starts_on, id);
"""


def upgrade() -> None:
    op.execute(SCHEMA)
    for table in TABLES:
        # Unqualified function names, as when this revision was written: on
        # a fresh database it may run before 0013_own_schema or after it.
        track_table(table, functions_schema=None)


def downgrade() -> None:
    op.execute("DROP TABLE " + ", ".join(reversed(TABLES)))
