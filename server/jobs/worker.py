"""The worker: one pgqueuer QueueManager per app process, serving the registered entrypoints.

It has a small asyncpg pool of its own (one connection LISTENs for new jobs, the others pick and
finish them), so a burst of jobs never takes the request pool's connections for queue
bookkeeping; handlers do their own work through the app's sessionmaker.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from datetime import timedelta
from typing import Any

import asyncpg
import structlog
from pgqueuer.adapters.drivers.asyncpg import AsyncpgPoolDriver
from pgqueuer.core.executors import DatabaseRetryEntrypointExecutor, EntrypointExecutorParameters
from pgqueuer.core.qm import QueueManager
from pgqueuer.domain.models import Job
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.db.engine import driver_dsn, session_settings
from server.jobs.queue import REGISTRY, SETTINGS, Entrypoint, JobContext, Registry, queries

log = structlog.get_logger("tonari.jobs")

# A job whose worker stopped sending heartbeats for this long (a crash, kill -9) is picked again.
HEARTBEAT_TIMEOUT = timedelta(seconds=30)


class JobWorker:
    def __init__(
        self,
        database_url: str,
        sessionmaker: async_sessionmaker[AsyncSession],
        *,
        registry: Registry = REGISTRY,
        batch_size: int = 20,
        heartbeat_timeout: timedelta = HEARTBEAT_TIMEOUT,
    ) -> None:
        self.dsn = driver_dsn(database_url)
        self.sessionmaker = sessionmaker
        self.registry = registry
        self.batch_size = batch_size
        self.heartbeat_timeout = heartbeat_timeout
        self._pool: asyncpg.Pool | None = None
        self._qm: QueueManager | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._pool = await asyncpg.create_pool(
            self.dsn, min_size=1, max_size=3, server_settings=session_settings("tonari-jobs")
        )
        qm = QueueManager(queries(AsyncpgPoolDriver(self._pool)), channel=SETTINGS.channel)  # type: ignore[arg-type]
        for ep in self.registry:
            qm.entrypoint(
                ep.name,
                concurrency_limit=ep.concurrency_limit,
                accepts_context=False,
                executor_factory=functools.partial(_executor, ep),
            )(functools.partial(self._run, ep))
        self._qm = qm
        self._task = asyncio.get_running_loop().create_task(
            qm.run(
                dequeue_timeout=timedelta(seconds=5),
                batch_size=self.batch_size,
                max_concurrent_tasks=4 * self.batch_size,
                heartbeat_timeout=self.heartbeat_timeout,
            ),
            name="tonari-jobs",
        )
        self._task.add_done_callback(_log_exit)

    async def stop(self, grace: float = 5.0) -> None:
        """Stop picking jobs; give running ones `grace` seconds. A job cut off here stays
        'picked' and is picked again after the heartbeat timeout (at least once)."""
        if self._qm is not None:
            self._qm.shutdown.set()
        if self._task is not None:
            done, _ = await asyncio.wait([self._task], timeout=grace)
            if not done:
                self._task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await self._task
        if self._pool is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._pool.close(), grace)
        self._task, self._qm, self._pool = None, None, None

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def _run(self, ep: Entrypoint[Any], job: Job) -> None:
        payload = ep.decode(job.payload)
        await ep.handler(JobContext(job_id=int(job.id), attempts=job.attempts, sessionmaker=self.sessionmaker), payload)


def _executor(ep: Entrypoint[Any], parameters: EntrypointExecutorParameters) -> DatabaseRetryEntrypointExecutor:
    """An unexpected error in a handler re-queues the job with exponential backoff (1 s, 2 s, 4 s …
    up to ep.max_delay) until it has run ep.max_attempts times; then pgqueuer logs it as failed (pgqueuer_log)."""
    return DatabaseRetryEntrypointExecutor(
        parameters, max_attempts=ep.max_attempts - 1, initial_delay=timedelta(seconds=1), max_delay=ep.max_delay
    )


def _log_exit(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("jobs.worker_stopped", error=repr(task.exception()))
