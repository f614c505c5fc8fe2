"""``python -m bench all`` (or ``python -m bench hub listing ...``): run benchmarks in turn.

Each benchmark is its own module with its own options (``python -m
bench.hub --help``); this runner starts each with its defaults as a separate
process, one after another (they would skew each other's figures on a
shared machine), and prints their tables as they come. Results with the
date and the machine go in docs/benchmarks.md.
"""

from __future__ import annotations

import subprocess
import sys
import time

BENCHMARKS = {
    "patch": "PATCH throughput and latency against pgbench running the same UPDATE",
    "listing": "list pages on 1,000,000 courses against the same statements in the database",
    "hub": "commit→socket latency, fan-out against a bare broadcast, memory per socket",
    "sockets_plot": "latency percentiles at 100, 1,000 and 5,000 sockets, as a PNG",
    "audit": "audit queries on 1,000,000 entries; what sealing costs writers",
    "verify": "incremental against full verification of the audit chain on 1,000,000 entries",
    "workflows": "re-evaluating 10,000 workflow runs after a change batch",
    "views": "course_overview on 100,000 courses: cost per batch by keys touched; commit→frame",
    "load": "1,000 editors read-modify-PATCH with presence for 5 minutes; lost updates",
    "login_burst": "parallel wrong sign-ins: password checks, refusals and server memory",
    "soak": "10 minutes of mixed load; server memory, descriptors and connections",
    "browser": "time to a list's first rows and to open a record in Chromium; bundle sizes",
    "adopt": "serve start-up on an adopted schema of 500 tables, next to the demo's",
    "bulk": "bulk update of 10,000 rows and import of 100,000, audited, next to UPDATE and COPY",
}


def main(argv: list[str]) -> int:
    chosen = list(BENCHMARKS) if argv in ([], ["all"]) else argv
    unknown = [name for name in chosen if name not in BENCHMARKS]
    if unknown or "-h" in argv or "--help" in argv:
        print("usage: python -m bench all | " + " | ".join(BENCHMARKS))
        for name, what in BENCHMARKS.items():
            print(f"  {name:13} {what}")
        return 2 if unknown else 0
    failed = []
    for name in chosen:
        print(f"\n## {name}: {BENCHMARKS[name]}\n", flush=True)
        start = time.monotonic()
        result = subprocess.run([sys.executable, "-m", f"bench.{name}"], check=False)
        print(f"\n({name} took {time.monotonic() - start:.0f} s)", flush=True)
        if result.returncode != 0:
            failed.append(name)
    if failed:
        print(f"\nfailed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
