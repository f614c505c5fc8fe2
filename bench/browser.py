"""What a person waits for in the web app, measured in Chromium.

Against the demo served by ``collabadmin serve``, signed in as an admin, in
headless Chromium (Debian's ``/usr/bin/chromium``, through Playwright):

* **first rows of a list**: a full load of ``/r/courses`` (a new tab: HTML,
  the bundle, ``/api/auth/me``, meta, the first page and its labels), from
  navigation start to the frame that paints the first table row;
* **open a record**: from the click on a course's title in the list to the
  frame that paints its form (the app's own navigation: record,
  ``OPTIONS``, history);

each next to its baseline in the same run: the browser fetching the API
requests behind it (the list page; the record and its ``OPTIONS``) with
no rendering, from a tab of its own on a page of no app (``/health``), so
that nothing else the app asks for meanwhile is timed with them; that is
what the app's own work adds to. The bundle's
sizes (as sent: brotli, gzip) are printed too, and the script and styles
asked for before the first rows were on screen, as the browser received them
(chunks of other pages loaded later are not among them), and when the list's
own request went out: what the app waits for before it can ask for rows.

    python -m bench.browser [--runs 15] [--chromium /usr/bin/chromium]
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import statistics
from pathlib import Path

from playwright.sync_api import BrowserContext, Page, sync_playwright

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


LOADED = """(until) => performance.getEntriesByType('resource')
  .filter((e) => /[.](js|css)$/.test(new URL(e.name).pathname) && e.startTime < until)
  .map((e) => [new URL(e.name).pathname, e.encodedBodySize, e.decodedBodySize])"""


LIST_ASKED = """() => performance.getEntriesByType('resource')
  .filter((e) => new URL(e.name).pathname === '/api/r/courses' && new URL(e.name).search)
  .map((e) => e.startTime)[0] ?? null"""


# When what is timed is on screen, taken in the page itself (not when
# Playwright's polling notices it, which can come a frame or more later):
# a MutationObserver sees the element added, and the time is read in the
# next animation frame, the one that paints it. Installed in every page of
# the context before the page's own scripts run.
SEEN = """(() => {
  window.__seen = {};
  // The record page's form (the list's search box is a form too).
  const watch = {rows: 'tbody tr', form: '#panel-details :is(input, textarea, select)'};
  new MutationObserver(() => {
    for (const [name, selector] of Object.entries(watch)) {
      if (window.__seen[name] === undefined && document.querySelector(selector)) {
        window.__seen[name] = null;
        requestAnimationFrame(() => { window.__seen[name] = performance.now(); });
      }
    }
  }).observe(document, {subtree: true, childList: true});
})()"""


def watch_paints(context: BrowserContext) -> None:
    """Every page of ``context`` notes when the list's rows and a form are first painted."""
    context.add_init_script(SEEN)


def _painted(page: Page, name: str) -> float:
    page.wait_for_function("(name) => typeof window.__seen[name] === 'number'", arg=name)
    return float(page.evaluate("(name) => window.__seen[name]", name))


def _first_rows(page: Page, base: str) -> float:
    page.goto(f"{base}/r/courses", wait_until="commit")
    return _painted(page, "rows")


def _loaded(page: Page, until: float) -> str:
    """The script and style files asked for before the first rows, sizes as sent and decoded."""
    files = page.evaluate(LOADED, until)
    sent = sum(int(f[1]) for f in files) / 1000
    decoded = sum(int(f[2]) for f in files) / 1000
    return f"loaded for the list page: {len(files)} files, {sent:.0f} KB as sent ({decoded:.0f} KB)"


def _open_record(page: Page) -> float:
    link = page.locator("tbody tr a").first
    t0 = float(page.evaluate("delete window.__seen.form, performance.now()"))
    link.click()
    return _painted(page, "form") - t0


def _row(name: str, values: list[float], baseline: list[float]) -> str:
    med, base = statistics.median(values), statistics.median(baseline)
    return (
        f"| {name} | {med:.0f} | {percentile(values, 90):.0f} | {base:.0f} "
        f"| {percentile(baseline, 90):.0f} | {med - base:+.0f} |"
    )


def _compressed(path: Path, suffix: str) -> int | None:
    """The size of the build's precompressed form of ``path`` (gzip computed if absent)."""
    written = Path(f"{path}{suffix}")
    if written.is_file():
        return written.stat().st_size
    return len(gzip.compress(path.read_bytes(), 9)) if suffix == ".gz" else None


def first_load_gzip(static: Path = STATIC_DIR) -> int:
    """The gzip bytes of what a build's index.html names (what a first load fetches)."""
    index = (static / "index.html").read_text()
    files = [p for p in (static / "assets").iterdir() if p.suffix in (".js", ".css")]
    return sum(_compressed(p, ".gz") or 0 for p in files if p.name in index)


def _bundle_sizes() -> str:
    """What index.html names (entry script, styles, preloaded chunks), and all chunks."""
    index = (STATIC_DIR / "index.html").read_text()
    files = [p for p in (STATIC_DIR / "assets").iterdir() if p.suffix in (".js", ".css")]
    named = [p for p in files if p.name in index]
    raw = sum(p.stat().st_size for p in named)
    gz = first_load_gzip()
    brs = [_compressed(p, ".br") for p in named]
    br = "n/a" if None in brs else f"{sum(b or 0 for b in brs) / 1000:.0f} KB"
    everything = sum(p.stat().st_size for p in files) / 1000
    return (
        f"bundle (script + styles in index.html): {raw / 1000:.0f} KB, gzip {gz / 1000:.0f} KB, "
        f"brotli {br}; {len(files)} files in all, {everything:.0f} KB"
    )


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
        watch_paints(context)
        _sign_in(context.new_page(), base)
        quiet = context.new_page()  # the baselines' tab: no app runs there
        quiet.goto(f"{base}/health")
        rows, opens, fetch_list, fetch_record, asked = [], [], [], [], []
        loaded = ""
        for run in range(options.runs + 1):
            page = context.new_page()
            first = _first_rows(page, base)
            loaded = _loaded(page, first)
            list_asked = page.evaluate(LIST_ASKED)
            pk = page.locator("tbody tr").first.get_attribute("data-pk")
            opened = _open_record(page)
            page.close()
            listed = float(quiet.evaluate(FETCH_LIST))
            recorded = float(quiet.evaluate(FETCH_RECORD, pk))
            if run == 0:
                continue  # the first load warms the server's and the browser's caches
            rows.append(first)
            if list_asked is not None:
                asked.append(float(list_asked))
            opens.append(opened)
            fetch_list.append(listed)
            fetch_record.append(recorded)
        browser.close()
    print("| what (ms) | median | p90 | baseline median | baseline p90 | app adds |")
    print("|---|---|---|---|---|---|")
    print(_row("first rows of /r/courses (full load)", rows, fetch_list))
    print(_row("open a course from the list", opens, fetch_record))
    print(_bundle_sizes())
    print(loaded)
    if asked:
        at = statistics.median(asked)
        print(f"the list's rows asked for at {at:.0f} ms (median) of the full load")


if __name__ == "__main__":
    main()
