"""Seed data for the course catalogue: deterministic, idempotent, fast.

About 50 universities, 20 categories, 300 instructors, 5,000 courses and
10,000 sessions, generated from a fixed random seed and loaded with COPY in
one transaction. The capture triggers fire for every row (COPY fires row
triggers too), so the seed is in the change log like any other write.
"""

from __future__ import annotations

import datetime as dt
import random
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import psycopg

from collabadmin.auth.users import create_user
from collabadmin.db.engine import Database

__all__ = ["DEMO_USERS", "SeedSize", "demo_password", "seed_demo", "seed_users"]

DEMO_USERS: dict[str, tuple[str, ...]] = {
    "admin": ("admin",),
    "editor": ("editor",),
    "instructor": ("instructor",),
    "reviewer": ("reviewer",),
    "auditor": ("auditor",),
    "viewer": ("viewer",),
}
DEMO_INSTRUCTOR_LOGIN = "instructor"
DEMO_INSTRUCTOR_COURSES = 6


@dataclass(frozen=True, slots=True)
class SeedSize:
    universities: int = 50
    categories: int = 20
    instructors: int = 300
    courses: int = 5000
    sessions: int = 10000


_COUNTRIES = ["CH", "DE", "FR", "IT", "AT", "NL", "BE", "ES", "PT", "SE", "NO", "DK", "FI", "PL"]
_CITIES = [
    "Lausanne", "Zurich", "Geneva", "Basel", "Bern", "Munich", "Berlin", "Lyon", "Milan",
    "Vienna", "Delft", "Leuven", "Madrid", "Lisbon", "Uppsala", "Oslo", "Aarhus", "Helsinki",
    "Krakow", "Turin", "Grenoble", "Bologna", "Ghent", "Porto", "Lund",
]  # fmt: skip
_CATEGORIES = [
    ("Computer Science", "cs"), ("Mathematics", "math"), ("Physics", "phys"),
    ("Chemistry", "chem"), ("Biology", "bio"), ("Economics", "econ"), ("History", "hist"),
    ("Philosophy", "phil"), ("Languages", "lang"), ("Engineering", "eng"),
    ("Architecture", "arch"), ("Medicine", "med"), ("Law", "law"), ("Music", "music"),
    ("Art", "art"), ("Psychology", "psy"), ("Statistics", "stats"), ("Data Science", "data"),
    ("Environment", "env"), ("Business", "biz"),
]  # fmt: skip
_FIRST = ["Ada", "Alan", "Grace", "Edsger", "Barbara", "Donald", "Frances", "John", "Marie",
          "Niklaus", "Radia", "Tim", "Katherine", "Claude", "Hedy", "Linus", "Margaret",
          "Dennis", "Sophie", "Emmy", "Leonhard", "Carl", "Rosalind", "Alonzo"]  # fmt: skip
_LAST = ["Lovelace", "Turing", "Hopper", "Dijkstra", "Liskov", "Knuth", "Allen", "McCarthy",
         "Curie", "Wirth", "Perlman", "Berners-Lee", "Johnson", "Shannon", "Lamarr",
         "Torvalds", "Hamilton", "Ritchie", "Germain", "Noether", "Euler", "Gauss",
         "Franklin", "Church"]  # fmt: skip
_LEVELS = ["Introduction to", "Foundations of", "Advanced", "Applied", "Topics in",
           "Seminar on", "Principles of", "Modern"]  # fmt: skip
_TOPICS = ["Algorithms", "Linear Algebra", "Quantum Mechanics", "Organic Chemistry",
           "Genetics", "Macroeconomics", "Medieval Europe", "Ethics", "Italian", "Robotics",
           "Urban Design", "Anatomy", "Contract Law", "Harmony", "Painting", "Cognition",
           "Inference", "Machine Learning", "Climate", "Accounting", "Databases",
           "Compilers", "Topology", "Optics"]  # fmt: skip


def demo_password(configured: str | None) -> tuple[str, bool]:
    """The demo users' password, and whether it was generated (and must be shown)."""
    if configured:
        return configured, False
    return secrets.token_urlsafe(12), True


