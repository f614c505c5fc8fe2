"""JSON forms of field values: the same whether read from a row or from a change-log diff."""

from __future__ import annotations

import datetime as dt
import decimal

import psycopg
import pytest

from collabadmin.resources.json_forms import json_value
from collabadmin.resources.values import (
    ValueInvalid,
    exact_json_loads,
    format_duration,
    parse_duration,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("P1DT2H30M", dt.timedelta(days=1, hours=2, minutes=30)),
        ("-PT30M", -dt.timedelta(minutes=30)),
        ("PT0S", dt.timedelta(0)),
        ("P1Y2M", dt.timedelta(days=365 + 60)),
        ("P2W", dt.timedelta(days=14)),
        ("PT1.5S", dt.timedelta(seconds=1, microseconds=500000)),
        ("P1.5D", dt.timedelta(days=1, hours=12)),
    ],
)
def test_iso_durations_parse(text: str, expected: dt.timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    "text", ["", "P", "PT", "1 day", "P1DT", "PXD", "P1H", "P" + "9" * 20 + "D"]
)
def test_malformed_durations_are_refused(text: str) -> None:
    with pytest.raises(ValueInvalid):
        parse_duration(text)


@pytest.mark.parametrize(
    "value",
    [dt.timedelta(0), dt.timedelta(days=3, seconds=5, microseconds=10), -dt.timedelta(hours=2)],
)
def test_durations_format_and_parse_back(value: dt.timedelta) -> None:
    assert parse_duration(format_duration(value)) == value


def test_diff_values_take_the_same_form_as_row_values(conninfo: str) -> None:
    """to_jsonb forms (what the change log holds) and psycopg's values agree."""
    with psycopg.connect(conninfo) as conn:
        row = conn.execute(
            "SELECT v.*, to_jsonb(v) AS j FROM (SELECT"
            " '1 year 2 mons -3 days +04:05:06.5'::interval AS spent,"
            " '-1 days +02:00:00'::interval AS back,"
            " '\\x0001ff'::bytea AS blob,"
            " 12.50::numeric AS price,"
            " 0.000000000000000000001234567890123456789::numeric AS tiny,"
            " '10:00:01.5'::time AS at,"
            " '2026-01-01 10:00:00.25'::timestamp AS local,"
            " '2026-01-01 10:00:00+02'::timestamptz AS stamp) v"
        ).fetchone()
    assert row is not None
    *values, diff = row
    kinds = ["duration", "duration", "binary", "decimal", "decimal", "time", "datetime", "datetime"]
    names = ["spent", "back", "blob", "price", "tiny", "at", "local", "stamp"]
    for kind, name, value in zip(kinds, names, values, strict=True):
        aware = name != "local"
        assert json_value(kind, value, aware=aware) == json_value(kind, diff[name], aware=aware)
    assert json_value("decimal", diff["price"]) == "12.50"
    assert json_value("binary", diff["blob"]) == "AAH/"
    assert json_value("datetime", diff["stamp"]) == "2026-01-01T08:00:00Z"


def test_json_numbers_are_read_exactly() -> None:
    assert exact_json_loads(b'{"a": 12.50, "b": 1.5, "c": 3}') == {
        "a": decimal.Decimal("12.50"),
        "b": 1.5,
        "c": 3,
    }
    assert json_value("json", exact_json_loads(b'{"a": 12.50}')) == {"a": 12.5}
