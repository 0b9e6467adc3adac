"""Sending off the request path: a bounded in-process queue drained by a few asyncio workers.

Request handlers never wait for a push service. They hand a job over and answer:

    schedule_after_commit(services(request.app).push, db_session, tenant_id=…, user_ids=[…],
                          message=PushMessage(...), drill=operation.mode == "drill")
    await db_session.commit()

The job is queued only when the session's current transaction commits (a rolled-back write
notifies nobody). With no transaction open it is queued at once; `schedule()` always queues at
once (for work that has no transaction, e.g. a drill clock firing an inject).

Push is best-effort and in-memory: a full queue drops the job (logged as `push.queue_full`), and
jobs still queued at shutdown after a short grace period are dropped (logged). The durable event
table and the live feed are the record; a notification is only a wake-up.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

import structlog
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session, SessionTransaction

from server.core import context
from server.push import send
from server.push.send import PushMessage, SendReport
from server.push.vapid import VapidKeys

log = structlog.get_logger("tonari.push")

_PENDING = "tonari_push_pending"
_HOOKED = "tonari_push_hooked"


@dataclass(frozen=True)
class PushJob:
    tenant_id: uuid.UUID
    user_ids: tuple[uuid.UUID, ...]
    message: PushMessage
    drill: bool
    request_id: str = ""


class PushService:
    """Owns the queue and its workers; `services(app).push` while the app runs (server/push/plugin.py)."""

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        keys: VapidKeys,
        *,
        maxsize: int = 1000,
        workers: int = 2,
        timeout: float = send.DEFAULT_TIMEOUT,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.keys = keys
        self.timeout = timeout
        self._maxsize = maxsize
        self._n_workers = workers
        self._queue: asyncio.Queue[PushJob | None] | None = None
        self._workers: list[asyncio.Task[None]] = []
        self._accepting = False
        self.last_report: SendReport | None = None

    async def start(self) -> None:
        self._queue = asyncio.Queue(maxsize=self._maxsize)
        self._accepting = True
        self._workers = [
            asyncio.get_running_loop().create_task(self._work(), name=f"tonari-push-{i}") for i in range(self._n_workers)
        ]

    async def stop(self, grace: float = 5.0) -> None:
        """Stop taking jobs, give queued ones `grace` seconds, then cancel what is left."""
        self._accepting = False
        if self._queue is None:
            return
        for _ in self._workers:
            with contextlib.suppress(asyncio.QueueFull):
                self._queue.put_nowait(None)
        if self._workers:
            _, pending = await asyncio.wait(self._workers, timeout=grace)
            for task in pending:
                task.cancel()
            for task in pending:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        left = sum(1 for _ in range(self._queue.qsize()) if self._queue.get_nowait() is not None)
        if left:
            log.warning("push.dropped_at_shutdown", jobs=left)
        self._workers = []
        send.shutdown_pool()

    def enqueue(self, job: PushJob) -> bool:
        """Non-blocking. False (and a log line) when stopped or full."""
        if not self._accepting or self._queue is None:
            log.warning("push.not_running", tenant_id=str(job.tenant_id), kind=job.message.kind)
            return False
        try:
            self._queue.put_nowait(job)
        except asyncio.QueueFull:
            log.error("push.queue_full", tenant_id=str(job.tenant_id), kind=job.message.kind, size=self._maxsize)
            return False
        return True

    async def drain(self) -> None:
        """Wait until every queued job has been handled (tests, graceful tools)."""
        if self._queue is not None:
            await self._queue.join()

    async def _work(self) -> None:
        assert self._queue is not None
        while True:
            job = await self._queue.get()
            try:
                if job is None:
                    return
                token = context.set_context(context.RequestContext(request_id=job.request_id))
                try:
                    with structlog.contextvars.bound_contextvars(request_id=job.request_id or None):
                        self.last_report = await send.notify(
                            self.sessionmaker,
                            job.tenant_id,
                            job.user_ids,
                            job.message,
                            drill=job.drill,
                            keys=self.keys,
                            timeout=self.timeout,
                        )
                finally:
                    context.reset(token)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("push.job_failed", tenant_id=str(job.tenant_id) if job else None)
            finally:
                self._queue.task_done()


def running(push: PushService | None) -> PushService:
    """The app's push service (`services(app).push`), which PushPlugin starts with the app."""
    if push is None:
        raise RuntimeError("the push service is not running: is PushPlugin registered in create_app?")
    return push


def _job(tenant_id: uuid.UUID, user_ids: Iterable[uuid.UUID], message: PushMessage, drill: bool) -> PushJob:
    message.encode(drill=drill)  # fail in the caller (wrong drill marking, too large), not in a worker
    return PushJob(
        tenant_id=tenant_id,
        user_ids=tuple(dict.fromkeys(user_ids)),
        message=message,
        drill=drill,
        request_id=context.current().request_id,
    )


def schedule(
    push: PushService | None,
    *,
    tenant_id: uuid.UUID,
    user_ids: Iterable[uuid.UUID],
    message: PushMessage,
    drill: bool,
) -> bool:
    """Queue a notification now. Returns False if it could not be queued (stopped or full)."""
    return running(push).enqueue(_job(tenant_id, user_ids, message, drill))


def _on_commit(session: Session) -> None:
    jobs: list[tuple[PushService, PushJob]] = session.info.pop(_PENDING, [])
    for svc, job in jobs:
        svc.enqueue(job)


def _on_end(session: Session, transaction: SessionTransaction) -> None:
    # Runs after after_commit on commit; on rollback/close it discards what never committed.
    if transaction.parent is None:
        dropped = session.info.pop(_PENDING, None)
        if dropped:
            log.info("push.discarded_on_rollback", jobs=len(dropped))


def schedule_after_commit(
    push: PushService | None,
    db: AsyncSession,
    *,
    tenant_id: uuid.UUID,
    user_ids: Iterable[uuid.UUID],
    message: PushMessage,
    drill: bool,
) -> None:
    """Queue a notification once `db`'s current transaction commits; drop it if it rolls back."""
    svc = running(push)
    job = _job(tenant_id, user_ids, message, drill)
    if not db.in_transaction():
        svc.enqueue(job)
        return
    sync = db.sync_session
    if not sync.info.get(_HOOKED):
        event.listen(sync, "after_commit", _on_commit)
        event.listen(sync, "after_transaction_end", _on_end)
        sync.info[_HOOKED] = True
    sync.info.setdefault(_PENDING, []).append((svc, job))
