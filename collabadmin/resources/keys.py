"""Record keys as text: the one encoding used in URLs, topics, the change log, drafts and runs.

A key is the values of the key columns, in key order. As text (API.md), each
value's text is percent-encoded and the parts are joined by ``,``:
``film_actor`` ``(1, 23)`` is ``1,23``; a text value ``a,b%`` is ``a%2Cb%25``.

The canonical form encodes exactly ``%`` (as ``%25``) and ``,`` (as ``%2C``)
and nothing else, so the server, the capture trigger (``collabadmin_row_key``
in the database, migration ``0012_composite_keys``) and :meth:`Resource.key_sql`
all write the same text for the same row; the change log, drafts, workflow
runs and topics compare keys as that text. Decoding accepts any
percent-encoding (a browser's ``encodeURIComponent`` encodes more), so a
URL need not be canonical, but a topic name must be (it is matched as text).

A value's text is PostgreSQL's JSON text of it (``to_jsonb(v) #>> '{}'``):
``42``, ``2026-01-31``, a UUID in lower case, ``true``.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote, unquote

__all__ = ["decode_key", "encode_key", "encode_part", "key_url", "value_text"]


def encode_part(text: str) -> str:
    """One key value's text, escaped so that it can be joined with ``,``."""
    return text.replace("%", "%25").replace(",", "%2C")


def encode_key(values: Sequence[str]) -> str:
    """The key's text: each value's text percent-encoded, joined by ``,``."""
    return ",".join(encode_part(v) for v in values)


def decode_key(text: str, n: int) -> tuple[str, ...] | None:
    """The ``n`` value texts of a key written as text; None when it cannot be one.

    A single-column key is the whole text, percent-decoded (a ``,`` in it
    needs no escaping). Otherwise the parts are split on ``,`` first, then
    each decoded, so an escaped ``%2C`` stays inside its value. A composite
    key's text with no bare ``,`` cannot be in that form (it would have
    ``n - 1`` of them): it is the whole key text percent-encoded once more,
    as generic URL builders (``encodeURIComponent`` of ``1,23``) send it,
    and is decoded once before splitting. Wrong arity,
    an empty key or a percent-encoding that is not UTF-8 is None (callers
    answer 404: no record can have that key).
    """
    if n < 1 or not text:
        return None
    if n > 1 and "," not in text:
        text = unquote(text)
    parts = [text] if n == 1 else text.split(",")
    if len(parts) != n:
        return None
    try:
        return tuple(unquote(p, errors="strict") for p in parts)
    except UnicodeDecodeError:
        return None


def key_url(key: str) -> str:
    """A key's text as a URL path segment (``/`` and the rest escaped; ``,`` kept)."""
    return quote(key, safe=",%")


def value_text(value: Any) -> str:
    """A key value read from the database as the text the change log holds for it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    return str(value)
