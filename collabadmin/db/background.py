"""Background work that lives as long as the app: started by its lifespan, cancelled at exit."""

from __future__ import annotations

import asyncio
import contextlib
from abc import ABC, abstractmethod

__all__ = ["BackgroundTask", "paced_rest", "until_paced"]


# An evaluator's share of the time, at most: after a step that took t
# seconds, the next begins no sooner than t / SHARE after it (up to
# LONGEST_PACE). When the machine is busy its steps take longer and it
# evaluates less often, each step covering more commits, leaving the CPU
# (and the database) to the servers sending frames.
SHARE = 0.25
LONGEST_PACE = 1.0


def paced_rest(began: float, pace: float, worked: float, now: float) -> float:
    """Seconds still to wait at ``now`` before the step after the one begun at ``began``.

    At least ``pace`` from ``began``, longer after a slow step (``worked``
    seconds: see SHARE), never longer than LONGEST_PACE; 0 when already due.
    """
    pace = max(pace, min(LONGEST_PACE, worked / SHARE))
    return max(0.0, began + pace - now)


async def until_paced(began: float, pace: float, worked: float = 0.0) -> None:
    """Wait until ``pace`` seconds of loop time have passed since ``began``.

    For a loop that evaluates when woken: the wake-ups that come meanwhile
    join its next evaluation, so under a stream of commits one evaluation
    covers all those since the last. ``worked``: how long the step begun at
    ``began`` took, which lengthens the pace (see :func:`paced_rest`).
    """
    rest = paced_rest(began, pace, worked, asyncio.get_running_loop().time())
    if rest > 0:
        await asyncio.sleep(rest)


class BackgroundTask(ABC):
    """One asyncio task named ``name`` running :meth:`run`; ``stop`` cancels and awaits it.

    ``run`` loops for the life of the server and handles its own errors (a
    database outage must not end it); cancellation is the only way out.
    """

    name = "collabadmin-task"

    def __init__(self) -> None:
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self.run(), name=self.name)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    @abstractmethod
    async def run(self) -> None:
        """The task's loop, for the life of the server."""
