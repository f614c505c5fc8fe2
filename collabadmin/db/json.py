"""json and jsonb as PostgreSQL sends them, read with their numbers exact.

The change log's diffs hold numeric columns as JSON numbers (``to_jsonb``),
and ``12.50`` must stay ``12.50`` in history, conflicts and websocket frames,
as it is in record bodies; a float would print ``12.5``. Every connection
reads json through :func:`exact_json_loads` (:mod:`collabadmin.db.engine`).
"""

from __future__ import annotations

import decimal
from typing import Any

import msgspec

__all__ = ["exact_float", "exact_json_loads"]


def _float_or_decimal(text: str) -> float | decimal.Decimal:
    # A float only when it prints back as the same text: "12.50" (a numeric
    # with its scale) or 21 significant digits stay exact as Decimal.
    number = float(text)
    return number if repr(number) == text else decimal.Decimal(text)


exact_float = _float_or_decimal
"""msgspec's ``float_hook`` for exact numbers, for decoders of other JSON the log wrote."""

_exact_decoder = msgspec.json.Decoder(float_hook=_float_or_decimal)


def exact_json_loads(data: str | bytes) -> Any:
    """Decode json/jsonb from PostgreSQL keeping numbers exact (numeric in diffs)."""
    return _exact_decoder.decode(data)
