"""A large export is streamed: the server reads the rows page by page as the client reads."""

from __future__ import annotations

import csv
import io

import httpx
import psycopg

from tests.conftest import ClientFor, Served

ROWS = 20_000


async def test_a_large_export_is_read_page_by_page_while_it_is_sent(
    client_for: ClientFor, served: Served, conninfo: str
) -> None:
    editor = await client_for("editor")
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO courses (title, short_name, description, status)"
            " SELECT 'Bulk ' || lpad(g::text, 6, '0'), 'b' || g, repeat('x', 1000), 'draft'"
            " FROM generate_series(1, %s) g",
            (ROWS,),
        )
    headers = {"Authorization": editor.headers["Authorization"]}
    params = {"sort": "title", "columns": "id,title,description"}
    async with (
        httpx.AsyncClient(base_url=served.http, headers=headers, timeout=60) as client,
        client.stream("GET", "/api/r/courses.csv", params=params) as response,
    ):
        assert response.status_code == 200
        assert "content-length" not in response.headers
        assert response.headers["transfer-encoding"] == "chunked"
        chunks = response.aiter_bytes()
        received = [await anext(chunks)]
        # About 20 MB are still to come, far more than the socket's buffers
        # hold: a row committed now sorts last and is in the file only if
        # the server reads its pages as the client takes them.
        with psycopg.connect(conninfo, autocommit=True) as conn:
            conn.execute(
                "INSERT INTO courses (title, short_name, status)"
                " VALUES ('zzz added during the export', 'late', 'draft')"
            )
        received.extend([chunk async for chunk in chunks])
    assert len(received) > 10
    rows = list(csv.reader(io.StringIO(b"".join(received).decode("utf-8-sig"), newline="")))
    assert rows[0] == ["Id", "Title", "Description"]
    assert len(rows) == 1 + 60 + ROWS + 1
    assert rows[-1][1] == "zzz added during the export"
