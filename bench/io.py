"""Export and import: 100,000 rows imported (each audited) next to COPY; server memory of an export.

In one run, on a fresh demo database and a real server (``collabadmin serve``):

* ``COPY`` of N course rows into ``courses`` (the capture trigger audits
  each row too): the database alone, the floor;
* the same N rows as a CSV file, imported through ``POST
  /api/r/courses/import``: the dry run (the preview), then the apply with
  that preview (one transaction, each row one change with ``source:
  "import"``);
* ``GET /api/r/courses.csv`` of every course (N and more), read to the
  end, with the server's peak resident memory (``VmHWM``, reset once the
  server has caught up on the COPY) before and after: an export is
  streamed page by page, so the peak should not grow with the rows.

    python -m bench.io [--rows 100000]

``python -m bench.bulk`` runs it too (its ``import`` part), after the bulk
update.
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import time

import httpx
import psycopg

from bench._setup import fresh_database, machine, process_tree_cpu, running_server
from collabadmin.db.engine import libpq_url

CSV = {"Content-Type": "text/csv"}


def memory_kb(pid: int, field: str) -> int:
    """``VmHWM`` (peak) or ``VmRSS`` of ``pid`` and its children, in kB (Linux)."""
    total = 0
    for each in _tree(pid):
        try:
            with open(f"/proc/{each}/status") as status:
                for line in status:
                    if line.startswith(field + ":"):
                        total += int(line.split()[1])
        except OSError:
            continue
    return total


def _tree(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as children:
            return [pid, *(int(p) for p in children.read().split())]
    except OSError:
        return [pid]


def reset_peak(pid: int) -> None:
    """Reset ``VmHWM`` of ``pid`` and its children to their resident size now (Linux)."""
    for each in _tree(pid):
        try:
            with open(f"/proc/{each}/clear_refs", "w") as clear:
                clear.write("5")
        except OSError:
            continue


def wait_until_idle(pid: int, *, settle: float = 15, quiet: int = 3, timeout: float = 600) -> float:
    """Seconds until the server, given at least ``settle`` s, has idled ``quiet`` seconds running.

    A server started on a database that has just taken 100,000 rows first
    catches up on them (the audit sealer and the evaluators wake on their
    own schedules); the export's memory is measured after that, so its peak
    is the export's own. Idle: under 5% of a core over a second.
    """
    started = time.perf_counter()
    last, idle = process_tree_cpu(pid), 0
    while time.perf_counter() - started < timeout:
        time.sleep(1)  # sleep-ok: a benchmark sampling the server's CPU
        now = process_tree_cpu(pid)
        idle = idle + 1 if now - last < 0.05 else 0
        last = now
        if idle >= quiet and time.perf_counter() - started >= settle:
            break
    return time.perf_counter() - started


def course_rows(count: int, tag: str) -> list[tuple[str, str, str, str]]:
    return [
        (f"{tag} course {n}", f"{tag}-{n}", f"Imported description {n}", "draft")
        for n in range(count)
    ]


def as_csv(rows: list[tuple[str, str, str, str]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(["title", "short_name", "description", "status"])
    writer.writerows(rows)
    return buffer.getvalue().encode()


def import_and_export(url: str, count: int = 100_000) -> None:
    """COPY of ``count`` rows, then an export and an import of as many through the server."""
    print(f"\n### import of {count:,} courses next to COPY; an export's peak memory\n")
    conninfo = libpq_url(url)

    started = time.perf_counter()
    with psycopg.connect(conninfo) as conn, conn.cursor() as cursor:
        with cursor.copy(
            "COPY courses (title, short_name, description, status) FROM STDIN"
        ) as copy:
            for row in course_rows(count, "copy"):
                copy.write_row(row)
        conn.commit()
    copy_seconds = time.perf_counter() - started
    print(f"COPY {count:,} rows (audited by the trigger)   {copy_seconds:8.2f} s")

    body = as_csv(course_rows(count, "import"))
    env = {"COLLABADMIN_IMPORT_MAX_BYTES": str(max(len(body) * 2, 64 << 20))}
    with running_server(url, extra_env=env) as server:
        pid = server.process.pid
        headers = {"Authorization": f"Bearer {server.token}"}
        with httpx.Client(
            base_url=f"http://127.0.0.1:{server.port}", headers=headers, timeout=3600
        ) as client:
            client.get("/api/r/courses", params={"limit": "1"}).raise_for_status()
            settled = wait_until_idle(pid)
            print(f"server idle after {settled:8.2f} s of start-up work (catching up on the COPY)")
            peak = memory_kb(pid, "VmHWM") / 1024
            print(f"server peak memory (VmHWM) during that work {peak:8.1f} MB")
            reset_peak(pid)
            before = memory_kb(pid, "VmHWM")
            started = time.perf_counter()
            received = 0
            lines = 0
            with client.stream("GET", "/api/r/courses.csv") as response:
                response.raise_for_status()
                for chunk in response.iter_bytes():
                    received += len(chunk)
                    lines += chunk.count(b"\n")
            export_seconds = time.perf_counter() - started
            after = memory_kb(pid, "VmHWM")
            print(
                f"export of {lines - 1:,} rows as CSV ({received / 1e6:.1f} MB)"
                f"   {export_seconds:8.2f} s"
            )
            print(
                f"server peak memory (VmHWM) before the export {before / 1024:8.1f} MB,"
                f" after {after / 1024:8.1f} MB"
            )

            started = time.perf_counter()
            preview = client.post("/api/r/courses/import", content=body, headers=CSV)
            preview.raise_for_status()
            preview_seconds = time.perf_counter() - started
            summary = preview.json()["summary"]
            print(f"import dry run of {count:,} rows   {preview_seconds:8.2f} s   {summary}")
            started = time.perf_counter()
            applied = client.post(
                "/api/r/courses/import",
                params={"dry_run": "false", "preview": str(preview.json()["preview"])},
                content=body,
                headers=CSV,
            )
            applied.raise_for_status()
            apply_seconds = time.perf_counter() - started
            print(
                f"import apply of {count:,} rows (each audited)   {apply_seconds:8.2f} s"
                f"   ({apply_seconds / copy_seconds:.1f}x COPY)"
            )
            print(f"server peak memory after the import {memory_kb(pid, 'VmHWM') / 1024:8.1f} MB")
    with psycopg.connect(conninfo) as conn:
        audited = conn.execute(
            "SELECT count(*) FROM collabadmin.collabadmin_change"
            " WHERE resource = 'courses' AND source = 'import'"
        ).fetchone()
    print(f"change log entries with source import: {audited[0] if audited else 0:,}")
    os.environ.pop("COLLABADMIN_IMPORT_MAX_BYTES", None)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()
    print(f"# bench.io on {machine()}, {args.rows:,} rows")
    import_and_export(fresh_database("collabadmin_bench_io"), args.rows)


if __name__ == "__main__":
    main()
