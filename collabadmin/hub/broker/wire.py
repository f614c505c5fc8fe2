"""How a batch of the change log travels in the stream: subjects, headers, parts.

A batch (the entries committed between snapshots ``lower`` and ``upper``)
is published as one or more *parts*, consecutive messages of the stream:
one resource per part (the subject names it, ``{prefix}.changes.{resource}``,
so other systems may follow one resource), and no part larger than
:data:`PART_BYTES` unless one entry alone is. A part larger than NATS takes
(``max_payload``, 1 MiB by default) goes without its entries, marked
``Collabadmin-Omitted``: consumers read that batch from the log. Every
part carries the batch's two snapshots and its place
(``Collabadmin-Part: 2/3``); the split depends only on the entries,
so a new leader that finds a batch half-published re-reads it from the log
and publishes the rest of the very same parts.

Each part's ``Nats-Msg-Id`` is the batch id (a hash of its two snapshots)
and its number, so a publish retried after a lost acknowledgement is
dropped by the stream's duplicate window. Each is also published with
``Nats-Expected-Last-Sequence``: it is appended only right after the
message its publisher read last, so the stream is one unbroken chain of
batches whoever publishes (see :mod:`collabadmin.hub.broker.publisher`).

Entries are JSON objects with the log's columns and the writing
transaction's ``txid``; numbers stay exact (a ``numeric`` diff value
``12.50`` is the JSON number ``12.50``, read back as a Decimal).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import msgspec

from collabadmin.db.engine import Row
from collabadmin.db.json import exact_float

__all__ = [
    "PART_BYTES",
    "Part",
    "PartHeaders",
    "batch_id",
    "decode_entries",
    "parse_part",
    "split",
    "subject_token",
]

# Under NATS's default 1 MiB max_payload, with room for the headers (two
# snapshots of up to ~20 KB each).
PART_BYTES = 512 * 1024

LOWER = "Collabadmin-Lower"
UPPER = "Collabadmin-Upper"
PART = "Collabadmin-Part"
# Set on a part published without its entries: larger than NATS takes (one
# huge entry). Consumers read that batch from the log instead.
OMITTED = "Collabadmin-Omitted"
MSG_ID = "Nats-Msg-Id"
EXPECTED_LAST = "Nats-Expected-Last-Sequence"

_SAFE = re.compile(r"[A-Za-z0-9_-]+")
_PART = re.compile(r"^([1-9][0-9]{0,8})/([1-9][0-9]{0,8})$")
_SNAPSHOT = re.compile(r"^[0-9]{1,19}:[0-9]{1,19}:[0-9,]*$")


class WireEntry(msgspec.Struct, kw_only=True):
    id: int
    at: dt.datetime
    resource: str
    pk: str
    op: str
    actor_id: int | None
    actor_name: str | None
    db_role: str | None
    source: str | None
    request_id: str | None
    version: int | None
    diff: Any
    txid: int


_encoder = msgspec.json.Encoder(decimal_format="number")
_decoder = msgspec.json.Decoder(list[WireEntry], float_hook=exact_float)


def subject_token(resource: str) -> str:
    """A resource name as one subject token: ``.``, ``*``, ``>`` and the rest escaped."""
    if _SAFE.fullmatch(resource):
        return resource
    return "".join(c if _SAFE.fullmatch(c) else f"={ord(c):x}=" for c in resource)


def batch_id(lower: str, upper: str) -> str:
    return hashlib.sha256(f"{lower}|{upper}".encode()).hexdigest()[:32]


@dataclass(frozen=True, slots=True)
class PartHeaders:
    lower: str
    upper: str
    index: int  # 1-based
    count: int
    omitted: bool = False  # published without its entries (too large)

    @property
    def last(self) -> bool:
        return self.index == self.count


@dataclass(frozen=True, slots=True)
class Part:
    """One message to publish: its subject token (the resource), payload and place."""

    resource: str
    payload: bytes
    index: int
    count: int

    def headers(
        self, lower: str, upper: str, expected_last: int, *, omitted: bool = False
    ) -> dict[str, str]:
        headers = {
            MSG_ID: f"{batch_id(lower, upper)}.{self.index}",
            EXPECTED_LAST: str(expected_last),
            LOWER: lower,
            UPPER: upper,
            PART: f"{self.index}/{self.count}",
        }
        if omitted:
            headers[OMITTED] = "1"
        return headers


def split(entries: Sequence[Row], limit: int = PART_BYTES) -> list[Part]:
    """The parts of a batch: by resource (in name order), then by size, entries by id."""
    by_resource: dict[str, list[bytes]] = {}
    for entry in sorted(entries, key=lambda e: (e["resource"], e["id"])):
        by_resource.setdefault(entry["resource"], []).append(_encoder.encode(entry))
    chunks: list[tuple[str, list[bytes]]] = []
    for resource, encoded in by_resource.items():
        current: list[bytes] = []
        size = 2
        for item in encoded:
            if current and size + len(item) + 1 > limit:
                chunks.append((resource, current))
                current, size = [], 2
            current.append(item)
            size += len(item) + 1
        chunks.append((resource, current))
    count = len(chunks)
    return [
        Part(resource, b"[" + b",".join(items) + b"]", index, count)
        for index, (resource, items) in enumerate(chunks, 1)
    ]


def parse_part(headers: Mapping[str, str] | None) -> PartHeaders | None:
    """A message's place in its batch, or None if it is not one of ours."""
    if not headers:
        return None
    lower, upper, part = headers.get(LOWER), headers.get(UPPER), headers.get(PART)
    if lower is None or upper is None or part is None:
        return None
    matched = _PART.match(part)
    if not (matched and _SNAPSHOT.match(lower) and _SNAPSHOT.match(upper)):
        return None
    index, count = int(matched.group(1)), int(matched.group(2))
    if index > count:
        return None
    return PartHeaders(lower, upper, index, count, omitted=OMITTED in headers)


def decode_entries(payload: bytes) -> list[Row]:
    """A part's entries as rows like those read from the log (with ``txid``)."""
    return [msgspec.structs.asdict(entry) for entry in _decoder.decode(payload)]
