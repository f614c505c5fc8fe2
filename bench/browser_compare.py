"""Builds of the web app side by side in Chromium, taking turns, in one run.

``python -m bench.browser`` measures one build against the requests behind
it; this one puts builds (checkouts of any commit, each served by its own
code and committed bundle, against its own freshly seeded demo database)
next to each other. Each round loads ``/r/courses`` once in each build, in
turns (the order rotating every round), so whatever else the machine is doing
weighs on every build alike:

* **first rows**: a full load of ``/r/courses`` in a new tab, from navigation
  start to the frame that paints the first table row;
* **rows asked at**: when the list's own request went out, in that load;
* **open a course**: the click on a course's title to the frame that paints
  its form;

and the gzip size of what each build's ``index.html`` names (its first load).

    python -m bench.browser_compare --build old=../old --build now=. [--runs 15]

A build's directory is a checkout (``git worktree add ../old <commit>``):
its ``collabadmin`` serves, and its ``bench`` (or this one's, if it has
none) makes its database.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import statistics
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from playwright.sync_api import Browser, BrowserContext, sync_playwright

from bench._setup import machine, percentile, running_server
from bench.browser import (
    ARGS,
    LIST_ASKED,
    _first_rows,
    _open_record,
    _sign_in,
    first_load_gzip,
    watch_paints,
)

HERE = Path(__file__).resolve().parent.parent


@dataclass
class Build:
    name: str
    directory: Path
    rows: list[float] = field(default_factory=list)
    asked: list[float] = field(default_factory=list)
    opens: list[float] = field(default_factory=list)

    @property
    def env(self) -> dict[str, str]:
        return {"PYTHONPATH": f"{self.directory}{os.pathsep}{HERE}"}


def _database(build: Build) -> str:
    """A fresh demo database made by the build's own code (its migrations and seed)."""
    script = (
        "from bench._setup import fresh_database; "
        f"print(fresh_database('collabadmin_bench_compare_{build.name}'))"
    )
    made = subprocess.run(
        [sys.executable, "-c", script],
        env={**os.environ, **build.env},
        cwd=build.directory,
        check=True,
        capture_output=True,
        text=True,
    )
    return made.stdout.strip().splitlines()[-1]


@contextlib.contextmanager
def _served(build: Build, browser: Browser) -> Iterator[tuple[str, BrowserContext]]:
    # `python -m` looks in the working directory first: the server's is the build's.
    url = _database(build)
    with contextlib.chdir(build.directory), running_server(url, extra_env=build.env) as server:
        base = f"http://127.0.0.1:{server.port}"
        context = browser.new_context(viewport={"width": 1280, "height": 800})
        watch_paints(context)
        _sign_in(context.new_page(), base)
        yield base, context
        context.close()


def _load(build: Build, base: str, context: BrowserContext, *, keep: bool) -> None:
    page = context.new_page()
    first = _first_rows(page, base)
    asked = page.evaluate(LIST_ASKED)
    opened = _open_record(page)
    page.close()
    if keep:
        build.rows.append(first)
        build.opens.append(opened)
        if asked is not None:
            build.asked.append(float(asked))


def _cell(values: list[float]) -> str:
    return f"{statistics.median(values):.0f} ({percentile(values, 90):.0f})" if values else "n/a"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build", action="append", required=True, metavar="NAME=DIR")
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    options = parser.parse_args()
    builds = [Build(n, Path(d).resolve()) for n, d in (b.split("=", 1) for b in options.build)]
    started = f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC"
    print(f"# {started} · {machine()} · load average {os.getloadavg()[0]:.1f}")
    with sync_playwright() as playwright, contextlib.ExitStack() as stack:
        browser = playwright.chromium.launch(executable_path=options.chromium, args=ARGS)
        served = [stack.enter_context(_served(b, browser)) for b in builds]
        pairs = list(zip(builds, served, strict=True))
        for run in range(options.runs + 1):
            turn = run % len(pairs)
            for build, (base, context) in pairs[turn:] + pairs[:turn]:
                _load(build, base, context, keep=run > 0)  # the first round warms the caches
    print(f"# load average after: {os.getloadavg()[0]:.1f}")
    print("| ms, median (p90) | " + " | ".join(b.name for b in builds) + " |")
    print("|---|" + "---|" * len(builds))
    print("| first rows of /r/courses | " + " | ".join(_cell(b.rows) for b in builds) + " |")
    print("| the list's rows asked for at | " + " | ".join(_cell(b.asked) for b in builds) + " |")
    print("| open a course from the list | " + " | ".join(_cell(b.opens) for b in builds) + " |")
    sizes = [first_load_gzip(b.directory / "collabadmin" / "static") / 1000 for b in builds]
    print("| first load, gzip KB | " + " | ".join(f"{kb:.0f}" for kb in sizes) + " |")


if __name__ == "__main__":
    main()
