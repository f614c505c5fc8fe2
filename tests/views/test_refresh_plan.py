"""What a diff of a view with its copy becomes: copy rows and derived entries, row by row."""

from __future__ import annotations

import logging
from decimal import Decimal
from typing import Any

import pytest

from collabadmin.views.refresh import plan

NOW = "2026-12-01T10:00:00+00:00"


def diffed(
    key: str,
    fresh: dict[str, Any] | None,
    stored: dict[str, Any] | None,
    version: int | None = None,
    *,
    gone: bool = False,
) -> dict[str, Any]:
    return {"key": key, "fresh": fresh, "stored": stored, "version": version, "gone": gone}


def test_a_new_row_is_an_insert_of_its_values() -> None:
    writes, moved = plan([diffed("7", {"id": 7, "sessions": 2, "next_start": None}, None)], NOW)
    assert writes == [
        {"id": 7, "sessions": 2, "next_start": None, "version": 1, "deleted_at": None}
    ]
    assert moved == [
        {
            "pk": "7",
            "op": "insert",
            "version": 1,
            "diff": {"id": {"old": None, "new": 7}, "sessions": {"old": None, "new": 2}},
        }
    ]


def test_a_changed_row_is_an_update_of_what_moved() -> None:
    _, moved = plan([diffed("7", {"id": 7, "sessions": 3}, {"id": 7, "sessions": 2}, 4)], NOW)
    assert moved == [
        {"pk": "7", "op": "update", "version": 5, "diff": {"sessions": {"old": 2, "new": 3}}}
    ]


def test_a_row_that_left_the_view_is_kept_as_a_tombstone() -> None:
    writes, moved = plan([diffed("7", None, {"id": 7, "sessions": 2}, 4)], NOW)
    assert writes == [{"id": 7, "sessions": 2, "version": 5, "deleted_at": NOW}]
    assert moved == [
        {"pk": "7", "op": "delete", "version": 5, "diff": {"deleted_at": {"old": None, "new": NOW}}}
    ]


def test_a_row_back_in_the_view_is_inserted_again_with_its_next_version() -> None:
    writes, moved = plan([diffed("7", {"id": 7}, {"id": 7}, 5, gone=True)], NOW)
    assert writes[0]["deleted_at"] is None
    assert (moved[0]["op"], moved[0]["version"]) == ("insert", 6)


def test_values_equal_as_values_move_nothing() -> None:
    assert plan([diffed("7", {"x": Decimal("1.0")}, {"x": Decimal("1.00")}, 2)], NOW) == ([], [])


def test_a_key_the_view_shows_twice_keeps_its_first_row(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="collabadmin.views"):
        writes, moved = plan(
            [diffed("7", {"id": 7, "n": 1}, None), diffed("7", {"id": 7, "n": 2}, None)], NOW
        )
    assert [w["n"] for w in writes] == [1]
    assert len(moved) == 1
    assert "not unique" in caplog.text
    caplog.clear()  # expected here: not an evaluator failure