def _copy(
    cur: psycopg.Cursor[Any], table: str, columns: list[str], rows: Sequence[tuple[Any, ...]]
) -> None:
    quoted = ", ".join(f'"{c}"' for c in columns)
    with cur.copy(f"COPY {table} ({quoted}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def seed_demo(
    conninfo: str,
    size: SeedSize = SeedSize(),
    *,
    seed: int = 20261123,
    progress: Callable[[str], None] | None = None,
) -> bool:
    """Load the catalogue unless it is there already; returns True if it loaded."""
    rng = random.Random(seed)
    say = progress or (lambda _msg: None)
    with psycopg.connect(conninfo) as conn, conn.cursor() as cur:
        cur.execute("SELECT pg_advisory_xact_lock(74221002)")
        cur.execute("SELECT EXISTS (SELECT 1 FROM courses)")
        row = cur.fetchone()
        if row is not None and row[0]:
            return False
        say("universities and categories")
        _copy(
            cur,
            "universities",
            ["id", "name", "country"],
            [
                (i, f"University of {_CITIES[(i - 1) % len(_CITIES)]}"
                 + ("" if i <= len(_CITIES) else f" {i // len(_CITIES) + 1}"),
                 rng.choice(_COUNTRIES))
                for i in range(1, size.universities + 1)
            ],
        )  # fmt: skip
        categories = [_CATEGORIES[i % len(_CATEGORIES)] for i in range(size.categories)]
        _copy(
            cur,
            "categories",
            ["id", "name", "short_name"],
            [(i + 1, name, short if i < len(_CATEGORIES) else f"{short}-{i}")
             for i, (name, short) in enumerate(categories)],
        )  # fmt: skip
        say("instructors")
        instructors = []
        for i in range(1, size.instructors + 1):
            first, last = rng.choice(_FIRST), rng.choice(_LAST)
            login = DEMO_INSTRUCTOR_LOGIN if i == 1 else None
            email = f"{first}.{last}{i}@example.edu".lower()
            instructors.append(
                (i, f"{first} {last}", email, rng.randint(1, size.universities), login)
            )
        _copy(cur, "instructors", ["id", "name", "email", "university_id", "user"], instructors)

        say("courses")
        start = dt.date(2026, 9, 1)
        courses = []
        for i in range(1, size.courses + 1):
            category = rng.randint(1, size.categories)
            short = f"{categories[category - 1][1]}-{i}"
            status = rng.choices(["draft", "open", "closed"], weights=[3, 5, 2])[0]
            description = (
                "" if rng.random() < 0.2 else f"A course on {rng.choice(_TOPICS).lower()}."
            )
            start_date = (
                None if rng.random() < 0.15 else start + dt.timedelta(days=rng.randint(0, 540))
            )
            notes = "" if rng.random() < 0.7 else f"Budget code {rng.randint(1000, 9999)}."
            title = f"{rng.choice(_LEVELS)} {rng.choice(_TOPICS)} {i}"
            courses.append((i, title, short, description, status, start_date, category,
                            rng.randint(1, size.universities), notes))  # fmt: skip
        _copy(
            cur,
            "courses",
            ["id", "title", "short_name", "description", "status", "start_date",
             "category_id", "university_id", "internal_notes"],
            courses,
        )  # fmt: skip

        say("course instructors and sessions")
        teaching: list[tuple[int, int]] = []
        demo_courses = set(rng.sample(range(1, size.courses + 1), DEMO_INSTRUCTOR_COURSES))
        for course_id in range(1, size.courses + 1):
            chosen = set(rng.sample(range(2, size.instructors + 1), rng.choice([1, 1, 2])))
            if course_id in demo_courses:
                chosen.add(1)
            teaching.extend((course_id, instructor) for instructor in sorted(chosen))
        _copy(
            cur,
            "course_instructors",
            ["id", "course_id", "instructor_id"],
            [(n, c, t) for n, (c, t) in enumerate(teaching, start=1)],
        )
        sessions = []
        for n in range(1, size.sessions + 1):
            course_id = (n - 1) % size.courses + 1
            begins = start + dt.timedelta(days=rng.randint(0, 600))
            sessions.append((n, course_id, begins, begins + dt.timedelta(days=rng.randint(1, 120)),
                             rng.random() < 0.4))  # fmt: skip
        _copy(
            cur,
            "sessions",
            ["id", "course_id", "starts_on", "ends_on", "enrollment_open"],
            sessions,
        )
        for table in ("universities", "categories", "instructors", "courses",
                      "course_instructors", "sessions"):  # fmt: skip
            cur.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
                f" (SELECT coalesce(max(id), 1) FROM {table}))"
            )
    return True


async def seed_users(db: Database, password: str) -> None:
    """Create (or reset) the six demo users with ``password``."""
    async with db.connection() as tx:
        for username, roles in DEMO_USERS.items():
            await create_user(tx, username, password, roles, replace=True)
