"""Firing due injects: the scheduling interface, and the in-process ticker behind it for now.

The truth is in the database (the clock on `drill_run`, the injects, the fired rows), so any
scheduler only has to wake up at the right moment and call `runs.fire_next` until nothing is
due. `InjectScheduler` is what the rest of the engine asks for; `DrillTicker` implements it with
one asyncio task per app process that sleeps until the next due moment (read from the database,
never remembered across a restart), woken early when a run's clock changes and at least every
`poll_seconds` for changes made by other processes. When the PostgreSQL job queue (#16) lands,
a queue-backed scheduler replaces this class behind the same interface.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Protocol

import structlog
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.core import context
from server.drills import runs
from server.push.queue import PushService, schedule_after_commit

log = structlog.get_logger("tonari.drills")


class InjectScheduler(Protocol):
    def wake(self) -> None:
        """A run's clock changed (started, resumed, sped up, skipped): look again now."""


class DrillTicker:
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession],
                 push: Callable[[], PushService | None] = lambda: None, *, poll_seconds: float = 1.0) -> None:
        self.sessionmaker = sessionmaker
        self.push = push
        self.poll_seconds = poll_seconds
        self._event = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.fired = 0  # injects this process fired (tests, logs)
        self.rounds = 0  # rounds of the loop so far (a test waits for one to pass)

    async def start(self) -> None:
        self._event = asyncio.Event()
        self._task = asyncio.get_running_loop().create_task(self._loop(), name="tonari-drill-ticker")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    def wake(self) -> None:
        self._event.set()

    async def _loop(self) -> None:
        while True:
            wait = self.poll_seconds
            try:
                wait = min(wait, await self.tick())
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("drill.tick_failed")
            self.rounds += 1
            self._event.clear()
            if wait > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._event.wait(), wait)

    async def tick(self) -> float:
        """Fire everything due in every running drill; seconds until the next thing is due."""
        async with self.sessionmaker() as db:
            token = context.set_context(context.RequestContext(request_id="drill-ticker"))
            try:
                tenants = list((await db.execute(text("SELECT id FROM tenant ORDER BY id"))).scalars())
                await db.rollback()
            finally:
                context.reset(token)
        wait = self.poll_seconds
        for tenant_id in tenants:
            for run_id, user_id, role in await self._running(tenant_id):
                wait = min(wait, await self.advance(tenant_id, run_id, user_id, role))
        return wait

    async def _running(self, tenant_id: uuid.UUID) -> list[tuple[uuid.UUID, uuid.UUID, str]]:
        token = context.set_context(context.RequestContext(request_id="drill-ticker", tenant_id=tenant_id, role="system"))
        try:
            async with self.sessionmaker() as db:
                rows = (await db.execute(text(
                    "SELECT r.id, r.started_by, coalesce(u.role, 'staff') AS role FROM drill_run r"
                    " LEFT JOIN app_user u ON u.tenant_id = r.tenant_id AND u.id = r.started_by"
                    " WHERE r.tenant_id = :t AND r.status = 'running' ORDER BY r.id"), {"t": tenant_id})).all()
                await db.rollback()
            return [(r.id, r.started_by, r.role) for r in rows]
        finally:
            context.reset(token)

    async def advance(self, tenant_id: uuid.UUID, run_id: uuid.UUID, user_id: uuid.UUID, role: str) -> float:
        """Fire this run's due injects in order, one transaction each, as the user who started
        it; seconds until its next one."""
        token = context.set_context(context.RequestContext(request_id=f"drill-{run_id}", tenant_id=tenant_id,
                                                           user_id=user_id, role=role))
        try:
            while True:
                try:
                    async with self.sessionmaker() as db:
                        fired = await runs.fire_next(db, run_id)
                        if fired is not None and fired.push is not None and self.push() is not None:
                            schedule_after_commit(self.push(), db, tenant_id=tenant_id, user_ids=fired.push.user_ids,
                                                  message=fired.push.message, drill=True)
                        await db.commit()
                except Exception as e:  # noqa: BLE001 (the inject is recorded as failed; the drill goes on)
                    log.exception("drill.inject_failed", run_id=str(run_id))
                    async with self.sessionmaker() as db:
                        seq = await runs.record_failure(db, run_id, f"{type(e).__name__}: {e}")
                        await db.commit()
                    if seq is None:
                        break
                    continue
                if fired is None:
                    break
                self.fired += 1
                log.info("drill.inject_fired", run_id=str(run_id), seq=fired.seq, kind=fired.kind)
            async with self.sessionmaker() as db:
                run = await runs.get(db, run_id)
                due = await runs.next_wake(db, run)
                now: datetime = await runs.db_now(db)
                await db.rollback()
            if due is None:
                return self.poll_seconds
            return max(0.0, (due - now).total_seconds())
        finally:
            context.reset(token)
