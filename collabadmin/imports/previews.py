"""What a dry run saw, kept so that applying the same file never overwrites what it did not show.

A preview is the file's SHA-256, the key lines were matched by and the
version of each record matched, by user and resource, in
``collabadmin.collabadmin_import_preview``; previews older than
:data:`PREVIEW_DAYS` are deleted when the next one is saved.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from psycopg.types.json import Jsonb
from sqlalchemy import BigInteger, Column, DateTime, MetaData, Table, Text, func
from sqlalchemy import text as sql_text
from sqlalchemy.dialects.postgresql import JSONB

from collabadmin.db.engine import Actor, Tx
from collabadmin.errors import Conflict, NotFound
from collabadmin.imports.plan import ImportRequest, Planned
from collabadmin.own import OWN_SCHEMA
from collabadmin.resources.resource import Resource

__all__ = ["IMPORT_PREVIEWS", "PREVIEW_DAYS", "load_preview", "save_preview"]

PREVIEW_DAYS = 1

IMPORT_PREVIEWS = Table(
    "collabadmin_import_preview",
    MetaData(),
    Column("id", BigInteger, primary_key=True),
    Column("actor_id", BigInteger),
    Column("resource", Text, nullable=False),
    Column("key", Text, nullable=False),
    Column("sha256", Text, nullable=False),
    Column("versions", JSONB, nullable=False),
    Column("created_at", DateTime(timezone=True)),
    schema=OWN_SCHEMA,
)


def _sha(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


async def save_preview(
    tx: Tx, *, actor: Actor, resource: Resource, key: str, body: bytes, planned: Iterable[Planned]
) -> int:
    """Keep what a dry run of ``body`` saw (each matched record's version); the preview's id."""
    versions = {p.pk: p.version for p in planned if p.pk is not None and p.version is not None}
    # Previews not applied within PREVIEW_DAYS are of no use any more.
    await tx.run(
        IMPORT_PREVIEWS.delete().where(
            IMPORT_PREVIEWS.c.created_at < func.now() - sql_text(f"interval '{PREVIEW_DAYS} days'")
        )
    )
    value = await tx.value(
        IMPORT_PREVIEWS.insert()
        .values(
            actor_id=actor.id,
            resource=resource.name,
            key=key,
            sha256=_sha(body),
            versions=Jsonb(versions),
        )
        .returning(IMPORT_PREVIEWS.c.id)
    )
    return int(value)


async def load_preview(
    tx: Tx, actor: Actor, resource: Resource, key: str, request: ImportRequest
) -> dict[str, int]:
    """The versions the request's preview saw, by record; 404 or 409 if it is not this file's.

    The preview is taken (deleted) in the apply's transaction: it serves one
    apply, and of two applies of it at once the second waits for the first
    and then finds it gone (404); an apply that writes nothing (a 409 or a
    422) rolls back and leaves the preview as it was.
    """
    row = await tx.row(
        IMPORT_PREVIEWS.delete()
        .where(
            IMPORT_PREVIEWS.c.id == request.preview,
            IMPORT_PREVIEWS.c.actor_id == actor.id,
            IMPORT_PREVIEWS.c.resource == resource.name,
        )
        .returning(*IMPORT_PREVIEWS.c)
    )
    if row is None:
        raise NotFound(f"No preview {request.preview} of an import of yours into {resource.name}.")
    if row["key"] != key:
        raise Conflict("This preview matched lines by another key.", parameter="key")
    if row["sha256"] != _sha(request.body):
        raise Conflict("This is not the file that was previewed: preview it again before applying.")
    return {str(k): int(v) for k, v in row["versions"].items()}
