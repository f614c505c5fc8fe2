"""Every prefs test starts with no saved settings and no shared views."""

from __future__ import annotations

import psycopg
import pytest


@pytest.fixture(autouse=True)
def no_saved_views(conninfo: str) -> None:
    with psycopg.connect(conninfo, autocommit=True) as conn:
        # DELETE, not TRUNCATE: no table lock for a background task to wait behind.
        conn.execute("DELETE FROM collabadmin.collabadmin_view_pref")
        conn.execute("DELETE FROM collabadmin.collabadmin_shared_view")
