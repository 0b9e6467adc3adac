"""LISTEN/NOTIFY wake-ups for the live feed. One listening connection per app process.

NOTIFY carries only the tenant id and is only a hint: streams read the durable `event` table
(from their Last-Event-ID), and also poll on a timer, so a lost notification or a reconnect of
the listener never loses an event.

The hub also sends the wake-ups (`notify_after_commit`, called by server.events.emit after a
transaction with events commits): streams of this process are woken at once; other processes
get at most one NOTIFY per tenant per COALESCE_SECONDS, from the hub's own connection, outside
the writers' transactions (an in-transaction NOTIFY serialises every writer's commit).
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections import defaultdict

import asyncpg
import structlog
from sqlalchemy.ext.asyncio import AsyncEngine

from server.db.engine import driver_dsn, make_engine, make_sessionmaker
from server.events.emit import CHANNEL, register_notifier

log = structlog.get_logger("tonari.events")

COALESCE_SECONDS = 0.05
READ_WAIT_SECONDS = 600.0


class EventHub:
    """The live feed's whole database footprint in a process: one listening connection, one
    sending connection, and `reads`, a small pool of its own that every stream's reads share
    (never the request pool: 300 open consoles cannot starve sign-in or sync; decision 0006,
    addendum #16). A stream holds a connection only while it reads, never while it waits."""

    def __init__(self, database_url: str, engine: AsyncEngine | None = None, read_pool_size: int = 3) -> None:
        self._dsn = driver_dsn(database_url)
        # A stream waits its turn for a read connection as long as it takes (a busy moment makes
        # the feed late, never cuts it): the requests' short timeout is for requests.
        self.read_engine = make_engine(
            database_url, pool_size=read_pool_size, application_name="tonari-events", pool_timeout=READ_WAIT_SECONDS
        )
        self.reads = make_sessionmaker(self.read_engine)
        self._waiters: dict[str, set[asyncio.Event]] = defaultdict(set)
        self._task: asyncio.Task[None] | None = None
        self._pending: set[str] = set()
        self._flush: asyncio.Task[None] | None = None
        self._sender: asyncpg.Connection | None = None
        self._sender_pid: int | None = None
        if engine is not None:
            register_notifier(engine, self)

    async def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._listen_forever())

    async def stop(self) -> None:
        if self._flush is not None:  # send what is pending rather than drop it
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._flush
        if self._sender is not None:
            with contextlib.suppress(Exception):
                await self._sender.close()
            self._sender = None
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        await self.read_engine.dispose()

    def _wake(self, tenant: str) -> None:
        for event in list(self._waiters.get(tenant, ())):
            event.set()

    def notify_after_commit(self, tenant: str) -> None:
        """A transaction with events of `tenant` committed: wake local streams now, others soon."""
        self._wake(tenant)
        self._pending.add(tenant)
        if self._flush is None:
            self._flush = asyncio.get_running_loop().create_task(self._send_pending())

    async def _send_pending(self) -> None:
        await asyncio.sleep(COALESCE_SECONDS)
        tenants, self._pending = sorted(self._pending), set()
        self._flush = None  # commits from now on schedule the next NOTIFY
        try:
            if self._sender is None or self._sender.is_closed():
                self._sender = await asyncpg.connect(self._dsn, server_settings={"application_name": "tonari-notify"})
                self._sender_pid = self._sender.get_server_pid()
            await self._sender.execute("SELECT pg_notify($1, t) FROM unnest($2::text[]) AS t", CHANNEL, tenants)
        except Exception as exc:  # noqa: BLE001 (streams still poll: a lost wake-up only delays)
            log.warning("event_notify_failed", error=type(exc).__name__)
            if self._sender is not None:
                with contextlib.suppress(Exception):
                    await self._sender.close()
            self._sender = None

    def _on_notify(self, _conn: object, pid: int, _channel: str, payload: object) -> None:
        if pid != self._sender_pid:  # our own NOTIFY: these streams were woken at commit already
            self._wake(str(payload))  # asyncpg hands NOTIFY payloads over as str

    async def _listen_forever(self) -> None:
        delay = 1.0
        while True:
            conn = None
            try:
                conn = await asyncpg.connect(self._dsn)
                await conn.add_listener(CHANNEL, self._on_notify)
                delay = 1.0
                # Everyone polls once after a (re)connect, in case a wake-up was missed meanwhile.
                for tenant in list(self._waiters):
                    self._wake(tenant)
                while not conn.is_closed():  # noqa: ASYNC110 - asyncpg signals no close event to wait on
                    await asyncio.sleep(5)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - the database restarted or is unreachable: retry with backoff
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
