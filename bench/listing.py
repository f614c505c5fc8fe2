"""List pages on 1,000,000 courses: each indexed sort and filter, through the HTTP API.

Loads the courses in SQL (capture triggers off for the load only: this
measures reading), then for each list shape times 200 first pages (and the
second page by keyset cursor for one of them) through ``GET /api/r/courses``
as an admin. The baseline is the database running the very statements the
server builds (page query and capped count), from the same process, with
no HTTP, no JSON and no permission work: the ratio shows what the API adds.

    python -m bench.listing [--courses 1000000] [--requests 200]
"""

from __future__ import annotations

import argparse
import asyncio
import time
from urllib.parse import parse_qs, urlsplit

import psycopg

from bench._http import Connection
from bench._setup import fresh_database, machine, percentile, running_server
from collabadmin.db.engine import Database, libpq_url
from collabadmin.demo.resources import demo_resources
from collabadmin.resources.listing import build_count_select, build_page_select
from collabadmin.resources.query import parse_list_query
from collabadmin.resources.resource import Registry

LOAD = """
INSERT INTO courses (title, short_name, description, status, start_date, category_id,
                     university_id)
SELECT (ARRAY['Intro to', 'Advanced', 'Seminar on', 'Topics in', 'Applied'])[1 + n %% 5]
       || ' ' || (ARRAY['Algebra', 'Botany', 'Chemistry', 'Law', 'Music', 'Physics',
                        'Statistics', 'Zoology'])[1 + (n / 5) %% 8] || ' ' || n,
       'c-' || n,
       'Generated course ' || n,
       (ARRAY['draft', 'open', 'closed'])[1 + n %% 3],
       date '2026-01-01' + (n %% 1500),
       1 + n %% 20,
       1 + n %% 50
  FROM generate_series(1, %(count)s) AS n
"""

SHAPES = {
    "default sort (title)": "/api/r/courses?limit=50",
    "sort=-start_date": "/api/r/courses?sort=-start_date&limit=50",
    "filter status=open, sort title": "/api/r/courses?filter[status]=open&limit=50",
    "filter category_id=7, sort id": "/api/r/courses?filter[category_id]=7&sort=id&limit=50",
    "filter start_date >= 2027-06-01, sort start_date": (
        "/api/r/courses?filter[start_date][gte]=2027-06-01&sort=start_date&limit=50"
    ),
    "filter university_id in (3,4), sort -id": (
        "/api/r/courses?filter[university_id][in]=3,4&sort=-id&limit=50"
    ),
}


async def api_latency(port: int, token: str, requests: int) -> dict[str, tuple[float, float]]:
    conn = await Connection.open("127.0.0.1", port)
    headers = {"Authorization": f"Bearer {token}"}
    results: dict[str, tuple[float, float]] = {}
    shapes = dict(SHAPES)
    first = (await conn.request("GET", SHAPES["default sort (title)"], headers=headers)).json()
    shapes["second page by keyset cursor (title)"] = (
        f"{SHAPES['default sort (title)']}&cursor={first['next_cursor']}"
    )
    for name, path in shapes.items():
        for _ in range(10):
            await conn.request("GET", path, headers=headers)
        samples = []
        for _ in range(requests):
            start = time.perf_counter()
            reply = await conn.request("GET", path, headers=headers)
            samples.append(time.perf_counter() - start)
            assert reply.status == 200, reply.body[:200]
        results[name] = (percentile(samples, 50) * 1000, percentile(samples, 99) * 1000)
    await conn.close()
    return results


async def database_latency(url: str, paths: dict[str, str], requests: int) -> dict[str, float]:
    """p50 of the server's own statements for each shape, run directly."""
    registry = Registry(demo_resources())
    resource = registry.get("courses")
    db = Database(url, pool_size=1)
    results: dict[str, float] = {}
    async with db.connection() as tx:
        for name, path in paths.items():
            params = parse_qs(urlsplit(path).query)
            query = parse_list_query(
                resource, params, frozenset(resource.fields), default_limit=50, max_limit=500
            )
            page, count = build_page_select(resource, query, None), None
            if query.after is None:
                count = build_count_select(resource, query, None)
            samples = []
            for i in range(requests + 10):
                start = time.perf_counter()
                await tx.rows(page)
                if count is not None:
                    await tx.value(count)
                if i >= 10:
                    samples.append(time.perf_counter() - start)
            results[name] = percentile(samples, 50) * 1000
    await db.dispose()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--courses", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    print(f"# {machine()}")
    url = fresh_database("collabadmin_bench_listing")
    conninfo = libpq_url(url)
    start = time.perf_counter()
    with psycopg.connect(conninfo, autocommit=True) as conn:
        have = conn.execute("SELECT count(*) FROM courses").fetchone()
        # The capture triggers are off for the bulk load only (this measures reads).
        conn.execute("SET session_replication_role = replica")
        conn.execute(LOAD, {"count": max(0, args.courses - (have[0] if have else 0))})
        conn.execute("SET session_replication_role = origin")
        conn.execute("VACUUM ANALYZE courses")
        total = conn.execute("SELECT count(*) FROM courses").fetchone()
    print(f"# {total[0] if total else 0:,} courses loaded in {time.perf_counter() - start:.0f} s")
    with running_server(url) as server:
        api = asyncio.run(api_latency(server.port, server.token, args.requests))
    base = asyncio.run(database_latency(url, dict(SHAPES), args.requests))
    print("| list page (limit 50) | p50 ms | p99 ms | database alone p50 ms | API / database |")
    print("|---|---|---|---|---|")
    for name, (p50, p99) in api.items():
        alone = base.get(name)
        ratio = f"{p50 / alone:.1f}x" if alone else "-"
        shown = f"{alone:.2f}" if alone else "-"
        print(f"| {name} | {p50:.1f} | {p99:.1f} | {shown} | {ratio} |")


if __name__ == "__main__":
    main()
