"""The evaluators' pace: at least ``pace`` between steps, longer after a slow step."""

from __future__ import annotations

import asyncio

import pytest

from collabadmin.db.background import LONGEST_PACE, SHARE, paced_rest, until_paced

NOW = 1000.0


@pytest.mark.parametrize(
    ("worked", "pace"),
    [
        (0.0, 0.05),  # a quick step: the pace asked for
        (0.1, 0.1 / SHARE),  # a slow one: the evaluator keeps to its share of the time
        (5.0, LONGEST_PACE),  # a very slow one: never more than the longest pace
    ],
)
def test_the_next_step_waits_for_the_pace_or_the_steps_share(worked: float, pace: float) -> None:
    assert paced_rest(NOW, 0.05, worked, NOW) == pytest.approx(pace)


def test_time_already_gone_counts_towards_the_pace() -> None:
    assert paced_rest(NOW, 0.05, 0.1, NOW + 0.3) == pytest.approx(0.1)


def test_a_step_that_began_long_ago_does_not_wait() -> None:
    assert paced_rest(NOW - 2 * LONGEST_PACE, 0.05, 0.1, NOW) == 0.0


async def test_until_paced_returns_once_the_pace_has_passed() -> None:
    loop = asyncio.get_running_loop()
    began = loop.time()
    await until_paced(began, 0.05)
    assert loop.time() - began >= 0.05
    await until_paced(loop.time() - 2 * LONGEST_PACE, 0.05, 0.1)
