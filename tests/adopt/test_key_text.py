"""The key text of API.md: encoding, decoding and typing of key parts."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from sqlalchemy import Column, Date, Integer, MetaData, SmallInteger, Table, Text, Uuid

from collabadmin.db.tracking import key_text
from collabadmin.resources.declare import resource_from_table
from collabadmin.resources.keys import decode_key, decode_url_key, encode_key, key_url


@pytest.mark.parametrize(
    "values",
    [("1", "23"), ("a,b", "c"), ("%", ","), ("ü✓ 😀", "x/y"), ("%2C", "%25"), (" ", "")],
)
def test_encode_then_decode_gives_the_values_back(values: tuple[str, str]) -> None:
    text = encode_key(values)
    assert text.count(",") == 1  # only the separator is a bare comma
    assert "/" not in text
    assert " " not in text
    assert decode_key(text, 2) == values


def test_encoding_matches_the_capture_trigger() -> None:
    assert encode_key(["a,b%c/ü"]) == "a,b%c/ü"  # one column: its text
    assert encode_key(["1", "23"]) == "1,23"
    assert (
        encode_key(["a,b%c é", "2/3"]) == "a%2Cb%25c%20%C3%A9,2%2F3" == key_text(["a,b%c é", "2/3"])
    )
    assert key_url("a/b ü", 1) == "a%2Fb%20%C3%BC"
    assert key_url("a%2Fb,1", 2) == "a%2Fb,1"


def test_decoding_accepts_any_percent_encoding_and_refuses_bad_arity() -> None:
    assert decode_key("a%2cb,%41", 2) == ("a,b", "A")
    assert decode_key("1", 2) is None
    assert decode_key("1,2,3", 2) is None
    assert decode_key("", 1) is None
    assert decode_key("50%25", 1) == ("50%25",)  # a stored single key is its text
    assert decode_url_key("50%25", 1) == ("50%",)  # in a URL it is percent-encoded
    assert decode_key("%FF,1", 2) is None  # not UTF-8
    # The whole key text encoded once more, as URL builders do, is accepted too.
    assert decode_key("1%2C23", 2) == ("1", "23")
    assert decode_key("a%252Cb%2Cc", 2) == ("a,b", "c")
    assert decode_key("1%2C2%2C3", 2) is None
    # A single-column key is the whole text: its commas need no escaping.
    assert decode_key("a,b", 1) == ("a,b",)


def test_key_parts_are_typed_like_their_columns() -> None:
    table = Table(
        "pairs",
        MetaData(),
        Column("small", SmallInteger, primary_key=True),
        Column("day", Date, primary_key=True),
        Column("ref", Uuid, primary_key=True),
        Column("name", Text),
    )
    resource = resource_from_table(table)
    assert resource.pk == ("small", "day", "ref")
    ref = uuid.uuid4()
    assert resource.pk_values(f"7,2026-01-31,{ref}") == (7, dt.date(2026, 1, 31), ref)
    assert resource.pk_values(f"40000,2026-01-31,{ref}") is None  # beyond smallint
    assert resource.pk_values(f"7,2026-02-30,{ref}") is None
    assert resource.pk_values("7,2026-01-31,not-a-uuid") is None
    assert resource.pk_values("\u0667,2026-01-31," + str(ref)) is None  # non-ASCII digit
    row = {"small": 7, "day": dt.date(2026, 1, 31), "ref": ref, "name": "x"}
    assert resource.key_of(row) == f"7,2026-01-31,{ref}"


def test_keys_given_by_name_and_tables_without_one() -> None:
    table = Table(
        "loose", MetaData(), Column("code", Text), Column("n", Integer), Column("version", Integer)
    )
    loose = resource_from_table(table)
    assert loose.pk == ()
    assert loose.read_only
    assert "no primary key" in (loose.read_only_reason or "")
    keyed = resource_from_table(table, pk="code", name="coded")
    assert (keyed.pk, keyed.read_only, keyed.read_only_reason) == (("code",), False, None)
    with pytest.raises(ValueError, match="no such columns"):
        resource_from_table(table, pk=("code", "nope"))
