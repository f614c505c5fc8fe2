"""Password hashing with argon2id, and a bound on how many checks run at once.

Hashing runs in a worker thread: argon2 is deliberately slow and would
otherwise stall every other request on the event loop. Unknown users are
checked against a dummy hash so that "no such user" and "wrong password"
take comparable time.

Each check takes one core and 64 MiB (argon2-cffi's default memory cost)
for its duration. Unbounded, a burst of sign-ins ran one check per worker
thread at once and the server grew past a gigabyte; :class:`PasswordSlots`
admits at most ``Settings.password_concurrency`` checks at a time and
refuses the rest at once (the caller answers 429 with ``Retry-After: 1``)
rather than queueing them, so memory stays flat under any burst.
"""

from __future__ import annotations

import anyio.to_thread
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

__all__ = [
    "PasswordSlots",
    "hash_password",
    "hash_password_sync",
    "password_checks",
    "verify_password",
]

_hasher = PasswordHasher()
_DUMMY_HASH = _hasher.hash("collabadmin-dummy-password")


# Checks started in this process, for tests and benchmarks to count the
# work an attacker caused. Only the event loop's thread writes it.
class _Counter:
    value = 0


_CHECKS = _Counter()


def password_checks() -> int:
    """How many password checks this process has started."""
    return _CHECKS.value


def hash_password_sync(password: str) -> str:
    return _hasher.hash(password)


async def hash_password(password: str) -> str:
    return await anyio.to_thread.run_sync(_hasher.hash, password)


def _verify(stored: str | None, password: str) -> bool:
    try:
        return _hasher.verify(stored or _DUMMY_HASH, password) and stored is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


async def verify_password(stored: str | None, password: str) -> bool:
    """True if ``password`` matches ``stored``; a None hash never matches."""
    _CHECKS.value += 1  # on the event loop, before the thread: no lock needed
    return await anyio.to_thread.run_sync(_verify, stored, password)


class PasswordSlots:
    """At most ``size`` password checks at once; beyond that, refuse rather than wait.

    Only ever used from one event loop, and :meth:`try_take` does not await,
    so the check and the take cannot interleave with another request's.
    """

    def __init__(self, size: int) -> None:
        if size < 1:
            raise ValueError("password_concurrency must be at least 1")
        self.size = size
        self.in_use = 0
        self.peak = 0  # the most ever in use at once (tests and benchmarks read it)
        self.refused = 0

    def try_take(self) -> bool:
        if self.in_use >= self.size:
            self.refused += 1
            return False
        self.in_use += 1
        self.peak = max(self.peak, self.in_use)
        return True

    def give_back(self) -> None:
        self.in_use -= 1
