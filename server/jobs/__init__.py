"""The job queue the product shares: durable background work in PostgreSQL (pgqueuer).

    from server.jobs import Entrypoint, enqueue

    DELIVER = Entrypoint("push.deliver", DeliverJob, deliver)      # registered by name, once
    await enqueue(db_session, DELIVER, [DeliverJob(...)])           # on the caller's transaction
    await db_session.commit()                                       # the job exists only now

A job is written on the caller's own connection, in the caller's transaction: a rolled-back
transaction leaves no job, and a committed one is never lost (a worker picks it up, at least
once). The worker (`server/jobs/worker.py`) runs with the app (`JobsPlugin`). The library, the
semantics (at-least-once, dedupe, retries with backoff, what a crash does) and why are in
docs/decisions/0023-job-queue.md.
"""

from __future__ import annotations

from server.jobs.queue import (
    REGISTRY,
    Entrypoint,
    JobContext,
    Retry,
    enqueue,
    queued_jobs,
)

__all__ = ["REGISTRY", "Entrypoint", "JobContext", "Retry", "enqueue", "queued_jobs"]
