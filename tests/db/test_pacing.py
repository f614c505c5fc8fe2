"""The evaluators' pace: at least ``pace`` between steps, longer after a slow step."""

from __future__ import annotations

import asyncio

import pytest

from collabadmin.db import background
from collabadmin.db.background import LONGEST_PACE, SHARE, until_paced


@pytest.fixture
def slept(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The waits until_paced asks for, recorded instead of waited."""
    waits: list[float] = []

    async def record(seconds: float) -> None:
        waits.append(seconds)

    monkeypatch.setattr(background.asyncio, "sleep", record)
    return waits


@pytest.mark.parametrize(
    ("worked", "pace"),
    [
        (0.0, 0.05),  # a quick step: the pace asked for
        (0.1, 0.1 / SHARE),  # a slow one: the evaluator keeps to its share of the time
        (5.0, LONGEST_PACE),  # a very slow one: never more than the longest pace
    ],
)
async def test_the_next_step_waits_for_the_pace_or_the_steps_share(
    slept: list[float], worked: float, pace: float
) -> None:
    began = asyncio.get_running_loop().time()
    await until_paced(began, 0.05, worked)
    [wait] = slept
    assert pace - 0.01 < wait <= pace


async def test_a_step_that_began_long_ago_does_not_wait(slept: list[float]) -> None:
    began = asyncio.get_running_loop().time() - 2 * LONGEST_PACE
    await until_paced(began, 0.05, 0.1)
    assert slept == []
