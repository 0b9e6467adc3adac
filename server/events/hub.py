"""LISTEN/NOTIFY wake-ups for the live feed. One listening connection per app process.

NOTIFY carries only the tenant id and is only a hint: streams read the durable `event` table
(from their Last-Event-ID), and also poll on a timer, so a lost notification or a reconnect of
the listener never loses an event.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections import defaultdict

import asyncpg
import structlog
from sqlalchemy.engine import make_url

from server.events.emit import CHANNEL

log = structlog.get_logger("tonari.events")


class EventHub:
    def __init__(self, database_url: str) -> None:
        self._dsn = make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)
        self._waiters: dict[str, set[asyncio.Event]] = defaultdict(set)
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._listen_forever())

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task

    def _wake(self, tenant: str) -> None:
        for event in list(self._waiters.get(tenant, ())):
            event.set()

    async def _listen_forever(self) -> None:
        delay = 1.0
        while True:
            conn = None
            try:
                conn = await asyncpg.connect(self._dsn)
                await conn.add_listener(CHANNEL, lambda _c, _pid, _ch, payload: self._wake(payload))
                delay = 1.0
                # Everyone polls once after a (re)connect, in case a wake-up was missed meanwhile.
                for tenant in list(self._waiters):
                    self._wake(tenant)
                while not conn.is_closed():
                    await asyncio.sleep(5)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the database restarted or is unreachable: retry with backoff
                log.warning("event_listener_down", error=type(exc).__name__)
            finally:
                if conn is not None:
                    with contextlib.suppress(Exception):
                        await conn.close()
            await asyncio.sleep(delay)
            delay = min(delay * 2, 30.0)

    async def wait(self, tenant_id: uuid.UUID, timeout: float) -> None:
        key = str(tenant_id)
        event = asyncio.Event()
        self._waiters[key].add(event)
        try:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), timeout)
        finally:
            self._waiters[key].discard(event)
