"""Bursts of parallel sign-ins: password checks performed, refusals, server memory.

Against ``collabadmin serve`` (one worker, behind a "proxy" at 127.0.0.1 so
each phase can come from its own client address via X-Forwarded-For):

* baseline: 10 sequential correct sign-ins (one password check each, never
  throttled), the cost of a check and the server's memory with one at a time;
* N parallel wrong passwords for one account from one address (pair limit 5);
* 2N parallel unknown usernames from one address (address limit 20);
* 2N parallel unknown usernames, each from its own address: nothing
  throttles them, only the password slots (COLLABADMIN_PASSWORD_CONCURRENCY)
  bound the argon2 work and its memory ("429 busy" are those refused).

Password checks are read from the server's ``/metrics`` (or, from an older
server without that metric, counted as the 200 and 401 answers); memory is
the server process's RSS (and its peak, VmHWM, since it started) from /proc.

    python -m bench.login_burst [--n 30]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import time
from collections import Counter
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from bench._setup import fresh_database, machine, running_server

METRICS_TOKEN = "bench-login-burst-metrics"  # noqa: S105 (a throwaway server's)


def memory_mib(pid: int) -> tuple[float, float]:
    """(RSS, peak RSS) of process ``pid`` in MiB."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        fields[key] = rest.strip()
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


async def checks(client: httpx.AsyncClient) -> float | None:
    """The server's count of password checks (None from a server without it)."""
    text = (await client.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})).text
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "collabadmin_password_checks_total":
                return sample.value
    return None


async def sign_in(
    client: httpx.AsyncClient, username: str, password: str, address: str
) -> httpx.Response:
    return await client.post(
        "/api/auth/login",
        json={"username": username, "password": password},
        headers={"X-Forwarded-For": address},
    )


async def phase(
    client: httpx.AsyncClient, pid: int, name: str, attempts: list[tuple[str, str, str]], *,
    parallel: bool,
) -> None:  # fmt: skip
    before = await checks(client)
    rss_before, _ = memory_mib(pid)
    start = time.perf_counter()
    if parallel:
        responses = await asyncio.gather(*(sign_in(client, *a) for a in attempts))
    else:
        responses = [await sign_in(client, *a) for a in attempts]
    seconds = time.perf_counter() - start
    after = await checks(client)
    rss_after, peak = memory_mib(pid)
    outcomes = Counter(outcome(r) for r in responses)
    # Every check that ran answered 200 or 401: the count for servers without the metric.
    answered = outcomes["200"] + outcomes["401"]
    performed = answered if before is None or after is None else int(after - before)
    shown = " ".join(f"{status}:{count}" for status, count in sorted(outcomes.items()))
    print(
        f"| {name} | {len(attempts)} | {performed} | {outcomes['429 throttled']}"
        f" | {outcomes['429 busy']} | {shown} | {seconds:.2f}"
        f" | {rss_before:.0f} → {rss_after:.0f} | {peak:.0f} |",
        flush=True,
    )


def outcome(response: httpx.Response) -> str:
    if response.status_code != 429:
        return str(response.status_code)
    busy = "at once" in response.json()["detail"]  # all password slots taken
    return "429 busy" if busy else "429 throttled"


async def run(port: int, pid: int, n: int) -> None:
    limits = httpx.Limits(max_connections=4 * n, max_keepalive_connections=4 * n)
    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{port}", limits=limits, timeout=60
    ) as client:
        print("| phase | attempts | checks | 429 throttled | 429 busy | outcomes | s | RSS MiB"
              " | peak MiB |")  # fmt: skip
        print("|---|---|---|---|---|---|---|---|---|")
        await phase(
            client, pid, "baseline: sequential correct",
            [("bench", "bench-password", "192.0.2.1")] * 10, parallel=False,
        )  # fmt: skip
        await phase(
            client, pid, "parallel wrong password, 1 account, 1 address",
            [("bench", "wrong", "192.0.2.2")] * n, parallel=True,
        )  # fmt: skip
        await phase(
            client, pid, "parallel unknown users, 1 address",
            [(f"nobody{i}", "wrong", "192.0.2.3") for i in range(2 * n)], parallel=True,
        )  # fmt: skip
        await phase(
            client, pid, "parallel unknown users, each its own address",
            [(f"someone{i}", "wrong", f"198.51.100.{i + 1}") for i in range(2 * n)],
            parallel=True,
        )  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=30, help="attempts per burst (unknown: 2n)")
    args = parser.parse_args()
    url = fresh_database("bench_login_burst")
    env = {"COLLABADMIN_TRUSTED_PROXIES": "127.0.0.1", "COLLABADMIN_METRICS_TOKEN": METRICS_TOKEN}
    with running_server(url, extra_env=env) as server:
        print(f"# {dt.date.today()} · {machine()} · python -m bench.login_burst --n {args.n}")
        asyncio.run(run(server.port, server.process.pid, args.n))


if __name__ == "__main__":
    main()
