"""Start-up of ``collabadmin serve`` on an adopted schema of 500 tables, next to the demo's.

``python -m bench.adopt [--tables 500] [--runs 3]``

Creates a database of ``--tables`` tables (eight columns each of the common
types, a unique key, a foreign key to the previous table) and a view per
ten tables, runs ``collabadmin db upgrade`` and ``collabadmin db track
--all`` as a user would, then starts ``collabadmin serve`` with no ``--app``
and measures the time from starting the process until ``/health`` answers
200. The demo (``--app collabadmin.demo.app:create_demo_app``, on a
migrated, unseeded database) is started the same way in the same run. It
also times :func:`~collabadmin.resources.reflection.adopt_database` alone,
in this process. Each figure is the median of ``--runs`` starts.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

import httpx
import psycopg
from sqlalchemy.engine import make_url

from bench._setup import DEMO_APP, SERVER_URL, free_port, machine
from collabadmin.db.engine import libpq_url, normalise_url
from collabadmin.resources.reflection import adopt_database

CLI = [sys.executable, "-m", "collabadmin.cli"]


def _database(name: str) -> str:
    admin = libpq_url(normalise_url(SERVER_URL))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return (
        make_url(normalise_url(SERVER_URL)).set(database=name).render_as_string(hide_password=False)
    )


def _cli(url: str, *args: str) -> str:
    done = subprocess.run(
        [*CLI, *args],
        env={**os.environ, "DATABASE_URL": url},
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"collabadmin {' '.join(args)} failed: {done.stderr}")
    return done.stdout


def _schema(tables: int) -> str:
    statements = []
    for i in range(tables):
        parent = f", parent_id integer REFERENCES t{i - 1:04d}" if i else ""
        statements.append(
            f"CREATE TABLE t{i:04d} (id serial PRIMARY KEY, name text NOT NULL,"
            " code varchar(20) UNIQUE, amount numeric(10, 2), created_at timestamptz"
            " NOT NULL DEFAULT now(), active boolean NOT NULL DEFAULT true, data jsonb,"
            f" notes text{parent})"
        )
        if i % 10 == 9:
            statements.append(f"CREATE VIEW v{i:04d} AS SELECT id, name FROM t{i:04d}")
    return ";\n".join(statements)


def _start(url: str, args: list[str]) -> tuple[float, list[str]]:
    """Seconds from spawning ``collabadmin serve`` until /health answers 200."""
    port = free_port()
    started = time.perf_counter()
    process = subprocess.Popen(
        [*CLI, "serve", "--port", str(port), *args],
        env={**os.environ, "DATABASE_URL": url},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = started + 120
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.perf_counter() > deadline:
                output = process.stdout.read() if process.stdout else ""
                raise SystemExit(f"server did not start: {output}")
            time.sleep(0.02)
        elapsed = time.perf_counter() - started
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=60)
    return elapsed, output.splitlines()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tables", type=int, default=500)
    parser.add_argument("--runs", type=int, default=3)
    options = parser.parse_args()

    print(f"# {machine()}", flush=True)
    adopted = _database("bench_adopt")
    _cli(adopted, "db", "upgrade")
    with psycopg.connect(libpq_url(adopted), autocommit=True) as conn:
        conn.execute(_schema(options.tables).encode())
    began = time.perf_counter()
    report = _cli(adopted, "db", "track", "--all")
    tracked = time.perf_counter() - began
    print(f"# db track --all: {report.splitlines()[-1]} in {tracked:.1f} s", flush=True)

    demo = _database("bench_adopt_demo")
    _cli(demo, "db", "upgrade", "--demo")

    reflect = []
    for _ in range(options.runs):
        began = time.perf_counter()
        adoption = adopt_database(adopted)
        reflect.append(time.perf_counter() - began)
    adopted_starts, demo_starts = [], []
    summary: list[str] = []
    for _ in range(options.runs):
        seconds, lines = _start(adopted, [])
        adopted_starts.append(seconds)
        summary = [line for line in lines if line.startswith("adopted ")]
        demo_starts.append(_start(demo, ["--app", DEMO_APP])[0])
    print(f"# {summary[0] if summary else ''}", flush=True)
    print("| what | resources | median s | runs |")
    print("|---|---|---|---|")
    print(
        f"| adopt_database() alone | {len(adoption.resources)} |"
        f" {statistics.median(reflect):.2f} | {options.runs} |"
    )
    print(
        f"| serve, adopted ({options.tables} tables + {options.tables // 10} views),"
        f" spawn to /health 200 | {len(adoption.resources)} |"
        f" {statistics.median(adopted_starts):.2f} | {options.runs} |"
    )
    print(
        f"| serve --app demo, spawn to /health 200 | 6 |"
        f" {statistics.median(demo_starts):.2f} | {options.runs} |"
    )


if __name__ == "__main__":
    main()
