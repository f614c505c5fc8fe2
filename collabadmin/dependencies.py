"""Route handlers' dependencies resolved one after another, not in a task group.

Litestar resolves the dependencies of one level concurrently: with more than
one (a write route takes its service, the actor and the request id), it opens
an anyio task group per request. collabadmin's dependencies are dictionary
lookups and reads of the connection's scope; none awaits anything, so running
them concurrently gains nothing, and a task group of three costs 50 to 150 µs
of CPU a request on a 2-core machine, against under 1 µs for the same three
in turn: up to a tenth of a PATCH's whole server time.
:func:`resolve_in_turn` makes Litestar resolve every dependency in turn, in
the same order and with the same cleanup, the first failure raised as before.

The alternative, one dependency per handler bundling everything it needs,
would undo the typed parameters (``actor: Injected[Actor]``) that say what a
handler uses. This replaces one private method of Litestar 2's
``KwargsModel``; ``tests/test_context.py`` fails if Litestar changes it.
"""

from __future__ import annotations

from typing import Any

from litestar._kwargs.cleanup import DependencyCleanupGroup
from litestar._kwargs.dependencies import resolve_dependency
from litestar._kwargs.kwargs_model import KwargsModel
from litestar.connection import ASGIConnection

__all__ = ["resolve_in_turn"]


async def _resolve_dependencies(
    self: KwargsModel, connection: ASGIConnection[Any, Any, Any, Any], kwargs: dict[str, Any]
) -> DependencyCleanupGroup:
    cleanup_group = DependencyCleanupGroup()
    for batch in self.dependency_batches:
        for dependency in batch:
            await resolve_dependency(dependency, connection, kwargs, cleanup_group)
    return cleanup_group


def resolve_in_turn() -> None:
    """Have Litestar resolve handlers' dependencies one after another (idempotent)."""
    KwargsModel.resolve_dependencies = _resolve_dependencies  # type: ignore[method-assign]
