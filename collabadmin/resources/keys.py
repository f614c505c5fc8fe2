"""Record keys as text: the one encoding used in URLs, topics, the change log, drafts and runs.

A key is the values of the key columns, in key order. As text (API.md and
the capture trigger, ``collabadmin_capture`` of migration
``0012_capture_keeps_row_counts``): a single-column key is its value's text;
a composite key is each value's text percent-encoded as
``urllib.parse.quote(value, safe="")`` (everything but ``A-Z a-z 0-9 - . _ ~``),
joined by ``,``: ``film_actor`` ``(1, 23)`` is ``1,23``; ``('a,b', '2/3')``
is ``a%2Cb,2%2F3``. The change log, drafts, workflow runs and topics compare
keys as that text, so :func:`encode_key`, :meth:`Resource.key_sql` and the
trigger must agree (``collabadmin.db.tracking.key_text`` is the same rule).

In a URL, a single key is its value percent-encoded as usual; a composite
key's text is already URL-safe. Decoding a composite key accepts any
percent-encoding, and also the whole key text encoded once more (what a
generic URL builder makes of ``1,23``: ``1%2C23``).

A value's text is PostgreSQL's JSON text of it (``to_jsonb(v) #>> '{}'``):
``42``, ``2026-01-31``, a UUID in lower case, ``true``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote, unquote

__all__ = ["decode_key", "decode_url_key", "encode_key", "encode_part", "key_url", "value_text"]


def encode_part(text: str) -> str:
    """One value of a composite key, escaped so that it can be joined with ``,``."""
    return quote(text, safe="")


def encode_key(values: Sequence[str]) -> str:
    """The key's text: one value as it is; several each percent-encoded, joined by ``,``."""
    if len(values) == 1:
        return values[0]
    return ",".join(encode_part(v) for v in values)


def decode_key(text: str, n: int) -> tuple[str, ...] | None:
    """The ``n`` value texts of a key's text (as the change log holds it); None if it cannot be.

    A single-column key is the whole text. A composite key is split on
    ``,`` first, then each part percent-decoded, so an escaped ``%2C`` stays
    inside its value; a composite key's text with no bare ``,`` (it would
    have ``n - 1``) is the whole text encoded once more and is decoded once
    before splitting. Wrong arity, an empty key or a percent-encoding that
    is not UTF-8 is None (callers answer 404: no record can have that key).
    """
    if n < 1 or not text:
        return None
    if n == 1:
        return (text,)
    if "," not in text:
        text = unquote(text)
    parts = text.split(",")
    if len(parts) != n:
        return None
    try:
        return tuple(unquote(p, errors="strict") for p in parts)
    except UnicodeDecodeError:
        return None


def decode_url_key(segment: str, n: int) -> tuple[str, ...] | None:
    """A key as a URL path segment carries it (still percent-encoded, see key_path)."""
    if n == 1:
        try:
            return decode_key(unquote(segment, errors="strict"), 1)
        except UnicodeDecodeError:
            return None
    return decode_key(segment, n)


def key_url(key: str, n: int) -> str:
    """A key's text as a URL path segment (a composite key's text is one already)."""
    return quote(key, safe="") if n == 1 else key


def value_text(value: Any) -> str:
    """A key value read from the database as the text the change log holds for it.

    That text is PostgreSQL's JSON text of the value, so date and time
    values follow its rules rather than Python's ``isoformat``: fractional
    seconds without trailing zeros (``10:00:00.5``, not ``10:00:00.500000``)
    and a ``timetz`` offset without zero minutes (``+02``). A ``timestamptz``
    is written in the writing session's ``TimeZone`` (docs/adopting.md).
    """
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime | dt.time):
        return _time_text(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bytes | bytearray | memoryview):
        return "\\x" + bytes(value).hex()
    return str(value)


def _time_text(value: dt.datetime | dt.time) -> str:
    text = value.replace(microsecond=0, tzinfo=None).isoformat()
    if value.microsecond:
        text += "." + f"{value.microsecond:06d}".rstrip("0")
    offset = value.utcoffset()
    if offset is None:
        return text
    seconds = int(offset.total_seconds())
    sign = "-" if seconds < 0 else "+"
    hours, rest = divmod(abs(seconds), 3600)
    minutes, secs = divmod(rest, 60)
    text += f"{sign}{hours:02d}"
    if minutes or secs or isinstance(value, dt.datetime):
        text += f":{minutes:02d}"
    if secs:
        text += f":{secs:02d}"
    return text
