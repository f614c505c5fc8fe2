"""Password hashing with argon2id.

Hashing runs in a worker thread: argon2 is deliberately slow and would
otherwise stall every other request on the event loop. Unknown users are
checked against a dummy hash so that "no such user" and "wrong password"
take comparable time.
"""

from __future__ import annotations

import anyio.to_thread
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

__all__ = ["hash_password", "hash_password_sync", "verify_password"]

_hasher = PasswordHasher()
_DUMMY_HASH = _hasher.hash("collabadmin-dummy-password")


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
    return await anyio.to_thread.run_sync(_verify, stored, password)
