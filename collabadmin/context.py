"""The services of one app, shared by its parts and given to its route handlers.

Each part of collabadmin (auth, records, the hub, drafts, workflows...) is a
Litestar plugin (:mod:`collabadmin.surfaces` lists them). While the app is
built the plugins run in order, bottom-up: each takes the services of the
parts below it from :class:`Services` by type, makes its own, and declares
its routes, middleware and background tasks on the ``AppConfig``. A service
:func:`provide`-d under a name is a Litestar dependency of that name, so
route handlers receive it as a parameter (``records: Injected[RecordService]``)
instead of reaching into a global.

Nothing here knows a domain: adding a part touches neither this module nor
``collabadmin.app``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any, Protocol, TypeAlias, TypeVar, overload

from litestar import Litestar
from litestar.config.app import AppConfig
from litestar.di import Dependency, Provide
from litestar.params import SkipValidationMarker

__all__ = [
    "STATE_KEY",
    "Injected",
    "Services",
    "Startable",
    "provide",
    "run_with_app",
    "services_in",
    "services_of",
]

STATE_KEY = "collabadmin"
T = TypeVar("T")
D = TypeVar("D")
_MISSING = object()

Injected: TypeAlias = Annotated[T, Dependency(kind="named"), SkipValidationMarker()]
"""A route handler's parameter that is a service: given by its name, as it is.

Never validated: it is one of the app's objects, not input (validating
would copy a dataclass such as ``Settings`` on every request).
"""


class Services:
    """Services by type: at most one of each, added by the part that owns it.

    ``services[Kind] = other`` replaces one for the requests that follow
    (tests swap a service this way); the parts that were handed the old one
    while the app was built keep it.
    """

    def __init__(self) -> None:
        self._by_type: dict[type[Any], object] = {}

    def add(self, service: T) -> T:
        kind = type(service)
        if kind in self._by_type:
            raise ValueError(f"a {kind.__name__} was already added")
        self._by_type[kind] = service
        return service

    @overload
    def get(self, kind: type[T]) -> T: ...

    @overload
    def get(self, kind: type[T], default: D) -> T | D: ...

    def get(self, kind: type[T], default: object = _MISSING) -> object:
        """The service of exactly this type (a part set up earlier added it).

        Without one: ``default`` if given, else LookupError.
        """
        service = self._by_type.get(kind, _MISSING)
        if service is _MISSING:
            if default is not _MISSING:
                return default
            raise LookupError(f"no {kind.__name__}: the part that provides it is not set up")
        assert isinstance(service, kind)
        return service

    def __getitem__(self, kind: type[T]) -> T:
        return self.get(kind)

    def __setitem__(self, kind: type[T], service: T) -> None:
        if not isinstance(service, kind):
            raise TypeError(f"a {kind.__name__} is replaced by another {kind.__name__}")
        self._by_type[kind] = service

    def __delitem__(self, kind: type[Any]) -> None:
        del self._by_type[kind]


def services_of(app: Litestar) -> Services:
    """The services of a built app (for tools and tests; handlers are given theirs)."""
    services = app.state[STATE_KEY]
    assert isinstance(services, Services)
    return services


def services_in(config: AppConfig) -> Services:
    """The services of the app being built (the app puts them in its state)."""
    services = config.state[STATE_KEY]
    assert isinstance(services, Services)
    return services


def provide(config: AppConfig, name: str, service: T) -> T:
    """Add ``service`` and give it to route handlers as the parameter ``name``.

    The dependency looks the service up per request (a dictionary lookup),
    so a replaced service is the one handlers get.
    """
    services = services_in(config)
    services.add(service)
    if name in config.dependencies:
        raise ValueError(f"a dependency named {name!r} is already provided")
    kind = type(service)

    def dependency() -> Any:
        return services.get(kind)

    config.dependencies[name] = Provide(dependency, sync_to_thread=False)
    return service


class Startable(Protocol):
    """Something that runs while the app serves (a background task, the hub)."""

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


def run_with_app(config: AppConfig, *parts: Startable) -> None:
    """Start ``parts`` in order when the app starts; stop them in reverse when it stops.

    Each plugin's parts form one lifespan; Litestar enters the lifespans in
    the order the plugins ran and leaves them in reverse, so a part always
    starts after, and stops before, the parts of those below it. A part that
    fails to start stops those of its plugin already started.
    """

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        started: list[Startable] = []
        try:
            for part in parts:
                await part.start()
                started.append(part)
            yield
        finally:
            for part in reversed(started):
                await part.stop()

    config.lifespan.append(lifespan)
