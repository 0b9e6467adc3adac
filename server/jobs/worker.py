"""The worker: one pgqueuer QueueManager per app process, serving the registered entrypoints.

It has connections of its own: a small asyncpg pool for pgqueuer (one connection LISTENs for new
jobs, the others pick and finish them) and a small SQLAlchemy engine for the handlers, so a burst
of jobs never takes the connections requests are answered with. Beside it runs pgqueuer's
scheduler, which enqueues the periodic jobs (`server/jobs/periodic.py`).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import Coroutine
from datetime import timedelta
from typing import Any

import asyncpg
import structlog
from pgqueuer.adapters.drivers.asyncpg import AsyncpgPoolDriver
from pgqueuer.core.executors import DatabaseRetryEntrypointExecutor, EntrypointExecutorParameters
from pgqueuer.core.qm import QueueManager
from pgqueuer.core.sm import SchedulerManager
from pgqueuer.domain.models import Job, Schedule
from pgqueuer.domain.types import Channel
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from server.db.engine import driver_dsn, make_engine, make_sessionmaker, session_settings
from server.jobs import prune as _prune  # noqa: F401 (registers jobs.prune_log and its schedule)
from server.jobs.periodic import PERIODIC, Periodic
from server.jobs.periodic import Schedule as PeriodicSchedule
from server.jobs.queue import REGISTRY, SETTINGS, Entrypoint, JobContext, Registry, queries
from server.settings import Settings

log = structlog.get_logger("tonari.jobs")

# A job whose worker stopped sending heartbeats for this long (a crash, kill -9) is picked again.
HEARTBEAT_TIMEOUT = timedelta(seconds=30)


class JobWorker:
    def __init__(
        self,
        database_url: str,
        *,
        settings: Settings | None = None,
        registry: Registry = REGISTRY,
        periodic: PeriodicSchedule = PERIODIC,
        batch_size: int = 20,
        handler_connections: int = 8,
        heartbeat_timeout: timedelta = HEARTBEAT_TIMEOUT,
    ) -> None:
        self.database_url = database_url
        self.dsn = driver_dsn(database_url)
        self.handler_connections = handler_connections
        self.registry = registry
        # Without settings (tools, some tests) no periodic job is scheduled.
        self.settings = settings
        self.periodic = periodic
        self.batch_size = batch_size
        self.heartbeat_timeout = heartbeat_timeout
        self._pool: asyncpg.Pool | None = None
        self._engine: AsyncEngine | None = None
        self.sessionmaker: async_sessionmaker[AsyncSession] | None = None
        self._qm: QueueManager | None = None
        self._sm: SchedulerManager | None = None
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()

    async def start(self) -> None:
        """Returns at once: the worker connects in the background and keeps trying while the
        database is away (the app starts and answers /health/ready with 503 meanwhile)."""
        self._engine = make_engine(self.database_url, self.handler_connections, application_name="tonari-jobs")
        self.sessionmaker = make_sessionmaker(self._engine)
        self._pool = await asyncpg.create_pool(
            self.dsn, min_size=0, max_size=4, server_settings=session_settings("tonari-jobs")
        )
        self._stopping = asyncio.Event()
        self._task = asyncio.get_running_loop().create_task(self._serve(self._pool), name="tonari-jobs")
        self._task.add_done_callback(_log_exit)

    def _manager(self, pool: asyncpg.Pool) -> QueueManager:
        qm = QueueManager(queries(AsyncpgPoolDriver(pool)), channel=Channel(SETTINGS.channel))
        for ep in self.registry:
            qm.entrypoint(
                ep.name,
                concurrency_limit=ep.concurrency_limit,
                accepts_context=False,
                executor_factory=functools.partial(_executor, ep),
            )(functools.partial(self._run, ep))
        return qm

    def _scheduler(self, pool: asyncpg.Pool) -> SchedulerManager | None:
        if self.settings is None or not len(self.periodic):
            return None
        sm = SchedulerManager(queries(AsyncpgPoolDriver(pool)))
        for p in self.periodic:
            sm.schedule(p.entrypoint.name, p.cron, accepts_context=False)(
                functools.partial(self._enqueue_periodic, pool, p, self.settings)
            )
        return sm

    async def _enqueue_periodic(self, pool: asyncpg.Pool, p: Periodic[Any], settings: Settings, _: Schedule) -> None:
        """A tick: enqueue the job, unless the last one is still queued or running (dedupe key)."""
        await queries(AsyncpgPoolDriver(pool)).enqueue(
            [p.entrypoint.name],
            [p.entrypoint.encode(p.payload(settings))],
            [0],
            [None],
            [p.entrypoint.name],
            None,
            on_conflict="skip",
        )

    async def _serve(self, pool: asyncpg.Pool) -> None:
        """Run a QueueManager and the scheduler; if they stop on an error (the database went away), start new ones
        after a pause (1 s doubling to 30 s). Jobs it held are picked again (heartbeat timeout)."""
        pause = 1.0
        while not self._stopping.is_set():
            self._qm = qm = self._manager(pool)
            self._sm = sm = self._scheduler(pool)
            try:
                await _together(
                    (
                        qm.shutdown,
                        qm.run(
                            dequeue_timeout=timedelta(seconds=1),  # how late a job whose time came may start
                            batch_size=self.batch_size,
                            max_concurrent_tasks=4 * self.batch_size,
                            heartbeat_timeout=self.heartbeat_timeout,
                        ),
                    ),
                    *([(sm.shutdown, sm.run())] if sm is not None else []),
                )
                pause = 1.0
            except Exception as exc:  # noqa: BLE001 (logged; the loop is the recovery)
                log.warning("jobs.worker_restarting", error=repr(exc), pause_s=pause)
            if self._stopping.is_set():
                return
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), pause)
            pause = min(pause * 2, 30.0)

    async def stop(self, grace: float = 5.0) -> None:
        """Stop picking jobs; give running ones `grace` seconds. A job cut off here stays
        'picked' and is picked again after the heartbeat timeout (at least once)."""
        self._stopping.set()
        if self._qm is not None:
            self._qm.shutdown.set()
        if self._sm is not None:
            self._sm.shutdown.set()
        if self._task is not None:
            done, _ = await asyncio.wait([self._task], timeout=grace)
            if not done:
                self._task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await self._task
        if self._pool is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._pool.close(), grace)
        if self._engine is not None:
            await self._engine.dispose()
        self._task, self._qm, self._sm, self._pool, self._engine, self.sessionmaker = None, None, None, None, None, None

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def _run(self, ep: Entrypoint[Any], job: Job) -> None:
        payload = ep.decode(job.payload)
        assert self.sessionmaker is not None  # started
        await ep.handler(JobContext(job_id=int(job.id), attempts=job.attempts, sessionmaker=self.sessionmaker), payload)


async def _together(*runs: tuple[asyncio.Event, Coroutine[Any, Any, None]]) -> None:
    """Run the queue manager and the scheduler; when one stops (shutdown or an error), stop the
    other too and re-raise the first error."""
    tasks = [asyncio.ensure_future(run) for _, run in runs]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for shutdown, _ in runs:
            shutdown.set()
        outcomes = await asyncio.gather(*tasks, return_exceptions=True)
    for outcome in outcomes:
        if isinstance(outcome, BaseException):
            raise outcome


def _executor(ep: Entrypoint[Any], parameters: EntrypointExecutorParameters) -> DatabaseRetryEntrypointExecutor:
    """An unexpected error in a handler re-queues the job with exponential backoff (1 s, 2 s, 4 s …
    up to ep.max_delay) until it has run ep.max_attempts times; then pgqueuer logs it as failed (pgqueuer_log)."""
    return DatabaseRetryEntrypointExecutor(
        parameters, max_attempts=ep.max_attempts - 1, initial_delay=timedelta(seconds=1), max_delay=ep.max_delay
    )


def _log_exit(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("jobs.worker_stopped", error=repr(task.exception()))
