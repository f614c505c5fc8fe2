"""Throttling of sign-in attempts: per account and address pair, per address, per account.

Every attempt is counted *before* its password is checked, by one statement
(:data:`_COUNT`) that increments three counters and returns them: the pair
(username as typed, client address), the address, and the account. It runs
on its own in autocommit, so it is committed before the password check
starts, and ``INSERT ... ON CONFLICT DO UPDATE`` locks each counter row
while it updates it: of N parallel attempts each sees the increments of
those before it, and at most the limit of them get a password check. (The
earlier read-then-check-then-insert let 23 of 30 parallel attempts through
a limit of 5.) The rows are always locked in the same order (account,
address, pair), so two attempts never deadlock on them.

The limits, each counted in a fixed window that starts at the key's first
attempt:

* **pair**, 5 in 15 minutes: an attacker guessing one account from one
  address. It locks only that pair, so the account's owner signing in from
  anywhere else is not affected.
* **address**, 20 in 15 minutes: one address spraying many usernames
  (existing or not: unknown usernames are counted exactly like real ones,
  so the throttle does not tell which exist).
* **account backstop**, 100 in an hour: many addresses guessing one
  account. It slows rather than locks: beyond it the account gets one
  attempt every ``account_interval`` seconds, whoever makes it. An address
  from which the account signed in successfully in the last 30 days is
  exempt, so the owner at their usual address is not slowed at all.

A refused attempt still counts (in the same window, which it does not
extend), is answered 429 with ``Retry-After``, and costs no password check.
An attempt admitted here but then not checked (all password slots busy) is
given back with :meth:`Throttle.refund`. A success resets its pair, marks
the pair as known, and gives back its attempt on the address and account,
so those count failures: an office behind one address can sign in all day.

The counters are in an UNLOGGED table: a burst's attempts update the same
rows one after another, and none of those commits waits for a disk flush.
A database crash forgets them (and which pairs are known); so does a standby.

Not protected against: an attacker with many addresses guessing many
accounts slowly (each pair stays under its limit; the backstop caps each
account at about 100 guesses an hour plus one per ``account_interval``),
and a shared address (NAT) whose users all wait once one of them sprays.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from collabadmin.db.engine import Tx

__all__ = ["Throttle"]

_COUNT = """
INSERT INTO collabadmin.collabadmin_login_attempt AS a
       (kind, key, attempts, window_ends, admitted_at)
VALUES ('account', %(account)s, 1, now() + %(account_window)s, now()),
       ('address', %(address)s, 1, now() + %(address_window)s, now()),
       ('pair', %(pair)s, 1, now() + %(pair_window)s, now())
ON CONFLICT (kind, key) DO UPDATE SET
    attempts = CASE WHEN a.window_ends > now() THEN a.attempts + 1 ELSE 1 END,
    window_ends = CASE WHEN a.window_ends > now() THEN a.window_ends ELSE excluded.window_ends END,
    -- Only the account row is spaced out: beyond its limit an attempt takes
    -- the next free slot or is refused (and leaves admitted_at alone).
    admitted_at = CASE
        WHEN a.kind <> 'account' OR a.window_ends <= now()
             OR a.attempts < %(account_limit)s
             OR a.admitted_at <= now() - %(account_interval)s
        THEN now() ELSE a.admitted_at END
RETURNING kind, attempts, window_ends, admitted_at, known_until,
          admitted_at = now() AS admitted, now() AS now
"""

# Giving an attempt back, after a success or when it was never checked. An
# upsert in the same row order as _COUNT rather than an UPDATE ... WHERE
# (kind, key) IN (...), whose scan could lock the rows in another order and
# deadlock with a parallel attempt. (A missing row is created harmlessly.)
_GIVE_BACK = """
INSERT INTO collabadmin.collabadmin_login_attempt AS a
       (kind, key, attempts, window_ends, admitted_at, known_until)
VALUES ('account', %(account)s, 0, now(), now(), NULL),
       ('address', %(address)s, 0, now(), now(), NULL),
       ('pair', %(pair)s, 0, now(), now(), now() + %(known_for)s)
ON CONFLICT (kind, key) DO UPDATE SET
    attempts = CASE WHEN a.kind = 'pair' AND %(reset_pair)s THEN 0
                    ELSE greatest(a.attempts - 1, 0) END,
    known_until = coalesce(excluded.known_until, a.known_until)
"""

_FORGET = """
DELETE FROM collabadmin.collabadmin_login_attempt
 WHERE window_ends < now() - interval '1 day' AND (known_until IS NULL OR known_until < now())
"""


@dataclass(frozen=True, slots=True)
class Throttle:
    pair_limit: int = 5
    pair_window: dt.timedelta = dt.timedelta(minutes=15)
    address_limit: int = 20
    address_window: dt.timedelta = dt.timedelta(minutes=15)
    account_limit: int = 100
    account_window: dt.timedelta = dt.timedelta(hours=1)
    account_interval: dt.timedelta = dt.timedelta(seconds=10)
    known_for: dt.timedelta = dt.timedelta(days=30)

    @staticmethod
    def _keys(username: str, address: str | None) -> dict[str, str]:
        where = address or "-"
        # An address never contains "|", so "address|username" names one pair.
        return {"account": username, "address": where, "pair": f"{where}|{username}"}

    async def admit(self, tx: Tx, username: str, address: str | None) -> int:
        """Count this attempt; 0 if its password may be checked, else seconds to wait.

        ``tx`` must be in autocommit (``Database.connection()``): the count
        has to be visible to parallel attempts before any password check.
        """
        params = {
            **self._keys(username, address),
            "account_window": self.account_window,
            "address_window": self.address_window,
            "pair_window": self.pair_window,
            "account_limit": self.account_limit,
            "account_interval": self.account_interval,
        }
        rows = {row["kind"]: row for row in await tx.rows(_COUNT, params)}
        if rows["address"]["attempts"] == 1:  # a new window: a good time to forget old ones
            await tx.run(_FORGET)
        now: dt.datetime = rows["pair"]["now"]
        waits: list[dt.timedelta] = []
        for kind, limit in (("pair", self.pair_limit), ("address", self.address_limit)):
            if rows[kind]["attempts"] > limit:
                waits.append(rows[kind]["window_ends"] - now)
        account, known = rows["account"], rows["pair"]["known_until"]
        if (
            account["attempts"] > self.account_limit
            and not account["admitted"]
            and not (known is not None and known > now)
        ):
            waits.append(account["admitted_at"] + self.account_interval - now)
        if not waits:
            return 0
        return max(1, math.ceil(max(waits).total_seconds()))

    async def refund(self, tx: Tx, username: str, address: str | None) -> None:
        """Give back an admitted attempt whose password was never checked."""
        params = {**self._keys(username, address), "known_for": None, "reset_pair": False}
        await tx.run(_GIVE_BACK, params)

    async def succeeded(self, tx: Tx, username: str, address: str | None) -> None:
        """Reset the pair and remember it as known; the success was no failure."""
        params = {**self._keys(username, address), "known_for": self.known_for, "reset_pair": True}
        await tx.run(_GIVE_BACK, params)
