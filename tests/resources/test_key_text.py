"""A key value's text in Python is exactly the text the capture trigger writes for it.

The change log, drafts, runs and topics find a record by its key's text;
the trigger writes ``to_jsonb(value) #>> '{}'`` and the server computes
``value_text`` from the value psycopg read. Each case reads a value from
PostgreSQL and compares both texts, in the same session (a ``timestamptz``
is written in the session's time zone).
"""

from __future__ import annotations

import psycopg
import pytest

from collabadmin.resources.keys import value_text

VALUES = [
    "42::integer",
    "-7::bigint",
    "'12.50'::numeric",
    "'100'::numeric",
    "true",
    "'2026-01-31'::date",
    "'2026-01-31 10:00:00'::timestamp",
    "'2026-01-31 10:00:00.5'::timestamp",
    "'2026-01-31 10:00:00.123456'::timestamp",
    "'2026-01-31 10:00:00.000001'::timestamp",
    "'2026-01-31 10:00:00.25+02'::timestamptz",
    "'2026-01-31 10:00:00+05:30'::timestamptz",
    "'10:00:00'::time",
    "'10:00:00.75'::time",
    "'10:00:00.1+02'::timetz",
    "'10:00:00-05:30'::timetz",
    "'8f6f4d2a-0000-4000-8000-00000000000a'::uuid",
    "'a,b/ç'::text",
    "'\\x00ff10'::bytea",
]


@pytest.mark.parametrize("time_zone", ["UTC", "Asia/Kolkata", "America/Sao_Paulo"])
def test_value_text_matches_the_triggers_text(conninfo: str, time_zone: str) -> None:
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("SELECT set_config('TimeZone', %s, false)", [time_zone])
        for expression in VALUES:
            row = conn.execute(f"SELECT {expression}, to_jsonb({expression}) #>> '{{}}'").fetchone()
            assert row is not None
            value, database_text = row
            assert value_text(value) == database_text, expression
