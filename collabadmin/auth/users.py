"""Users: creation, lookup, and turning a user row into an :class:`Actor`."""

from __future__ import annotations

import re
from collections.abc import Iterable

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert

from collabadmin.auth.passwords import hash_password
from collabadmin.auth.tables import USERS
from collabadmin.auth.types import UserBody
from collabadmin.db.engine import Actor, Row, Tx

__all__ = ["SUPERUSER_ROLE", "actor_from_row", "create_user", "find_user", "user_body"]

SUPERUSER_ROLE = "admin"
USERNAME = re.compile(r"^[A-Za-z0-9_.@-]{1,64}$")


def actor_from_row(row: Row) -> Actor:
    roles = frozenset(row["roles"] or ())
    return Actor(
        id=row["id"],
        name=row["display_name"],
        username=row["username"],
        roles=roles,
        is_superuser=SUPERUSER_ROLE in roles,
    )


def user_body(actor: Actor) -> UserBody:
    """A signed-in user (never the system actor, which has no id) as the API shows it."""
    assert actor.id is not None
    return UserBody(
        id=actor.id, username=actor.username, name=actor.name, roles=sorted(actor.roles)
    )


async def find_user(tx: Tx, username: str) -> Row | None:
    query = select(USERS).where(USERS.c.username == username, USERS.c.is_active)
    return await tx.row(query)


async def create_user(
    tx: Tx,
    username: str,
    password: str | None,
    roles: Iterable[str],
    *,
    display_name: str | None = None,
    replace: bool = False,
) -> int:
    """Create a user (or, with ``replace``, reset its password and roles); returns its id."""
    if not USERNAME.fullmatch(username):
        raise ValueError("a username is 1-64 letters, digits or _ . @ -")
    password_hash = await hash_password(password) if password else None
    values = {
        "username": username,
        "display_name": display_name or username.capitalize(),
        "password_hash": password_hash,
        "roles": sorted(set(roles)),
    }
    statement = insert(USERS).values(**values)
    if replace:
        statement = statement.on_conflict_do_update(
            index_elements=[USERS.c.username],
            set_={k: statement.excluded[k] for k in ("display_name", "password_hash", "roles")},
        )
    user_id = await tx.value(statement.returning(USERS.c.id))
    return int(user_id)


async def deactivate_user(tx: Tx, username: str) -> bool:
    count = await tx.run(update(USERS).where(USERS.c.username == username).values(is_active=False))
    return count > 0
