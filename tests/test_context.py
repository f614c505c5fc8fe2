"""The service registry and lifespans the parts of an app are built with."""

from __future__ import annotations

import pytest
from litestar import Litestar, get
from litestar._kwargs.kwargs_model import KwargsModel
from litestar.config.app import AppConfig
from litestar.datastructures import State
from litestar.di import Provide
from litestar.testing import AsyncTestClient

from collabadmin.context import STATE_KEY, Injected, Services, provide, run_with_app
from collabadmin.dependencies import resolve_in_turn


class Part:
    def __init__(self, name: str, log: list[str], *, fails: bool = False) -> None:
        self.name, self.log, self.fails = name, log, fails

    async def start(self) -> None:
        if self.fails:
            raise RuntimeError(f"{self.name} cannot start")
        self.log.append(f"start {self.name}")

    async def stop(self) -> None:
        self.log.append(f"stop {self.name}")


def _config() -> AppConfig:
    return AppConfig(state=State({STATE_KEY: Services()}))


def test_a_service_is_added_once_and_found_by_its_type() -> None:
    services = Services()
    log: list[str] = []
    part = services.add(Part("a", log))
    assert services.get(Part) is part
    assert services.get(str, "none") == "none"
    with pytest.raises(ValueError, match="already added"):
        services.add(Part("b", log))
    with pytest.raises(LookupError, match="not set up"):
        services.get(int)
    other = Part("c", log)
    services[Part] = other
    assert services[Part] is other
    with pytest.raises(TypeError):
        services[Part] = "not a part"  # type: ignore[assignment]


def test_provided_services_are_dependencies_of_their_name() -> None:
    config = _config()
    log: list[str] = []
    part = provide(config, "part", Part("a", log))
    assert config.dependencies["part"].dependency() is part
    replacement = Part("b", log)
    config.state[STATE_KEY][Part] = replacement
    assert config.dependencies["part"].dependency() is replacement  # looked up per request
    del config.state[STATE_KEY][Part]  # another service under the same name is refused
    with pytest.raises(ValueError, match="already provided"):
        provide(config, "part", Part("c", log))


async def test_parts_start_in_order_and_stop_in_reverse() -> None:
    config = _config()
    log: list[str] = []
    run_with_app(config, Part("listener", log), Part("hub", log))
    run_with_app(config, Part("scheduler", log))
    app = Litestar(lifespan=config.lifespan)
    async with app.lifespan():
        assert log == ["start listener", "start hub", "start scheduler"]
    assert log[3:] == ["stop scheduler", "stop hub", "stop listener"]


async def test_a_part_that_fails_to_start_stops_those_started_before_it() -> None:
    config = _config()
    log: list[str] = []
    run_with_app(config, Part("listener", log), Part("hub", log, fails=True))
    (lifespan,) = config.lifespan
    assert callable(lifespan)
    with pytest.raises(RuntimeError, match="hub cannot start"):
        async with lifespan(Litestar()):
            pass  # pragma: no cover - never reached
    assert log == ["start listener", "stop listener"]


async def test_dependencies_are_resolved_in_turn_with_the_same_results() -> None:
    """collabadmin.dependencies replaces a private method of Litestar's: it must still exist."""
    resolve_in_turn()
    assert KwargsModel.resolve_dependencies.__module__ == "collabadmin.dependencies"
    order: list[str] = []

    def first() -> int:
        order.append("first")
        return 1

    def second() -> int:
        order.append("second")
        return 2

    async def both(first: Injected[int], second: Injected[int]) -> int:
        return first + second

    @get("/", sync_to_thread=False)
    def handler(first: Injected[int], second: Injected[int], both: Injected[int]) -> dict[str, int]:
        return {"sum": first + second + both}

    app = Litestar(
        [handler],
        dependencies={
            "first": Provide(first, sync_to_thread=False),
            "second": Provide(second, sync_to_thread=False),
            "both": Provide(both),
        },
    )
    async with AsyncTestClient(app) as client:
        assert (await client.get("/")).json() == {"sum": 6}
    assert sorted(order) == ["first", "second"]  # each once (a level is a set: no order)
