"""The demo's ``launch-course`` checklist: five steps follow the data, one is manual."""

from __future__ import annotations

from collabadmin.workflows.definitions import Step, StepLink, Workflow

__all__ = ["LAUNCH_COURSE"]

LAUNCH_COURSE = Workflow(
    name="launch-course",
    title="Launch a course",
    subject="courses",
    steps=(
        Step(
            key="description",
            title="Description written",
            condition_sql=(
                "SELECT length(trim(c.description)) > 0 FROM courses c WHERE c.id = :subject"
            ),
            link=StepLink("courses", "description"),
        ),
        Step(
            key="start-date",
            title="Start date set",
            condition_sql="SELECT c.start_date IS NOT NULL FROM courses c WHERE c.id = :subject",
            link=StepLink("courses", "start_date"),
        ),
        Step(
            key="instructor",
            title="At least one instructor",
            condition_sql=(
                "SELECT EXISTS (SELECT 1 FROM course_instructors ci"
                " WHERE ci.course_id = :subject AND ci.deleted_at IS NULL)"
            ),
            link=StepLink(
                "course_instructors",
                "instructor_id",
                pk_sql=(
                    "SELECT ci.id FROM course_instructors ci WHERE ci.course_id = :subject"
                    " AND ci.deleted_at IS NULL ORDER BY ci.id LIMIT 1"
                ),
                filter_field="course_id",
            ),
        ),
        Step(
            key="session-open",
            title="A session with enrollment open",
            condition_sql=(
                "SELECT EXISTS (SELECT 1 FROM sessions s WHERE s.course_id = :subject"
                " AND s.deleted_at IS NULL AND s.enrollment_open)"
            ),
            link=StepLink(
                "sessions",
                "enrollment_open",
                pk_sql=(
                    "SELECT s.id FROM sessions s WHERE s.course_id = :subject"
                    " AND s.deleted_at IS NULL ORDER BY s.starts_on, s.id LIMIT 1"
                ),
                filter_field="course_id",
            ),
        ),
        Step(
            key="status-open",
            title="Status set to open",
            condition_sql="SELECT c.status = 'open' FROM courses c WHERE c.id = :subject",
            link=StepLink("courses", "status"),
        ),
        Step(key="announcement", title="Announcement sent"),
    ),
    watches={"course_instructors": "course_id", "sessions": "course_id"},
)
