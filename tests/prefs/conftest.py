"""Every prefs test starts with no saved settings and no shared views."""

from __future__ import annotations

import psycopg
import pytest


@pytest.fixture(autouse=True)
def no_saved_views(conninfo: str) -> None:
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("TRUNCATE collabadmin_view_pref, collabadmin_shared_view RESTART IDENTITY")
