"""A credential is read from the database once, however many requests carry it at once.

The credential cache keeps an entry for seconds; when it expires, every
request a busy client has in flight misses it together. They share one
lookup (and one touch of the token's ``last_used_at``) instead of each
reading, and queueing on, the same token row.
"""

from __future__ import annotations

import asyncio

from collabadmin.auth.credentials import Credential, CredentialCache, create_token
from collabadmin.auth.middleware import AuthMiddleware
from collabadmin.db.engine import Database


class CountingAuth(AuthMiddleware):
    """The middleware, counting its reads of the database."""

    reads = 0

    async def _read(self, kind: str, secret: str) -> Credential | None:
        self.reads += 1
        return await super()._read(kind, secret)


async def test_concurrent_requests_share_one_lookup(database_url: str, demo_users: None) -> None:
    db = Database(database_url, pool_size=4)
    try:
        async with db.connection() as tx:
            user_id = await tx.value(
                "SELECT id FROM collabadmin.collabadmin_user WHERE username = 'editor'"
            )
            _, secret = await create_token(tx, user_id, "lookups", None)
        cache = CredentialCache()
        auth = CountingAuth(db, cache)
        found = await asyncio.gather(*(auth._lookup("token", secret) for _ in range(16)))
        assert auth.reads == 1
        assert {c.actor.username for c in found if c is not None} == {"editor"}
        assert all(c is not None for c in found)
        # Once the entry is gone (expired, or ended), the next burst reads again, once.
        cache.clear()
        again = await asyncio.gather(*(auth._lookup("token", secret) for _ in range(8)))
        assert auth.reads == 2
        assert all(c is not None and c.actor.username == "editor" for c in again)
        # A wrong secret is looked up once per burst too, and found by no one.
        wrong = secret[:-4] + "xxxx"
        missing = await asyncio.gather(*(auth._lookup("token", wrong) for _ in range(8)))
        assert (missing, auth.reads) == ([None] * 8, 3)
    finally:
        await db.dispose()
