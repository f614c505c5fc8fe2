"""Field values as spreadsheet cells, both ways: what an export writes, what an import reads.

One text per value, chosen so that a file exported and imported unchanged
leaves every record ``unchanged``:

* an empty cell is NULL (for a text field that cannot be NULL, the empty
  string);
* numbers as their exact text (a decimal keeps its scale, ``12.50``);
  NaN and the infinities as ``NaN``, ``Infinity``, ``-Infinity``;
* booleans ``true`` / ``false`` (an import also reads ``1``/``0``,
  ``yes``/``no``);
* dates, times, date-times and durations in ISO 8601, UUIDs as text,
  binary as base64 (the record body's JSON forms);
* json and arrays as their JSON text (``["a","b"]``);
* a relation as the related record's key (an import also takes the related
  record's display value, see :mod:`collabadmin.imports.relations`).

Spreadsheet safety: a text cell beginning with ``=``, ``+``, ``-``, ``@``, a
tab or a carriage return is a formula to Excel, LibreOffice and Google
Sheets (CSV injection). Export prefixes such a cell with ``'``, which
spreadsheets show as text and do not keep; an import removes one leading
``'`` from a cell that starts with ``'`` followed by one of those
characters, so the value comes back as it was. A value that itself starts
with ``'=`` is exported with one more ``'`` and comes back too. Numbers
(integer, decimal, float fields) are never prefixed: ``-5`` is a number,
not a formula. An imported text cell starting with ``=`` and no ``'`` is
refused on its line (a formula, not data).
"""

from __future__ import annotations

import re
from typing import Any

import msgspec

from collabadmin.db.json import exact_float
from collabadmin.resources.fields import Field, ValueInvalid

__all__ = ["FORMULA", "cell_text", "cell_value", "neutralise", "restore"]

_NUMERIC = frozenset({"integer", "decimal", "float"})
FORMULA = re.compile(r"'*[=+\-@\t\r]")
_encoder = msgspec.json.Encoder(decimal_format="number")
# json cells read as the database's json is read: numbers exact (12.50 stays 12.50).
_json_decoder = msgspec.json.Decoder(float_hook=exact_float)
_TRUE = frozenset({"true", "1", "yes", "y", "t"})
_FALSE = frozenset({"false", "0", "no", "n", "f"})


def neutralise(text: str) -> str:
    """``text`` with a leading ``'`` if a spreadsheet would read it as a formula."""
    return "'" + text if FORMULA.match(text) else text


def restore(text: str) -> str:
    """The inverse of :func:`neutralise`: one leading ``'`` removed before a formula sign."""
    if text.startswith("'") and FORMULA.match(text[1:]):
        return text[1:]
    return text


def cell_text(f: Field, value: Any) -> str:
    """A field's value (its JSON form, as a record body holds it) as one cell's text."""
    if value is None:
        return ""
    if f.type in ("json", "array"):
        text = _encoder.encode(value).decode()
    elif isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, str):
        text = value
    else:
        text = _encoder.encode(value).decode()
    return text if f.type in _NUMERIC else neutralise(text)


def cell_value(f: Field, raw: str) -> Any:
    """One imported cell's text as the JSON value a record body would hold; ValueInvalid if not.

    The value still goes through the field's own checks (:meth:`Field.check`)
    when the line is validated; this only reads the text as the field's kind.
    """
    if "\x00" in raw:
        raise ValueInvalid("Must not contain NUL characters.")
    if raw == "":
        if f.type in ("string", "text") and not f.nullable:
            return ""
        return None
    if f.type in _NUMERIC:
        text = raw.strip()
        if f.type == "decimal" or text in ("NaN", "Infinity", "-Infinity"):
            return text
        try:
            number = msgspec.json.decode(text)
        except msgspec.DecodeError:
            raise ValueInvalid(
                "Must be an integer." if f.type == "integer" else "Must be a number."
            ) from None
        if f.type == "integer" and not isinstance(number, int):
            raise ValueInvalid("Must be an integer.")
        if isinstance(number, bool) or not isinstance(number, int | float):
            raise ValueInvalid("Must be a number.")
        return number
    if raw.startswith("="):
        raise ValueInvalid(
            "Looks like a spreadsheet formula; start the cell with ' to store it as text."
        )
    text = restore(raw)
    if f.type == "boolean":
        lowered = text.strip().lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        raise ValueInvalid("Must be true or false.")
    if f.type in ("json", "array"):
        try:
            decoded = _json_decoder.decode(text)
        except msgspec.DecodeError:
            kind = 'a JSON list, such as ["a", "b"]' if f.type == "array" else "JSON"
            raise ValueInvalid(f"Must be {kind}.") from None
        return decoded
    return text
