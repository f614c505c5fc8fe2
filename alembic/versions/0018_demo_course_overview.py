"""demo: the course_overview view and the catalogue figures, live

Revision ID: 0018_demo_course_overview
Revises: 0008_demo_sort_desc
Create Date: 2026-12-01

One row per live course: its title and status, how many live sessions it
has and how many of them are open for enrollment, how many instructors,
the earliest start among its open sessions, and how many drafts of the
course are still pending (not yet published, rejected or discarded). A
plain view, so outside SQL clients can read it too; collabadmin serves it
live from its copy (``collabadmin.collabadmin_live_course_overview``).

Every column follows the data only: nothing depends on the clock
(``current_date``), since a live view moves when a commit changes its
sources, not when a day passes.

The dashboard's figures per course status are a Python view model
(``collabadmin.demo.views.CATALOGUE_FIGURES``): no view, only its copy,
made from its SELECT (written out here as it was when this revision was).
"""

from __future__ import annotations

from alembic import op
from collabadmin.db.live_copy import make_live_copy, make_model_copy

revision = "0018_demo_course_overview"
down_revision = "0008_demo_sort_desc"
branch_labels = None
# The derived log and drafts in collabadmin's own schema.
depends_on = "0017_live_views"

VIEW = """
CREATE VIEW course_overview AS
SELECT c.id,
       c.title,
       c.status,
       (SELECT count(*) FROM sessions s
         WHERE s.course_id = c.id AND s.deleted_at IS NULL)::integer AS sessions,
       (SELECT count(*) FROM sessions s
         WHERE s.course_id = c.id AND s.deleted_at IS NULL AND s.enrollment_open)::integer
         AS open_sessions,
       (SELECT count(*) FROM course_instructors ci
         WHERE ci.course_id = c.id AND ci.deleted_at IS NULL)::integer AS instructors,
       (SELECT min(s.starts_on) FROM sessions s
         WHERE s.course_id = c.id AND s.deleted_at IS NULL AND s.enrollment_open) AS next_start,
       (SELECT count(*) FROM collabadmin.collabadmin_draft d
         WHERE d.resource = 'courses' AND d.pk = c.id::text AND d.deleted_at IS NULL
           AND d.status IN ('draft', 'submitted', 'approved'))::integer AS pending_drafts
  FROM courses c
 WHERE c.deleted_at IS NULL
"""


CATALOGUE = """
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


def upgrade() -> None:
    op.execute(VIEW)
    make_live_copy("course_overview", "id")
    make_model_copy("catalogue_figures", "status", CATALOGUE)


def downgrade() -> None:
    op.execute("DROP TABLE collabadmin.collabadmin_live_catalogue_figures")
    op.execute("DROP TABLE collabadmin.collabadmin_live_course_overview")
    op.execute("DROP VIEW course_overview")
