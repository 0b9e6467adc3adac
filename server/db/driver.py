"""A request transaction held on the driver (asyncpg) directly, for the hottest read path.

Map tiles are requested dozens at a time while a map pans, and each is one statement of
0.3–1 ms. Through the ORM session the request cost several times that in Python (session and
transaction objects, statement compilation, result wrapping). A route marked with
`AUTH_ON_DRIVER` gets instead a `DriverTransaction`: a pooled connection, BEGIN, the one
authentication call (which stamps the transaction for RLS exactly as on the ORM path), then the
handler's statements on the same driver connection. The auth middleware releases it after the
response has been sent: a rollback unless the handler committed, and the connection goes back
to the pool either way.

Those paths take their connections from `DriverPool`, not from SQLAlchemy's pool: a checkout
there went through AsyncConnection, a greenlet hop and the pool's bookkeeping, ≈ 0.1 ms of a
1–2 ms tile (decision 0011).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import asyncpg
from sqlalchemy import TextClause
from sqlalchemy.dialects.postgresql import asyncpg as asyncpg_dialect

from server.db.engine import driver_dsn, session_settings

# Route option: the route's handler works on `driver_transaction(request)`, not `db_session`.
AUTH_ON_DRIVER = "tonari_auth_on_driver"
SCOPE_KEY = "tonari_driver_transaction"
POOL_KEY = "tonari_driver_pool"  # app state

_DIALECT = asyncpg_dialect.dialect()


@lru_cache(maxsize=256)
def positional(stmt: TextClause) -> tuple[str, tuple[str, ...]]:
    """A text() statement with :name parameters as asyncpg SQL ($1…) and the names in $-order
    (compiled once per statement object; the driver caches the prepared statement per connection)."""
    compiled = stmt.compile(dialect=_DIALECT)
    return compiled.string, tuple(compiled.positiontup or ())


class DriverPool:
    """Connections for the driver-level request paths (tiles, the visit route's auth call).

    Same database, role and session settings as the request engine (server/db/engine.py), opened
    on demand up to `size`, handed out last-in first-out (the warmest connection first), waiters
    served in turn. A connection found dead is dropped and the idle ones closed, as SQLAlchemy's
    pool does on a disconnect.

    Why not asyncpg's own pool: its checkout and return (holder, proxy object, inactivity timer,
    a reset call, a shielded release task) cost 15–20 µs per tile on a path whose whole Python
    share is ~0.1 ms (decision 0011, second addendum). These paths need none of that: they end
    their transaction themselves, set only transaction-local settings and never LISTEN.
    """

    def __init__(self, url: str, size: int, application_name: str = "tonari") -> None:
        self.dsn = driver_dsn(url)
        self.size, self.application_name = size, application_name
        self._idle: list[asyncpg.Connection] = []
        self._lent: set[asyncpg.Connection] = set()
        self._opened = 0  # open or being opened, idle or in use
        self._waiters: deque[asyncio.Future[None]] = deque()
        self._started = False

    async def start(self) -> None:
        self._started = True  # connections are opened on demand

    async def acquire(self) -> asyncpg.Connection:
        if not self._started:
            raise RuntimeError("the driver pool is not started (app start-up)")
        while True:
            while self._idle:
                conn = self._idle.pop()
                if not conn.is_closed():
                    self._lent.add(conn)
                    return conn
                self._opened -= 1  # died while idle
            if self._opened < self.size:
                self._opened += 1
                try:
                    conn = await asyncpg.connect(self.dsn, server_settings=session_settings(self.application_name))
                except BaseException:
                    self._opened -= 1
                    self._wake_one()
                    raise
                self._lent.add(conn)
                return conn
            waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
            try:
                await waiter
            except BaseException:
                if waiter.done() and not waiter.cancelled():
                    self._wake_one()  # woken and cancelled at once: pass the turn on
                else:
                    with contextlib.suppress(ValueError):  # already skipped by a wake-up
                        self._waiters.remove(waiter)
                raise

    def _wake_one(self) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return

    async def release(self, conn: asyncpg.Connection) -> None:
        """Back to the pool. A connection still in a transaction is not handed on (the paths end
        their own; one that did not is in an unknown state) and a closed one is dropped. A second
        release of the same checkout is refused (asyncpg's pool raised too): two requests must
        never share a connection."""
        self._take_back(conn)
        if conn.is_closed() or not self._started or conn.is_in_transaction():
            self._drop(conn)
        else:
            self._idle.append(conn)
        self._wake_one()

    async def discard(self, conn: asyncpg.Connection) -> None:
        """Never hand a connection in an unknown state to the next request."""
        self._take_back(conn)
        self._drop(conn)
        self._wake_one()

    def _take_back(self, conn: asyncpg.Connection) -> None:
        try:
            self._lent.remove(conn)
        except KeyError:
            raise RuntimeError("a driver connection was returned that is not lent out (returned twice?)") from None

    def _drop(self, conn: asyncpg.Connection) -> None:
        conn.terminate()
        self._opened -= 1

    async def expire(self) -> None:
        """After a dropped connection: the idle ones are probably dead too (a database restart)."""
        idle, self._idle = self._idle, []
        for conn in idle:
            self._drop(conn)
        self._wake_one()

    def in_use(self) -> int:
        return len(self._lent)

    def opened(self) -> int:
        return self._opened

    async def close(self) -> None:
        """At shutdown: close the idle connections; one still in use is closed when it comes back."""
        self._started = False
        idle, self._idle = self._idle, []
        for conn in idle:
            try:
                await asyncio.wait_for(conn.close(), 5)
            except (TimeoutError, OSError, asyncpg.InterfaceError):
                conn.terminate()
            self._opened -= 1


@dataclass
class DriverTransaction:
    pool: DriverPool
    driver: asyncpg.Connection
    tx: Any  # asyncpg.transaction.Transaction
    finished: bool = False
    # The authentication call moved the session's sliding deadline: keep it even if the handler
    # does not commit (committed after the response; lost only if the transaction failed).
    commit_on_release: bool = False

    async def fetchrow(self, stmt: TextClause, params: dict[str, Any]) -> asyncpg.Record | None:
        sql, names = positional(stmt)
        # fetch(), not the driver's fetchrow(): that one executes the portal with a row limit,
        # which rules out parallel plans and leaves a suspended portal to close.
        rows = await self.driver.fetch(sql, *[params[n] for n in names])
        return rows[0] if rows else None

    async def commit(self) -> None:
        await self.tx.commit()
        self.finished = True

    async def release(self) -> None:
        """Roll back what was not committed and return the connection to the pool."""
        try:
            if not self.finished:
                self.finished = True
                if self.commit_on_release:
                    await self.tx.commit()
                else:
                    await self.tx.rollback()
        except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError):
            await self.pool.discard(self.driver)  # never hand an unknown state to the next request
        except BaseException:
            await self.pool.discard(self.driver)  # cancelled half-way: the same, and the pool slot comes back
            raise
        else:
            await self.pool.release(self.driver)


def driver_transaction(connection: Any) -> DriverTransaction:
    """The request's driver transaction (routes marked AUTH_ON_DRIVER, signed in)."""
    held = connection.scope.get("state", {}).get(SCOPE_KEY)
    if held is None:
        raise RuntimeError("route is not marked AUTH_ON_DRIVER or the request is not signed in")
    return held  # type: ignore[no-any-return]
