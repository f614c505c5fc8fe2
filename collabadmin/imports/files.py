"""Reading an imported file: a CSV or an XLSX workbook as its header and its lines.

A line is numbered as a text editor numbers it (the header is line 1; a
quoted cell holding line breaks spans several); blank lines are skipped.
What cannot be read (not UTF-8, a NUL character, a quote left open, not a
workbook, no header) is a 4xx naming the line where it can.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from dataclasses import dataclass
from typing import Any

from collabadmin.errors import BadRequest, PayloadTooLarge, UnsupportedMediaType

__all__ = ["CSV", "XLSX", "XLSX_MAX_INFLATED", "Line", "read_csv", "read_file", "read_xlsx"]

XLSX_MAX_INFLATED = 256 * 1024 * 1024
"""Bytes the parts of a workbook may hold once inflated (a zip bomb is refused unread)."""

CSV = "text/csv"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True, slots=True)
class Line:
    """One line of the file after the header: its number and its cells' text."""

    number: int
    cells: list[str]


def read_file(body: bytes, media_type: str) -> tuple[list[str], list[Line]]:
    """The header and lines of a file of ``media_type`` (:data:`CSV` or :data:`XLSX`)."""
    return read_xlsx(body) if media_type == XLSX else read_csv(body)


def _text(body: bytes) -> str:
    if body.startswith(b"\xef\xbb\xbf"):
        body = body[3:]
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = body[: exc.start].count(b"\n") + 1
        raise UnsupportedMediaType(
            f"The file is not UTF-8 text (line {line}); save it as CSV UTF-8.", line=line
        ) from None
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        raise BadRequest(f"Line {line} holds a NUL character.", line=line)
    return text


def read_csv(body: bytes) -> tuple[list[str], list[Line]]:
    """The header and the lines of a CSV file (RFC 4180, UTF-8, a BOM allowed); 4xx if malformed."""
    reader = csv.reader(io.StringIO(_text(body), newline=""), strict=True)
    header: list[str] | None = None
    lines: list[Line] = []
    start = 1
    try:
        for cells in reader:
            number, start = start, reader.line_num + 1
            if not cells or cells == [""]:
                continue  # a blank line
            if header is None:
                header = cells
            else:
                lines.append(Line(number, cells))
    except csv.Error as exc:
        line = reader.line_num
        raise BadRequest(
            f"The CSV is malformed at line {line}: {exc} (is a quote left open?).", line=line
        ) from None
    if header is None:
        raise BadRequest("The file is empty: its first line must name the columns.")
    return header, lines


_FORMULA_TYPES = frozenset({"ArrayFormula", "DataTableFormula"})


def _xlsx_cell(value: Any) -> str:
    if value is None:
        return ""
    if type(value).__name__ in _FORMULA_TYPES:
        # An array or data-table formula: refused on its line as any formula is.
        return "=" + str(getattr(value, "text", "") or "").lstrip("=")
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    return str(value)


def _check_inflated(body: bytes) -> None:
    """413 for a workbook whose parts would inflate beyond :data:`XLSX_MAX_INFLATED`.

    Read from the zip's directory before anything is inflated; a body that
    is not a zip is left to openpyxl's 400.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(body)) as archive:
            inflated = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, ValueError, OSError):
        return
    if inflated > XLSX_MAX_INFLATED:
        raise PayloadTooLarge(
            f"The XLSX workbook would take {inflated} bytes once unpacked; at most"
            f" {XLSX_MAX_INFLATED}.",
            limit=XLSX_MAX_INFLATED,
        )


def read_xlsx(body: bytes) -> tuple[list[str], list[Line]]:
    """The header and lines of the first sheet of an XLSX workbook; 400 if it is not one."""
    from openpyxl import load_workbook  # noqa: PLC0415 - only XLSX imports need it

    _check_inflated(body)
    try:
        # Formulas as written (=...), not their cached results: a formula is
        # refused on its line as in a CSV, never imported as a value it may
        # not even hold (a formula saved without its result reads as empty).
        workbook = load_workbook(io.BytesIO(body), read_only=True, data_only=False)
    except Exception:
        raise BadRequest("The file is not an XLSX workbook.") from None
    try:
        sheet = workbook.worksheets[0]
        header: list[str] | None = None
        lines: list[Line] = []
        for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            cells = [_xlsx_cell(v) for v in values]
            while cells and cells[-1] == "":
                cells.pop()
            if not cells:
                continue
            if any("\x00" in c for c in cells):
                raise BadRequest(f"Line {number} holds a NUL character.", line=number)
            if header is None:
                header = cells
            else:
                # A sheet holds no trailing empty cells: they are empty, not missing.
                cells += [""] * (len(header) - len(cells))
                lines.append(Line(number, cells))
    finally:
        workbook.close()
    if header is None:
        raise BadRequest(
            "The workbook's first sheet is empty: its first row must name the columns."
        )
    return header, lines
