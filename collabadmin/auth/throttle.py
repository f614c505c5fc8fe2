"""Throttling of failed sign-ins, per username and per client address.

Failures are kept in the database so that every server instance sees the
same counts. Within a 15-minute window, once a username has 5 failures (an
address 20) the next attempt must wait after the latest failure, 2 seconds
at first and doubling with each further failure, up to 15 minutes. The
window forgets on its own, so the real owner of an account is never locked
out for long, and a success clears the username's failures. While throttled
an attempt is refused with 429 before the password is even checked, so it
neither costs a hash nor counts.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from collabadmin.db.engine import Tx

__all__ = ["Throttle"]

_STATE = """
SELECT count(*) FILTER (WHERE username = %(u)s) AS user_failures,
       max(at) FILTER (WHERE username = %(u)s) AS user_last,
       count(*) FILTER (WHERE address = %(a)s) AS address_failures,
       max(at) FILTER (WHERE address = %(a)s) AS address_last,
       now() AS now
  FROM collabadmin_login_failure
 WHERE at > now() - %(window)s AND (username = %(u)s OR address = %(a)s)
"""


@dataclass(frozen=True, slots=True)
class Throttle:
    window: dt.timedelta = dt.timedelta(minutes=15)
    free_per_user: int = 5
    free_per_address: int = 20
    max_delay: float = 900.0

    def _delay(self, failures: int, free: int) -> float:
        if failures < free:
            return 0.0
        return min(self.max_delay, 2.0 ** (failures - free + 1))

    async def retry_after(self, tx: Tx, username: str, address: str | None) -> int:
        """Seconds until this username/address may try again (0: now)."""
        state = await tx.row(_STATE, {"u": username, "a": address, "window": self.window})
        if state is None:
            return 0
        now: dt.datetime = state["now"]
        waits = [0.0]
        for failures, last, free in (
            (state["user_failures"], state["user_last"], self.free_per_user),
            (state["address_failures"], state["address_last"], self.free_per_address),
        ):
            if last is not None:
                until = last + dt.timedelta(seconds=self._delay(failures, free))
                waits.append((until - now).total_seconds())
        return max(0, math.ceil(max(waits)))

    async def failed(self, tx: Tx, username: str, address: str | None) -> None:
        await tx.run(
            "INSERT INTO collabadmin_login_failure (username, address) VALUES (%(u)s, %(a)s)",
            {"u": username, "a": address},
        )
        await tx.run("DELETE FROM collabadmin_login_failure WHERE at < now() - interval '1 day'")

    async def succeeded(self, tx: Tx, username: str) -> None:
        await tx.run(
            "DELETE FROM collabadmin_login_failure WHERE username = %(u)s", {"u": username}
        )
