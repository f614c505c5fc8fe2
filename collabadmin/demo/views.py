"""The demo's live views.

``course_overview``, one row of figures per course (API.md): the view
itself is SQL (migration ``0018_demo_course_overview``); this says which
changes move which of its rows: a course's own changes, its sessions' and
instructor links' (by ``course_id``, before and after the change), and its
drafts' (drafts are collabadmin's rows, so SQL says which course a draft is
of).

``catalogue_figures``, the dashboard's figures per course status, is a
Python view model: a keyed SELECT that no database view holds. A course
whose status changes moves two of its rows (the old status and the new).
"""

from __future__ import annotations

from collabadmin.views.definitions import LiveView, Watch

__all__ = ["CATALOGUE_FIGURES", "CATALOGUE_SELECT", "COURSE_OVERVIEW"]

COURSE_OVERVIEW = LiveView(
    name="course_overview",
    source="course_overview",
    describes="courses",
    watches={
        "courses": "id",
        "sessions": "course_id",
        "course_instructors": "course_id",
        "drafts": Watch(
            keys_sql=(
                "SELECT d.pk FROM collabadmin.collabadmin_draft d"
                " WHERE d.id = b.pk::bigint AND d.resource = 'courses'"
            )
        ),
    },
)

# Also in migration 0018_demo_course_overview, which made its copy from it.
CATALOGUE_SELECT = """
SELECT c.status,
       count(DISTINCT c.id)::integer AS courses,
       count(DISTINCT c.id) FILTER (WHERE c.start_date IS NOT NULL)::integer AS scheduled,
       count(s.id)::integer AS sessions,
       count(s.id) FILTER (WHERE s.enrollment_open)::integer AS open_sessions
  FROM courses c
  LEFT JOIN sessions s ON s.course_id = c.id AND s.deleted_at IS NULL
 WHERE c.deleted_at IS NULL
 GROUP BY c.status
"""

# The statuses of the courses a session belonged to, before and after, and now.
_SESSION_STATUSES = (
    "SELECT c.status FROM courses c WHERE c.id IN ("
    "(b.diff->'course_id'->>'old')::integer, (b.diff->'course_id'->>'new')::integer,"
    " (SELECT s.course_id FROM sessions s WHERE s.id = b.pk::bigint))"
)

CATALOGUE_FIGURES = LiveView(
    name="catalogue_figures",
    select=CATALOGUE_SELECT,
    watches={"courses": "status", "sessions": Watch(keys_sql=_SESSION_STATUSES)},
)
