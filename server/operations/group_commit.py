"""Group commit of single visits (`POST /api/operations/{id}/visits`): the machinery that lets many
phones' one-visit requests share a transaction. The rules a visit is held to are in
`server/operations/ingest.py`; this only decides which visits commit together (decision 0007).
"""

from __future__ import annotations

import asyncio
import contextvars
import uuid
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.core import context
from server.operations.ingest import IngestOutcome, ingest, ingest_group
from server.operations.schemas import VisitIn

log = structlog.get_logger("tonari.visits")


class VisitBatcher:
    """Per-process group commit of single visits (`POST /api/operations/{id}/visits`).

    A request enqueues its visit and awaits a future. While fewer than MAX_INFLIGHT flushes run,
    a new flush starts at once with everything queued (no added latency when idle); visits that
    arrive while the flushes are busy wait for the next one, so under load each transaction
    carries many visits (up to MAX_BATCH). Two flushes in flight overlap one transaction's COMMIT
    (the WAL flush) with the next one's checks and inserts; with one, the worker idled during
    every commit. Every request still gets its own result, only after the COMMIT that holds its
    visit. If a group's transaction fails, its visits are retried one by one, so one bad visit
    never fails the others.

    Concurrent flushes are safe: the status recompute re-checks each target row under its lock
    (a later visit is never regressed), and event ids are assigned at COMMIT under the tenant's
    advisory lock (server/events/emit.py), so they still commit in order.
    """

    MAX_BATCH = 200
    MAX_INFLIGHT = 2

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], max_inflight: int | None = None) -> None:
        self._sessionmaker = sessionmaker
        self._queue: list[tuple[context.RequestContext, uuid.UUID, VisitIn, asyncio.Future[IngestOutcome]]] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self.max_inflight = max_inflight or self.MAX_INFLIGHT
        self.flushes = 0  # flushes started (tests read it)
        self.largest_batch = 0

    async def submit(self, operation_id: uuid.UUID, visit: VisitIn) -> IngestOutcome:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[IngestOutcome] = loop.create_future()
        self._queue.append((context.current(), operation_id, visit, future))
        self._start_flushes(loop)
        return await asyncio.shield(future)  # a client that hangs up does not cancel the others' commit

    def _start_flushes(self, loop: asyncio.AbstractEventLoop) -> None:
        if self._queue and len(self._tasks) < self.max_inflight:
            # A context of its own: the flusher must not inherit the first request's.
            task = loop.create_task(self._run(), context=contextvars.Context())
            self._tasks.add(task)
            task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        self._start_flushes(task.get_loop())

    async def _run(self) -> None:
        # The batch is taken when the task runs, not when it was created: everything queued by
        # then (e.g. all requests of one event-loop turn) goes into this one transaction.
        batch, self._queue = self._queue[:self.MAX_BATCH], self._queue[self.MAX_BATCH:]
        if not batch:
            return
        self.flushes += 1
        self.largest_batch = max(self.largest_batch, len(batch))
        self._start_flushes(asyncio.get_running_loop())  # more queued than one batch: a second flush
        by_tenant: dict[Any, list[Any]] = {}
        for entry in batch:
            by_tenant.setdefault(entry[0].tenant_id, []).append(entry)
        for group in by_tenant.values():
            try:
                await self._flush(group)
            except BaseException as exc:  # never leave a request waiting forever
                for *_, future in group:
                    if not future.done():
                        future.set_exception(exc if isinstance(exc, Exception) else RuntimeError("flush cancelled"))
                if not isinstance(exc, Exception):
                    raise

    async def _flush(self, group: list[Any]) -> None:
        context.set_context(group[0][0])
        try:
            async with self._sessionmaker() as db:
                outcomes = await ingest_group(db, [(c, op, v) for c, op, v, _ in group])
        except Exception:  # noqa: BLE001 (each visit alone below: its own error goes to its own request)
            log.warning("visit_group_failed_retrying_singly", size=len(group), exc_info=True)
            for c, op, v, future in group:
                context.set_context(c)
                try:
                    async with self._sessionmaker() as db:
                        one = await ingest(db, [(op, v)])
                except Exception as exc:  # noqa: BLE001
                    if not future.done():
                        future.set_exception(exc)
                    continue
                if not future.done():
                    future.set_result(one)
            return
        for (_, _, _, future), outcome in zip(group, outcomes, strict=True):
            if not future.done():
                future.set_result(outcome)


async def record_single_visit(batcher: VisitBatcher, operation_id: uuid.UUID, visit: VisitIn) -> IngestOutcome:
    """The single-visit endpoint's path: the process's batcher (`services(app).visit_batcher`)
    commits the visit together with concurrent ones."""
    return await batcher.submit(operation_id, visit)
