"""Background work that lives as long as the app: started by its lifespan, cancelled at exit."""

from __future__ import annotations

import asyncio
import contextlib
from abc import ABC, abstractmethod

__all__ = ["BackgroundTask", "until_paced"]


async def until_paced(began: float, pace: float) -> None:
    """Wait until ``pace`` seconds of loop time have passed since ``began``.

    For a loop that evaluates when woken: the wake-ups that come meanwhile
    join its next evaluation, so under a stream of commits one evaluation
    covers all those since the last.
    """
    rest = began + pace - asyncio.get_running_loop().time()
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
