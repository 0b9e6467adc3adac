"""Scheduling a run's injects on the job queue (server/jobs/, pgqueuer): durable, any process.

The truth stays in the run's own rows (the clock on `drill_run`, the injects, the fired rows);
a job only says "look at this run at this moment". `drill.advance` fires, in order and one
transaction each, every inject that is due (bot steps due together: a bounded batch per
transaction), then queues its successor for the moment the next one is due. Every change of the
clock (start, pause, resume, speed, skip, stop) bumps the run's `clock_version` and queues a
job for now in the same transaction; a job of an older version fires what is due and queues
nothing, so a superseded schedule dies out by itself. The queue runs a job at least once: a
second run finds the inject's fired row (a step's done mark) and fires nothing twice.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import msgspec
import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.core import context
from server.drills import runs
from server.drills.models import DrillRun
from server.jobs import REGISTRY, Entrypoint, JobContext, enqueue
from server.push.queue import Notification, enqueue_push

log = structlog.get_logger("tonari.drills")


class AdvanceJob(msgspec.Struct, frozen=True):
    tenant_id: uuid.UUID
    run_id: uuid.UUID
    version: int


async def advance_job(ctx: JobContext, job: AdvanceJob) -> None:
    await advance(ctx.sessionmaker, job)


ADVANCE = REGISTRY.add(
    Entrypoint("drill.advance", AdvanceJob, advance_job, max_attempts=10, max_delay=timedelta(seconds=30))
)


async def schedule_now(db: AsyncSession, run: DrillRun) -> None:
    """A new clock version and a job for now, in the caller's transaction."""
    run.clock_version += 1
    await db.flush()
    await enqueue(db, ADVANCE, [AdvanceJob(run.tenant_id, run.id, run.clock_version)])


async def _fire_due(sessionmaker: async_sessionmaker[AsyncSession], job: AdvanceJob) -> int:
    fired_n = 0
    singly = 0  # after a batch failed: this many fires one step at a time, to find the one that fails
    while True:
        try:
            async with sessionmaker() as db:
                fired = await runs.fire_next(db, job.run_id, 1 if singly else None)
                if fired is not None and fired.push is not None:
                    # Written with the inject's fired row: pushed once, and only if it fired.
                    await enqueue_push(
                        db,
                        tenant_id=job.tenant_id,
                        notifications=[
                            Notification(
                                user_ids=fired.push.user_ids,
                                key=f"drill-{job.run_id}-{fired.seq}",
                                message=fired.push.message,
                                drill=True,
                            )
                        ],
                    )
                await db.commit()
        except Exception as e:
            log.exception("drill.inject_failed", run_id=str(job.run_id))
            if not singly:  # nothing of the batch was written: retry it step by step
                singly = max(runs.BATCH_STEPS, runs.BATCH_STEPS_TIMED)
                continue
            async with sessionmaker() as db:
                seq = await runs.record_failure(db, job.run_id, f"{type(e).__name__}: {e}")
                await db.commit()
            if seq is None:
                raise
            continue
        if fired is None:
            return fired_n
        singly = max(0, singly - 1)
        fired_n += 1
        log.info("drill.inject_fired", run_id=str(job.run_id), seq=fired.seq, kind=fired.kind, steps=fired.steps)


async def advance(sessionmaker: async_sessionmaker[AsyncSession], job: AdvanceJob) -> None:
    """Fire what is due; if this job's clock version is current, queue the next look."""
    async with sessionmaker() as db:
        token = context.set_context(
            context.RequestContext(request_id=f"drill-{job.run_id}", tenant_id=job.tenant_id, role="system")
        )
        try:
            found = await runs.find(db, job.run_id)
            if found is None:  # deleted since the job was queued: nothing left to do
                return
            user_id, role = found.started_by, await runs.starter_role(db, found)
            await db.rollback()
        finally:
            context.reset(token)
    token = context.set_context(
        context.RequestContext(request_id=f"drill-{job.run_id}", tenant_id=job.tenant_id, user_id=user_id, role=role)
    )
    try:
        while True:
            await _fire_due(sessionmaker, job)
            async with sessionmaker() as db:
                run = await runs.find(db, job.run_id, lock=True)
                if run is None or run.clock_version != job.version or run.status != "running":
                    return
                due = await runs.next_wake(db, run)
                now: datetime = await runs.db_now(db)
                if due is None:
                    return
                if due <= now:  # due already (the clock reached it while we worked): fire it now
                    await db.rollback()
                    continue
                await enqueue(db, ADVANCE, [job], delay=due - now)
                await db.commit()
                return
    finally:
        context.reset(token)
