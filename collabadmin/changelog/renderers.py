"""Renderers: how entries about collabadmin's own tables are shown to a reader.

Drafts and workflow runs are tracked like records, so their changes are log
entries too (``resource`` is ``drafts`` or ``workflow_runs``, ``pk`` the
row's id). Whoever shows the log to people (the audit) must know, for such
an entry, which record resource decides who may see it and how to cut its
diff to the fields that reader may read. Those rules belong to the package
that owns the table, and that package sits above the audit's dependencies,
not below them; so the owner registers a :class:`Renderer` here, at the
bottom, when its part of the app is set up, and the audit asks the
:class:`Renderers` it is given. The audit never imports ``drafts`` or
``workflows``, and a new kind of owned table needs no change to it.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, Protocol

from sqlalchemy import Select

from collabadmin.changelog.types import Change, Entry, Reader

__all__ = ["Renderer", "Renderers"]


class Renderer(Protocol):
    """The entries of one log resource that is not a record resource."""

    @property
    def log_resource(self) -> str:
        """The ``resource`` the change log writes for these entries (``drafts``)."""
        ...

    def keys_about(self, resources: Sequence[str]) -> Select[Any]:
        """A one-column SELECT of the entry keys (``pk``) whose row is about ``resources``.

        Entries are shown to those who may see the governing resource whole,
        so the caller passes the resources this reader may audit without a
        row scope.
        """
        ...

    async def targets(self, tx: Reader, keys: Sequence[str]) -> dict[str, str]:
        """The governing record resource of each entry key (missing: the row is gone)."""
        ...

    def body(self, entry: Entry, readable: frozenset[str]) -> Change:
        """The entry as a ``Change`` for a reader of ``readable`` fields of its resource."""
        ...


class Renderers:
    """The renderers of one app, by log resource; filled while the app is set up."""

    def __init__(self, renderers: Sequence[Renderer] = ()) -> None:
        self._by_resource: dict[str, Renderer] = {}
        for renderer in renderers:
            self.register(renderer)

    def register(self, renderer: Renderer) -> None:
        name = renderer.log_resource
        if name in self._by_resource:
            raise ValueError(f"a renderer for {name!r} entries is already registered")
        self._by_resource[name] = renderer

    def get(self, log_resource: str) -> Renderer | None:
        return self._by_resource.get(log_resource)

    def __contains__(self, log_resource: object) -> bool:
        return log_resource in self._by_resource

    def __iter__(self) -> Iterator[Renderer]:
        return iter(self._by_resource.values())
