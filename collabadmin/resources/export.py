"""Exports: ``GET /api/r/{resource}.csv`` and ``.xlsx``, the rows a list shows, streamed.

The same list query as ``GET /api/r/{resource}`` (filters, sort, search,
``deleted``), every page of it: the rows are read a page at a time
(:data:`EXPORT_PAGE` rows, keyset, through
:meth:`~collabadmin.resources.service.RecordService.list_page`, so within
the reader's row scope and with only the fields it may read) and each page
is written out before the next is read, so the server holds one page
whatever the size of the list. ``limit`` and ``cursor`` are ignored: an
export starts at the first row and ends at the last.

``columns=a,b`` chooses the fields and their order (default: every field
the reader may read, in the resource's order). A field that does not exist
or that the reader may not read is a 400 that says the same of both, so
the answer never reveals a hidden field. The first row holds the fields'
labels; the cells are :func:`~collabadmin.resources.cells.cell_text`'s,
which an import reads back unchanged.

CSV is UTF-8 with a byte-order mark (what spreadsheets need to read it as
UTF-8) and CRLF line ends (RFC 4180). XLSX is written by openpyxl in
write-only mode (rows go to a temporary file as they come, never held),
every cell as text, then sent from that file in chunks; the control
characters XML cannot hold (all below U+0020 but tab, line feed and
carriage return) are written as U+FFFD there (CSV keeps them).
"""

from __future__ import annotations

import asyncio
import csv
import io
import re
import tempfile
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import quote

import msgspec

from collabadmin.db.engine import Actor
from collabadmin.errors import BadRequest
from collabadmin.resources.cells import cell_text, neutralise
from collabadmin.resources.list_params import RecordListQuery
from collabadmin.resources.resource import Resource
from collabadmin.resources.service import RecordService

__all__ = ["EXPORT_PAGE", "EXPORT_SUFFIXES", "Export", "export_columns", "start_export"]

EXPORT_PAGE = 1000
ExportFormat = Literal["csv", "xlsx"]
EXPORT_SUFFIXES: dict[str, ExportFormat] = {".csv": "csv", ".xlsx": "xlsx"}
MEDIA_TYPES: dict[ExportFormat, str] = {
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
MAX_COLUMNS = 500
_XLSX_CHUNK = 64 * 1024


def export_columns(resource: Resource, readable: frozenset[str], raw: str | None) -> list[str]:
    """The fields an export writes, in order; 400 for an unknown (or hidden) or repeated one."""
    if raw is None or not raw.strip():
        return [name for name in resource.fields if name in readable]
    names = [part.strip() for part in raw.split(",")]
    if len(names) > MAX_COLUMNS:
        raise BadRequest(f"At most {MAX_COLUMNS} columns.", parameter="columns")
    seen: set[str] = set()
    for name in names:
        if name not in resource.fields or name not in readable:
            raise BadRequest(f"Cannot export unknown field {name!r}.", parameter="columns")
        if name in seen:
            raise BadRequest(f"Field {name!r} appears twice in columns.", parameter="columns")
        seen.add(name)
    return names


def _filename(resource: Resource, fmt: ExportFormat) -> str:
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", resource.name) or "export"
    return (
        f'attachment; filename="{safe}.{fmt}"; '
        f"filename*=UTF-8''{quote(resource.name, safe='')}.{fmt}"
    )


@dataclass(frozen=True, slots=True)
class Export:
    """A checked export, ready to stream: its body's chunks, media type and headers."""

    chunks: AsyncIterator[bytes]
    media_type: str
    disposition: str


def _csv_bytes(rows: Sequence[Sequence[str]]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue().encode()


async def start_export(
    records: RecordService,
    actor: Actor,
    name: str,
    *,
    fmt: ExportFormat,
    params: RecordListQuery,
    columns: str | None,
) -> Export:
    """Check the export (permission, query, columns: any 4xx now), then stream it."""
    resource = records.resource(actor, name, "view")
    readable = records.policy.readable_fields(actor, resource)
    fields = export_columns(resource, readable, columns)
    query = msgspec.structs.replace(params, limit=EXPORT_PAGE, cursor=None)
    # The first page is read before the response starts, so that a bad
    # filter or sort is a 400, not a broken download.
    first = await records.list_page(actor, name, query)
    # A label is text too: one that looks like a formula is neutralised as a cell is.
    header = [neutralise(resource.fields[n].label) for n in fields]

    def cells(items: Sequence[dict[str, Any]]) -> list[list[str]]:
        return [[cell_text(resource.fields[n], item[n]) for n in fields] for item in items]

    async def pages() -> AsyncIterator[list[list[str]]]:
        page = first
        while True:
            yield cells(page.items)
            if page.next_cursor is None:
                return
            cursor = page.next_cursor
            page = await records.list_page(
                actor, name, msgspec.structs.replace(query, cursor=cursor)
            )

    if fmt == "csv":
        chunks = _csv_chunks(header, pages())
    else:
        chunks = _xlsx_chunks(resource, header, pages())
    return Export(chunks, MEDIA_TYPES[fmt], _filename(resource, fmt))


async def _csv_chunks(
    header: list[str], pages: AsyncIterator[list[list[str]]]
) -> AsyncIterator[bytes]:
    yield b"\xef\xbb\xbf" + _csv_bytes([header])
    async for rows in pages:
        if rows:
            yield _csv_bytes(rows)


async def _xlsx_chunks(
    resource: Resource, header: list[str], pages: AsyncIterator[list[list[str]]]
) -> AsyncIterator[bytes]:
    from openpyxl import Workbook  # noqa: PLC0415 - only exports in XLSX need it
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE  # noqa: PLC0415

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=re.sub(r"[\[\]:*?/\\]", "_", resource.label_plural)[:31])
    sheet.append(header)

    def append(rows: list[list[str]]) -> None:
        for row in rows:
            # XML 1.0 cannot hold most control characters: shown as U+FFFD.
            sheet.append([ILLEGAL_CHARACTERS_RE.sub("\ufffd", cell) for cell in row])

    with tempfile.TemporaryFile() as out:
        async for rows in pages:
            await asyncio.to_thread(append, rows)
        await asyncio.to_thread(workbook.save, out)
        out.seek(0)
        while True:
            chunk = await asyncio.to_thread(out.read, _XLSX_CHUNK)
            if not chunk:
                return
            yield chunk
