"""What a person waits for in the web app, measured in Chromium.

Against the demo served by ``collabadmin serve``, signed in as an admin, in
headless Chromium (Debian's ``/usr/bin/chromium``, through Playwright):

* **first rows of a list**: a full load of ``/r/courses`` (a new tab: HTML,
  the bundle, ``/api/auth/me``, meta, the first page and its labels), from
  navigation start to the first table row on screen;
* **open a record**: from the click on a course's title in the list to its
  form on screen (the app's own navigation: record, ``OPTIONS``, history);

each next to its baseline in the same run: the browser fetching the API
requests behind it (the list page; the record and its ``OPTIONS``) with
no rendering, which is what the app's own work adds to. The bundle's
sizes (as sent: brotli, gzip) are printed too.

    python -m bench.browser [--runs 15] [--chromium /usr/bin/chromium]
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

from bench._setup import fresh_database, machine, percentile, running_server
from collabadmin.spa import STATIC_DIR

ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]  # fmt: skip

FETCH_LIST = """async () => {
  const t0 = performance.now();
  const r = await fetch('/api/r/courses?limit=50&sort=title');
  await r.json();
  return performance.now() - t0;
}"""

FETCH_RECORD = """async (pk) => {
  const t0 = performance.now();
  const [a, b] = await Promise.all([
    fetch('/api/r/courses/' + pk), fetch('/api/r/courses/' + pk, {method: 'OPTIONS'}),
  ]);
  await Promise.all([a.json(), b.json()]);
  return performance.now() - t0;
}"""


def _sign_in(page: Page, base: str) -> None:
    page.goto(f"{base}/login")
    page.get_by_label("Username").fill("bench")
    page.get_by_label("Password").fill("bench-password")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_test_id("current-user").wait_for()


def _first_rows(page: Page, base: str) -> float:
    page.goto(f"{base}/r/courses", wait_until="commit")
    page.locator("tbody tr").first.wait_for()
    return float(page.evaluate("performance.now()"))


def _open_record(page: Page) -> float:
    link = page.locator("tbody tr a").first
    page.evaluate("window.__t0 = performance.now()")
    link.click()
    page.locator("form input, form textarea").first.wait_for()
    return float(page.evaluate("performance.now() - window.__t0"))


def _row(name: str, values: list[float], baseline: list[float]) -> str:
    med, base = statistics.median(values), statistics.median(baseline)
    return (
        f"| {name} | {med:.0f} | {percentile(values, 90):.0f} | {base:.0f} "
        f"| {percentile(baseline, 90):.0f} | {med - base:+.0f} |"
    )


def _bundle_sizes() -> str:
    index = (STATIC_DIR / "index.html").read_text()
    scripts = [p for p in (STATIC_DIR / "assets").iterdir() if p.suffix in (".js", ".css")]
    raw = sum(p.stat().st_size for p in scripts if p.name in index)
    gz = sum(Path(f"{p}.gz").stat().st_size for p in scripts if p.name in index)
    br = sum(Path(f"{p}.br").stat().st_size for p in scripts if p.name in index)
    kb = [f"{size / 1000:.0f} KB" for size in (raw, gz, br)]
    return f"bundle (script + styles): {kb[0]}, gzip {kb[1]}, brotli {kb[2]}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    options = parser.parse_args()
    url = fresh_database("collabadmin_bench_browser")
    print(f"# {dt.date.today()} · {machine()} · python -m bench.browser --runs {options.runs}")
    with running_server(url) as server, sync_playwright() as playwright:
        base = f"http://127.0.0.1:{server.port}"
        browser = playwright.chromium.launch(executable_path=options.chromium, args=ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 800})
        _sign_in(context.new_page(), base)
        rows, opens, fetch_list, fetch_record = [], [], [], []
        for run in range(options.runs + 1):
            page = context.new_page()
            first = _first_rows(page, base)
            pk = page.locator("tbody tr").first.get_attribute("data-pk")
            opened = _open_record(page)
            listed = float(page.evaluate(FETCH_LIST))
            recorded = float(page.evaluate(FETCH_RECORD, pk))
            page.close()
            if run == 0:
                continue  # the first load warms the server's and the browser's caches
            rows.append(first)
            opens.append(opened)
            fetch_list.append(listed)
            fetch_record.append(recorded)
        browser.close()
    print("| what (ms) | median | p90 | baseline median | baseline p90 | app adds |")
    print("|---|---|---|---|---|---|")
    print(_row("first rows of /r/courses (full load)", rows, fetch_list))
    print(_row("open a course from the list", opens, fetch_record))
    print(_bundle_sizes())


if __name__ == "__main__":
    main()
