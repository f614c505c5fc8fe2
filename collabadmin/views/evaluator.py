"""Keeping live views up to date: per commit-ordered batch, and before a read.

Each view has a position in the database (``collabadmin_live_state``): the
snapshot up to which base changes have been evaluated into its copy,
written in the same transaction as the copy and the derived entries. One
operation moves it, :meth:`ViewEvaluator.advance`:

1. take the view's lock (a transaction-level advisory lock: evaluations of
   one view, by any instance, run one after another);
2. read the position P, and in one statement the current snapshot U and the
   keys of the view that the changes committed between P and U touched
   (:mod:`collabadmin.views.touched`);
3. evaluate those keys, diff them with the copy, write the rows and derived
   entries that moved (:mod:`collabadmin.views.refresh`);
4. set the position to U, and commit.

Every instance's :class:`ViewEvaluator` advances each view when the
listener wakes it (and every ``interval`` as a safety net), at most once
every ``pace`` seconds: under a stream of commits one advance covers all
those since the last. Because the diff
is against the copy and the copy is written only under the lock, a second
instance advancing over the same batch finds nothing to write: each change
of a view row is announced once, whoever evaluates it. The evaluation reads
the data at a snapshot no older than U, so a commit after U is evaluated
(again) by the next advance; nothing is missed, and the stream of a row's
derived entries is its states in commit order.

**Read-your-writes.** A read of a live view calls :meth:`catch_up` first:
if a watched change committed after the view's position (one indexed
query, no lock), the reader advances the view itself (a list), or
evaluates the one row it reads (:meth:`refresh_row`), waiting for the lock
at most ``read_wait`` seconds. A write that returned has committed, so its
change is in that batch; the read then sees its effect. When the bound is
hit (a long evaluation holds the lock) the read answers from the copy as
it is, and says so (:mod:`collabadmin.freshness`).

At start (and after an error) every view is evaluated whole: whatever
changed while no server was running is caught up, and a view never filled
before is filled without derived entries (there is no subscriber to tell).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence

import psycopg
from psycopg import errors

from collabadmin.db.background import BackgroundTask, until_paced
from collabadmin.db.engine import Database, Tx
from collabadmin.resources.resource import Registry
from collabadmin.views.compiled import CompiledView, compile_view
from collabadmin.views.definitions import LiveView
from collabadmin.views.refresh import Moved, refresh
from collabadmin.views.touched import touched_keys

__all__ = ["EVALUATION_PACE", "ViewEvaluator"]

log = logging.getLogger("collabadmin.views")

# The advisory lock class of live views ("live"); the key is hashtext(view name).
LOCK_CLASS = 0x6C697665
_LOCK = "SELECT pg_advisory_xact_lock(%(class)s, hashtext(%(view)s))"
_STATE = "SELECT snapshot FROM collabadmin.collabadmin_live_state WHERE view = %(view)s"
_SET_STATE = """
INSERT INTO collabadmin.collabadmin_live_state (view, snapshot) VALUES (%(view)s, %(snapshot)s)
ON CONFLICT (view) DO UPDATE SET snapshot = EXCLUDED.snapshot, updated_at = now()
"""
# Derived entries are kept for twice the longest replay (24 hours).
_PRUNE = "DELETE FROM collabadmin.collabadmin_live_change WHERE at < now() - interval '48 hours'"
PRUNE_EVERY = 3600.0
# What the app's evaluators (live views, workflow runs) are paced at, in
# seconds: at most 20 evaluations a second each, however fast commits come.
# Reads do not wait for it (they catch up themselves); derived frames may.
EVALUATION_PACE = 0.05


class ViewEvaluator(BackgroundTask):
    """Advances every live view per batch (woken by the listener), and for reads."""

    name = "collabadmin-views"

    def __init__(
        self,
        db: Database,
        registry: Registry,
        views: Sequence[LiveView],
        *,
        interval: float = 1.0,
        read_wait: float = 2.0,
        pace: float = 0.0,
    ) -> None:
        super().__init__()
        self.db = db
        self.registry = registry
        self.views = list(views)
        self.interval = interval
        self.read_wait = read_wait
        # At least this many seconds from the start of one evaluation of a
        # view to the next: under a stream of commits each evaluation covers
        # all those since the last, instead of one evaluation per commit.
        self.pace = pace
        self.compiled: dict[str, CompiledView] = {}
        self.advances = 0  # advances that wrote derived entries (for tests and metrics)
        self.reads = 0  # reads of the change log by the background loop (for metrics)
        self.stale_reads = 0
        # One per view: each view follows the log in a task of its own, so a
        # view that is slow to evaluate never holds another's frames back.
        self._wakes: dict[str, asyncio.Event] = {v.name: asyncio.Event() for v in self.views}
        self._compiling = asyncio.Lock()

    def wake(self) -> None:
        for event in self._wakes.values():
            event.set()

    async def start(self) -> None:
        if not self.views:
            return
        await self.compile()
        await super().start()

    async def compile(self) -> None:
        """Check each view against the database and build its SQL (once)."""
        async with self._compiling:
            if self.compiled:
                return
            compiled = {}
            async with self.db.connection() as tx:
                for view in self.views:
                    compiled[view.name] = await compile_view(tx, view, self.registry)
            self.compiled = compiled

    async def run(self) -> None:
        await asyncio.gather(self._prune(), *(self._follow(v) for v in self.compiled.values()))

    async def _follow(self, view: CompiledView) -> None:
        """Advance ``view`` whenever woken (or every ``interval``), for the life of the server."""
        wake = self._wakes[view.name]
        whole = True
        loop = asyncio.get_running_loop()
        while True:
            try:
                began = loop.time()
                if whole or not await self._nothing_to_do(view):
                    await self.advance(view, whole=whole)
                whole, worked = False, loop.time() - began
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(wake.wait(), self.interval)
                await until_paced(began, self.pace, worked)
                wake.clear()
            except (psycopg.Error, OSError) as exc:
                log.warning("live view %s evaluation failed: %s", view.name, type(exc).__name__)
                whole = True
                await asyncio.sleep(1.0)
            except Exception:
                log.exception("live view %s evaluation failed", view.name)
                whole = True
                await asyncio.sleep(1.0)

    async def _prune(self) -> None:
        """Drop derived entries older than any replay reaches, once an hour."""
        while True:
            try:
                async with self.db.connection() as tx:
                    await tx.run(_PRUNE)
            except (psycopg.Error, OSError) as exc:
                log.warning("pruning the derived log failed: %s", type(exc).__name__)
            await asyncio.sleep(PRUNE_EVERY)

    async def _nothing_to_do(self, view: CompiledView) -> bool:
        """Nothing watched committed since the view's position: move it to now, say so.

        Most wake-ups are about other tables, or are the derived entries'
        own; they cost this one statement, outside any transaction.
        """
        async with self.db.connection() as tx:
            self.reads += 1
            moved = await tx.rows(
                view.fast_forward, {"view": view.name, "resources": list(view.resources)}
            )
        return bool(moved)

    async def advance(
        self, view: CompiledView, *, whole: bool = False, lock_wait: float | None = None
    ) -> list[Moved]:
        """Evaluate what changed since the view's position (everything: ``whole``).

        ``lock_wait``: give up (``LockNotAvailable``) after that many seconds
        waiting for another evaluation of the view.
        """
        async with self.db.connection() as tx, tx.conn.transaction():
            await self._lock(tx, view, lock_wait)
            lower = await tx.value(_STATE, {"view": view.name})
            if lower is None or whole:
                # From a snapshot taken before the whole view is read: a commit
                # after it is evaluated again by the next advance.
                upper = str(await tx.value("SELECT pg_current_snapshot()::text"))
                moved = await refresh(tx, view, None, announce=lower is not None)
            else:
                rows = await tx.rows(
                    view.touched, {"lower": lower, "resources": list(view.resources)}
                )
                upper, touched = touched_keys(rows)
                keys = touched.get(view.name, set())
                moved = [] if keys == set() else await refresh(tx, view, keys)
            if upper != lower:
                await tx.run(_SET_STATE, {"view": view.name, "snapshot": upper})
        if moved:
            self.advances += 1
        return moved

    @staticmethod
    async def _lock(tx: Tx, view: CompiledView, wait: float | None) -> None:
        params = {"class": LOCK_CLASS, "view": view.name}
        if wait is None:
            await tx.run(_LOCK, params)
            return
        timeout = f"{max(1, round(wait * 1000))}ms"
        await tx.run("SELECT set_config('lock_timeout', %(t)s, true)", {"t": timeout})
        await tx.run(_LOCK, params)
        await tx.run("SET LOCAL lock_timeout TO DEFAULT")

    async def refresh_row(self, view: CompiledView, key: str, *, lock_wait: float) -> None:
        """Evaluate the one row ``key`` now, whatever else is pending (a read of that row).

        Its position stays where it is: the next advance evaluates the batch,
        this row included, and finds it already up to date. A view never
        filled is filled whole instead.
        """
        async with self.db.connection() as tx, tx.conn.transaction():
            await self._lock(tx, view, lock_wait)
            if await tx.value(_STATE, {"view": view.name}) is not None:
                await refresh(tx, view, {key})
                return
        await self.advance(view, lock_wait=lock_wait)

    async def catch_up(self, name: str, key: str | None = None) -> bool:
        """Before a read of view ``name`` (of its row ``key``): it reflects every committed change.

        A read of one row evaluates that row only, so a read after a bulk
        write is not kept waiting for the whole batch. False when that could
        not be made sure within ``read_wait`` seconds (the copy is then read
        as it is).
        """
        await self.compile()
        view = self.compiled.get(name)
        if view is None:
            return True
        async with self.db.connection() as tx:
            pending = await tx.value(
                view.pending, {"view": view.name, "resources": list(view.resources)}
            )
        if not pending:
            return True
        try:
            if key is None:
                await self.advance(view, lock_wait=self.read_wait)
            else:
                await self.refresh_row(view, key, lock_wait=self.read_wait)
        except errors.LockNotAvailable:
            self.stale_reads += 1
            return False
        return True
