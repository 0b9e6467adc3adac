"""Group commit of the field's visits (`POST /api/sync/push` and `POST /api/operations/{id}/visits`):
the machinery that lets many phones' requests share a transaction. The rules a visit is held to are in
`server/operations/ingest.py`; this only decides which visits commit together (decision 0007).
"""

from __future__ import annotations

import asyncio
import contextvars
import uuid
from dataclasses import dataclass
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.core import context
from server.operations.ingest import IngestOutcome, ingest, ingest_group
from server.operations.schemas import VisitIn

log = structlog.get_logger("tonari.visits")


@dataclass
class _Pending:
    """One request's visits waiting for a flush: all of them commit in the same transaction."""

    context: context.RequestContext
    items: list[tuple[uuid.UUID, Any]]  # (operation_id, VisitIn | the push's raw item)
    future: asyncio.Future[IngestOutcome]


class VisitBatcher:
    """Per-process group commit of the field's visits: the single-visit route
    (`POST /api/operations/{id}/visits`) and the sync push (`POST /api/sync/push`, what the PWA sends).

    A request enqueues its visits and awaits a future. While fewer than MAX_INFLIGHT flushes run,
    a new flush starts at once with everything queued (no added latency when idle); requests that
    arrive while the flushes are busy wait for the next one, so under load each transaction
    carries many requests (up to MAX_BATCH visits). A request is never split: its visits commit
    together, and a push larger than MAX_BATCH (a reconnect's 1,000 queued visits) is a flush of
    its own. Two flushes in flight overlap one transaction's COMMIT (the WAL flush) with the next
    one's checks and inserts. Every request gets its own results, only after the COMMIT that holds
    its visits. If a group's transaction fails, its requests are retried one by one, so one
    request's failure never fails the others (within a request, every item is judged alone).

    Concurrent flushes are safe: the status recompute locks the targets in one global order and
    re-checks each row under its lock (a later visit is never regressed), and event ids are
    assigned at COMMIT under the tenant's advisory lock (server/events/emit.py), so they still
    commit in order.
    """

    MAX_BATCH = 200
    MAX_INFLIGHT = 2

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], max_inflight: int | None = None) -> None:
        self._sessionmaker = sessionmaker
        self._queue: list[_Pending] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self.max_inflight = max_inflight or self.MAX_INFLIGHT
        self.flushes = 0  # flushes started (tests read it)
        self.largest_batch = 0  # visits in the largest flush
        self.largest_group = 0  # requests in the largest flush

    @property
    def queued(self) -> int:
        """Requests waiting for a flush."""
        return len(self._queue)

    def set_inflight(self, n: int) -> None:
        """How many flushes may run at once, from now on (0 holds every request in the queue)."""
        self.max_inflight = n
        self._start_flushes(asyncio.get_running_loop())

    async def submit(self, operation_id: uuid.UUID, visit: VisitIn) -> IngestOutcome:
        return await self.submit_many([(operation_id, visit)])

    async def submit_many(self, items: list[tuple[uuid.UUID, Any]]) -> IngestOutcome:
        """One request's visits (a push: raw items, each judged alone). One result per item, in order."""
        if not items:
            return IngestOutcome(results=[])
        loop = asyncio.get_running_loop()
        future: asyncio.Future[IngestOutcome] = loop.create_future()
        self._queue.append(_Pending(context.current(), items, future))
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

    def _take(self) -> list[_Pending]:
        """The requests of the next flush: in arrival order, up to MAX_BATCH visits (at least one request)."""
        size = 0
        for n, pending in enumerate(self._queue):
            if n and size + len(pending.items) > self.MAX_BATCH:
                break
            size += len(pending.items)
        else:
            n = len(self._queue)
        batch, self._queue = self._queue[: max(n, 1)], self._queue[max(n, 1) :]
        return batch

    async def _run(self) -> None:
        # The batch is taken when the task runs, not when it was created: everything queued by
        # then (e.g. all requests of one event-loop turn) goes into this one transaction.
        batch = self._take() if self._queue else []
        if not batch:
            return
        self.flushes += 1
        self.largest_batch = max(self.largest_batch, sum(len(p.items) for p in batch))
        self.largest_group = max(self.largest_group, len(batch))
        self._start_flushes(asyncio.get_running_loop())  # more queued than one batch: a second flush
        by_tenant: dict[Any, list[_Pending]] = {}
        for pending in batch:
            by_tenant.setdefault(pending.context.tenant_id, []).append(pending)
        for group in by_tenant.values():
            try:
                await self._flush(group)
            except BaseException as exc:  # never leave a request waiting forever
                for pending in group:
                    if not pending.future.done():
                        failure = exc if isinstance(exc, Exception) else RuntimeError("flush cancelled")
                        pending.future.set_exception(failure)
                if not isinstance(exc, Exception):
                    raise

    async def _flush(self, group: list[_Pending]) -> None:
        context.set_context(group[0].context)
        try:
            async with self._sessionmaker() as db:
                outcomes = await ingest_group(db, [(p.context, op, v) for p in group for op, v in p.items])
        except Exception:
            log.warning("visit_group_failed_retrying_singly", size=len(group), exc_info=True)
            for pending in group:
                context.set_context(pending.context)
                try:
                    async with self._sessionmaker() as db:
                        one = await ingest(db, pending.items)
                except Exception as exc:  # noqa: BLE001
                    if not pending.future.done():
                        pending.future.set_exception(exc)
                    continue
                if not pending.future.done():
                    pending.future.set_result(one)
            return
        start = 0
        for pending in group:
            mine = outcomes[start : start + len(pending.items)]
            start += len(pending.items)
            if not pending.future.done():
                pending.future.set_result(_merge(mine))


def _merge(outcomes: list[IngestOutcome]) -> IngestOutcome:
    """One request's answer from its items' outcomes (in order)."""
    if len(outcomes) == 1:
        return outcomes[0]
    merged = IngestOutcome(results=[])
    for o in outcomes:
        merged.results.extend(o.results)
        merged.escalations.extend(o.escalations)
        merged.new_visits.extend(o.new_visits)
    return merged


async def record_single_visit(batcher: VisitBatcher, operation_id: uuid.UUID, visit: VisitIn) -> IngestOutcome:
    """The single-visit endpoint's path: the process's batcher (`services(app).visit_batcher`)
    commits the visit together with concurrent ones."""
    return await batcher.submit(operation_id, visit)
