"""Helpers for record action tests: courses in a known state, runs, the sessions of a course."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Sequence
from typing import Any

import httpx
import psycopg
from psycopg.rows import dict_row


def today(conninfo: str) -> dt.date:
    """The database's date (the demo's actions go by it, not by this process's clock)."""
    with psycopg.connect(conninfo) as conn:
        row = conn.execute("SELECT current_date").fetchone()
    assert row is not None
    found: dt.date = row[0]
    return found


def add_course(
    conninfo: str,
    *,
    status: str = "draft",
    start_date: dt.date | None = None,
    sessions: Sequence[tuple[dt.date, dt.date, bool]] = (),
) -> int:
    """A course (and its sessions: starts_on, ends_on, enrollment_open) written by SQL."""
    with psycopg.connect(conninfo, autocommit=True) as conn:
        row = conn.execute(
            "INSERT INTO courses (title, short_name, status, start_date)"
            " VALUES (%s, %s, %s, %s) RETURNING id",
            ("Action course", "act-" + secrets.token_hex(4), status, start_date),
        ).fetchone()
        assert row is not None
        course_id = int(row[0])
        for starts, ends, is_open in sessions:
            conn.execute(
                "INSERT INTO sessions (course_id, starts_on, ends_on, enrollment_open)"
                " VALUES (%s, %s, %s, %s)",
                (course_id, starts, ends, is_open),
            )
    return course_id


def sessions_of(conninfo: str, course_id: int) -> list[dict[str, Any]]:
    with psycopg.connect(conninfo, row_factory=dict_row) as conn:
        return conn.execute(
            "SELECT id, starts_on, ends_on, enrollment_open, version FROM sessions"
            " WHERE course_id = %s AND deleted_at IS NULL ORDER BY starts_on, id",
            (course_id,),
        ).fetchall()


async def run_action(
    client: httpx.AsyncClient,
    pk: Any,
    name: str,
    *,
    resource: str = "courses",
    if_match: int | None = None,
    base: int | None = None,
) -> httpx.Response:
    headers: dict[str, str] = {}
    if if_match is not None:
        headers["If-Match"] = f'"{if_match}"'
    if base is not None:
        headers["X-Base-Version"] = str(base)
    return await client.post(f"/api/r/{resource}/{pk}/actions/{name}", headers=headers)


async def offered(client: httpx.AsyncClient, pk: Any) -> dict[str, dict[str, Any]]:
    """The record actions OPTIONS lists for a course, by name."""
    response = await client.options(f"/api/r/courses/{pk}")
    assert response.status_code == 200, response.text
    return {a["name"]: a for a in response.json()["record_actions"]}
