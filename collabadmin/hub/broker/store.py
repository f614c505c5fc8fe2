"""The database's record of where a stream of batches has got to (``collabadmin_broker``).

The stream's own last message is what a new leader resumes from; this row
is for when the stream has none (a new stream, or one whose storage was
wiped): then publishing resumes from the position recorded here, and every
instance starts its consumer there. The leader moves it forward at most
once a second: resuming from a slightly older position repeats a few
batches in the stream, which consumers drop (they know what they have
delivered, see :mod:`collabadmin.hub.broker.consumer`); it never skips one.
"""

from __future__ import annotations

from collabadmin.db.engine import Database

__all__ = ["record_position", "recorded_position"]

_START = """
INSERT INTO collabadmin.collabadmin_broker (stream, position)
VALUES (%(stream)s, pg_current_snapshot())
ON CONFLICT (stream) DO NOTHING
"""

_READ = "SELECT position::text FROM collabadmin.collabadmin_broker WHERE stream = %(stream)s"

_WRITE = """
INSERT INTO collabadmin.collabadmin_broker (stream, position, sequence, updated_at)
VALUES (%(stream)s, %(position)s::pg_snapshot, %(sequence)s, now())
ON CONFLICT (stream) DO UPDATE
   SET position = EXCLUDED.position, sequence = EXCLUDED.sequence, updated_at = now()
 WHERE pg_snapshot_xmax(collabadmin_broker.position) <= pg_snapshot_xmax(EXCLUDED.position)
"""


async def recorded_position(db: Database, stream: str) -> str:
    """The recorded position of ``stream``; a new stream starts now (recorded first)."""
    async with db.connection() as tx:
        await tx.run(_START, {"stream": stream})
        return str(await tx.value(_READ, {"stream": stream}))


async def record_position(db: Database, stream: str, position: str, sequence: int) -> None:
    """Publishing reached ``position``, at ``sequence`` in the stream."""
    async with db.connection() as tx:
        await tx.run(_WRITE, {"stream": stream, "position": position, "sequence": sequence})
