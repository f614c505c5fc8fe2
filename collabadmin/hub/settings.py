"""How a hub runs: its wake-up mode, queue sizes and the bounds of replay."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["HubSettings"]


@dataclass(frozen=True, slots=True)
class HubSettings:
    wake: Literal["notify", "poll"] = "notify"
    poll_interval: float = 0.005  # poll mode
    safety_interval: float = 1.0  # notify mode: a lost or disabled NOTIFY costs at most this
    queue_capacity: int = 1000
    replay_window: float = 24 * 3600.0
    replay_limit: int = 10_000  # entries per replay; beyond it, resync
    replay_concurrency: int = 4  # replays running at once (each holds a connection)
    replay_chunk: int = 200  # frames built between two yields to the event loop
    tick_history: int = 100_000  # batch boundaries kept for replay in commit order
    # Broker mode: how long a resume may wait for this instance to reach a
    # cursor another instance issued further along the stream.
    catch_up_wait: float = 2.0
