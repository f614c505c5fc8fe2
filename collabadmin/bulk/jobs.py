"""Background jobs: bulk edits longer than a request, their progress and their result.

A job is a row of ``collabadmin_job`` (migration ``0019_bulk_jobs``) and an
asyncio task of the instance that accepted it. Each batch the task commits
updates the row's ``done``/``total`` in the batch's own transaction (so it
counts exactly the rows committed) and then pushes a progress frame to the
subscribers of ``jobs/{id}``; the last frame is the result, which the row
keeps, so ``GET /api/jobs/{id}`` and a subscriber that comes late (or
reconnects) see it too. Only the job's owner may read it or follow it.

Frames (``type: "job"``)::

    {"type": "job", "topic": "jobs/3", "event": "progress", "done": 500, "total": 2500}
    {"type": "job", "topic": "jobs/3", "event": "result", "state": "done", "result": {...}}

Progress frames go to the subscribers connected to the instance that runs
the job; one connected elsewhere gets the job's state when it subscribes
and can poll ``GET /api/jobs/{id}``.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from typing import Any

import msgspec
from psycopg.types.json import Jsonb
from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Integer,
    MetaData,
    Table,
    Text,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import JSONB

from collabadmin.bulk.edit import BulkEdit
from collabadmin.bulk.types import BulkError, BulkResult, Job
from collabadmin.db.engine import Actor, Database, Row, Tx
from collabadmin.errors import NotFound, TooManyRequests
from collabadmin.hub.clients import Client
from collabadmin.hub.hub import Hub, SubscribeError
from collabadmin.hub.topics import Topic
from collabadmin.own import OWN_SCHEMA

__all__ = ["JOBS", "JobFeed", "JobService"]

log = logging.getLogger(__name__)

RUN_AT_ONCE = 2
"""Jobs one instance runs at once; the others wait their turn."""
PER_USER = 3
"""Jobs one user may have running (or waiting) at once; one more is a 429."""

metadata = MetaData()

JOBS = Table(
    "collabadmin_job",
    metadata,
    Column("id", BigInteger, primary_key=True),
    Column("kind", Text, nullable=False),
    Column("owner_id", BigInteger),
    Column("owner_name", Text, nullable=False),
    Column("resource", Text, nullable=False),
    Column("op", Text, nullable=False),
    Column("state", Text, nullable=False),
    Column("done", Integer, nullable=False),
    Column("total", Integer, nullable=False),
    Column("result", JSONB),
    Column("created_at", DateTime(timezone=True)),
    Column("updated_at", DateTime(timezone=True)),
    Column("finished_at", DateTime(timezone=True)),
    schema=OWN_SCHEMA,
)


def _when(value: dt.datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def job_body(row: Row) -> Job:
    result = row["result"]
    return Job(
        id=row["id"],
        kind=row["kind"],
        resource=row["resource"],
        op=row["op"],
        state=row["state"],
        done=row["done"],
        total=row["total"],
        created_at=_when(row["created_at"]) or "",
        finished_at=_when(row["finished_at"]),
        result=None if result is None else msgspec.convert(result, BulkResult),
    )


def _result_frame(row: Row) -> dict[str, object]:
    return {
        "type": "job",
        "event": "result",
        "state": row["state"],
        "result": row["result"],
    }


def _progress_frame(done: int, total: int) -> dict[str, object]:
    return {"type": "job", "event": "progress", "done": done, "total": total}


class _JobProgress:
    """A run's progress, written to the job's row with each batch and pushed once committed."""

    def __init__(self, service: JobService, job_id: int) -> None:
        self.service = service
        self.job_id = job_id

    async def record(self, tx: Tx, done: int, total: int) -> None:
        await tx.run(
            update(JOBS)
            .where(JOBS.c.id == self.job_id)
            .values(done=done, total=total, updated_at=func.now())
        )

    def committed(self, done: int, total: int) -> None:
        self.service.publish(self.job_id, _progress_frame(done, total))


class JobService:
    """Starts jobs, runs them on this instance, answers for them (to their owners only)."""

    def __init__(
        self,
        db: Database,
        hub: Hub | None = None,
        *,
        concurrent: int = RUN_AT_ONCE,
        per_user: int = PER_USER,
    ) -> None:
        self.db = db
        self.hub = hub
        self.per_user = per_user
        self._tasks: dict[int, asyncio.Task[None]] = {}
        # Jobs beyond these wait their turn (running, 0 done): each batch holds
        # a pooled connection, and requests need the pool too.
        self._slots = asyncio.Semaphore(concurrent)

    def publish(self, job_id: int, frame: dict[str, object]) -> None:
        if self.hub is not None:
            self.hub.publish(f"jobs/{job_id}", frame)

    async def start_bulk(self, edit: BulkEdit, total: int) -> int:
        """Record a job for ``edit`` (checked) and start it; its id."""
        resource, _, _ = edit.check()
        actor = edit.actor
        async with self.db.connection() as tx:
            running = await tx.value(
                select(func.count())
                .select_from(JOBS)
                .where(JOBS.c.owner_id == actor.id, JOBS.c.state == "running")
            )
            if actor.id is not None and int(running or 0) >= self.per_user:
                raise TooManyRequests(
                    f"You have {running} jobs running; wait for one to finish.",
                    headers={"Retry-After": "5"},
                )
            job_id = await tx.value(
                insert(JOBS)
                .values(
                    kind="bulk",
                    owner_id=actor.id,
                    owner_name=actor.name,
                    resource=resource.name,
                    op=edit.request.op,
                    state="running",
                    done=0,
                    total=total,
                )
                .returning(JOBS.c.id)
            )
        assert job_id is not None
        job = int(job_id)
        task = asyncio.create_task(self._run(job, edit, total), name=f"collabadmin-job-{job}")
        self._tasks[job] = task
        task.add_done_callback(lambda _: self._tasks.pop(job, None))
        return job

    async def _run(self, job_id: int, edit: BulkEdit, total: int) -> None:
        try:
            async with self._slots:
                result = await edit.execute(_JobProgress(self, job_id), total)
        except asyncio.CancelledError:
            await self._finish(
                job_id,
                BulkResult(
                    error=BulkError(
                        status=503,
                        title="Service unavailable",
                        detail="The server stopped before the job finished; run it again.",
                    )
                ),
            )
            raise
        except Exception:
            log.exception("bulk job %s failed", job_id)
            result = BulkResult(
                error=BulkError(status=500, title="Internal server error", detail="The job failed.")
            )
        await self._finish(job_id, result)

    async def _finish(self, job_id: int, result: BulkResult) -> None:
        body = Jsonb(msgspec.to_builtins(result))
        async with self.db.connection() as tx:
            row = await tx.row(
                update(JOBS)
                .where(JOBS.c.id == job_id)
                .values(
                    state="failed" if result.error is not None else "done",
                    result=body,
                    updated_at=func.now(),
                    finished_at=func.now(),
                )
                .returning(JOBS)
            )
        if row is not None:
            self.publish(job_id, _result_frame(row))

    async def get(self, actor: Actor, job_id: int) -> Job:
        row = await self._row(actor, job_id)
        if row is None:
            raise NotFound(f"No job {job_id}.")
        return job_body(row)

    async def _row(self, actor: Actor, job_id: int) -> Row | None:
        if actor.id is None:
            return None
        async with self.db.read() as tx:
            return await tx.row(
                select(JOBS).where(JOBS.c.id == job_id, JOBS.c.owner_id == actor.id)
            )

    async def greet(self, client: Client, topic: Topic) -> None:
        """A new subscriber of ``jobs/{id}`` gets the job's state as it is now."""
        assert topic.pk is not None
        row = await self._row(client.actor, int(topic.pk))
        if row is None:
            return
        if row["state"] == "running":
            frame = _progress_frame(row["done"], row["total"])
        else:
            frame = _result_frame(row)
        client.send({**frame, "topic": topic.name})

    async def wait(self, job_id: int) -> None:
        """Until this instance's task of the job has ended (tests, shutdown)."""
        task = self._tasks.get(job_id)
        if task is not None:
            await asyncio.wait({task})

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        """Cancel the jobs still running here: each is recorded as failed, its done rows stay."""
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks)


class JobFeed:
    """``jobs/{id}``: only the job's owner may follow it. Its frames are not log entries."""

    log_resource = "collabadmin_job"

    def __init__(self, jobs: JobService) -> None:
        self.jobs = jobs

    def follows(self, topic: Topic) -> bool:
        return topic.kind == "job"

    async def check(self, actor: Actor, topic: Topic) -> None:
        assert topic.pk is not None
        if await self.jobs._row(actor, int(topic.pk)) is None:
            raise SubscribeError("not_found", f"No job {topic.pk}.")

    async def route(self, tx: Tx, entries: Any, subscriptions: Any) -> dict[int, list[Any]]:
        return {}
