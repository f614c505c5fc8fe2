"""``/metrics``: who may scrape it, and that requests, sockets and the hub move it."""

from __future__ import annotations

import pytest
from litestar import Litestar
from websockets.asyncio.client import connect

from collabadmin.context import services_of
from collabadmin.db.engine import SYSTEM
from collabadmin.hub.hub import Hub
from collabadmin.ops.metrics import Metrics
from tests.conftest import anonymous_client
from tests.helpers import ok, patch_record, problem
from tests.hub.conftest import Socket
from tests.ops.conftest import METRICS_TOKEN, Metered, Scrape, parse, value

RECORD_ROUTE = "/api/r/{resource}/{pk}"


async def test_metrics_do_not_exist_without_a_token(app: Litestar) -> None:
    async with anonymous_client(app) as client:
        problem(await client.get("/metrics"), 404)
        problem(await client.get("/metrics", headers={"Authorization": "Bearer x"}), 404)


async def test_metrics_need_the_token(metered: Metered) -> None:
    async with metered.client() as client:
        missing = problem(await client.get("/metrics"), 401)
        assert "Bearer" in missing["detail"]
        wrong = await client.get("/metrics", headers={"Authorization": "Bearer nope"})
        problem(wrong, 401)
        assert wrong.headers["www-authenticate"].startswith("Bearer")
        basic = await client.get("/metrics", headers={"Authorization": f"Basic {METRICS_TOKEN}"})
        problem(basic, 401)
    # An API token of a user is not the metrics token either.
    async with metered.client("editor") as client:
        problem(await client.get("/metrics"), 401)
        right = await client.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    assert right.status_code == 200
    assert right.headers["content-type"].startswith("text/plain; version=0.0.4")
    assert "collabadmin_http_request_duration_seconds" in right.text


async def test_metrics_stay_out_of_the_openapi_document(metered: Metered) -> None:
    async with metered.client() as client:
        schema = ok(await client.get("/schema/openapi.json"))
    assert "/metrics" not in schema["paths"]


@pytest.mark.usefixtures("fresh_data")
async def test_a_patch_is_timed_under_its_route_template(metered: Metered, scrape: Scrape) -> None:
    series = {"route": RECORD_ROUTE, "method": "PATCH", "status": "2xx"}
    before = await scrape()
    async with metered.client("editor") as editor:
        ok(await patch_record(editor, "courses", 1, {"description": "timed"}, if_match=1))
        problem(await patch_record(editor, "courses", 1, {"description": "stale"}, if_match=1), 412)
    after = await scrape()
    name = "collabadmin_http_request_duration_seconds"
    assert value(after, f"{name}_count", **series) == value(before, f"{name}_count", **series) + 1
    assert value(after, f"{name}_sum", **series) > value(before, f"{name}_sum", **series)
    failed = {**series, "status": "4xx"}
    assert value(after, f"{name}_count", **failed) == value(before, f"{name}_count", **failed) + 1
    # Raw paths never become labels.
    assert not any(("route", "/api/r/courses/1") in labels for _, labels in after)


@pytest.mark.usefixtures("fresh_data")
async def test_a_socket_and_a_delivered_change_move_the_hub_metrics(
    metered: Metered, scrape: Scrape
) -> None:
    before = await scrape()
    conn = await connect(
        metered.ws, additional_headers={"Authorization": f"Bearer {metered.tokens['viewer']}"}
    )
    try:
        viewer = Socket(conn)
        await viewer.subscribe("r/courses/1")
        subscribed = await scrape()
        open_now = value(subscribed, "collabadmin_websockets_open")
        assert open_now == value(before, "collabadmin_websockets_open") + 1

        async with metered.client("editor") as editor:
            ok(await patch_record(editor, "courses", 1, {"description": "live"}, if_match=1))
        change = await viewer.expect("change", topic="r/courses/1")
        assert change["change"]["version"] == 2
        # The hub counts a batch before it hands the frames to the sockets.
        after = await scrape()
    finally:
        await conn.close()

    def grew(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert grew("collabadmin_hub_batch_entries_count") >= 1
    assert grew("collabadmin_hub_batch_entries_sum") >= 1
    assert grew("collabadmin_hub_batch_frames_sum") >= 1
    assert grew("collabadmin_hub_lag_seconds_count") >= 1
    assert grew("collabadmin_hub_lag_seconds_sum") >= 0
    assert grew("collabadmin_hub_entries_read_total", resource="courses") >= 1


async def test_an_overflow_counts_as_a_resync(metered: Metered, scrape: Scrape) -> None:
    hub = services_of(metered.app).get(Hub)
    before = await scrape()
    client = hub.connect(SYSTEM)
    try:
        client.capacity = 1
        client.topics["r/courses"] = hub.check_topic(SYSTEM, "r/courses")
        assert client.offer("{}")
        assert not client.offer("{}")
    finally:
        hub.disconnect(client)
    after = await scrape()
    name = "collabadmin_hub_resyncs_total"
    assert value(after, name, reason="overflow") == value(before, name, reason="overflow") + 1


async def test_pool_gauges_are_read_at_scrape_time(scrape: Scrape) -> None:
    samples = await scrape()
    assert value(samples, "collabadmin_db_pool_max") == 5
    assert 1 <= value(samples, "collabadmin_db_pool_size") <= 5
    assert 0 <= value(samples, "collabadmin_db_pool_available") <= 5
    assert value(samples, "collabadmin_db_requests_waiting") == 0


def test_every_app_has_a_registry_of_its_own() -> None:
    """A global registry would refuse the second app's metric names, or mix their values."""
    first, second = Metrics(), Metrics()
    first.observe_request("/health", "GET", 200, 0.01)
    name = "collabadmin_http_request_duration_seconds_count"
    labels = {"route": "/health", "method": "GET", "status": "2xx"}
    assert value(parse(first.render().decode()), name, **labels) == 1
    assert value(parse(second.render().decode()), name, **labels) == 0


@pytest.mark.usefixtures("fresh_data")
async def test_password_checks_are_counted(metered: Metered, scrape: Scrape) -> None:
    before = await scrape()
    async with metered.client() as client:
        wrong = {"username": "nobody-metered", "password": "wrong"}
        assert (await client.post("/api/auth/login", json=wrong)).status_code == 401
    after = await scrape()
    name = "collabadmin_password_checks_total"
    assert value(after, name) == value(before, name) + 1
    assert value(after, "collabadmin_password_checks_refused_total") == 0
    assert value(after, "collabadmin_password_checks_running_max") >= 1
