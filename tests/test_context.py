"""The service registry and lifespans the parts of an app are built with."""

from __future__ import annotations

import pytest
from litestar import Litestar
from litestar.config.app import AppConfig
from litestar.datastructures import State

from collabadmin.context import STATE_KEY, Services, provide, run_with_app


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
