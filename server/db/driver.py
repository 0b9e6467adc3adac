"""Request transactions held on the driver (asyncpg) directly, for the two hottest request paths.

A route marked `AUTH_ON_DRIVER` (the map tiles) gets a `DriverTransaction`: a pooled connection,
BEGIN, the authentication statement (which stamps the transaction for RLS exactly as on the ORM
path), then the handler's statements on the same connection. The auth middleware releases it
after the response has been sent: a rollback unless the handler committed. A route marked
`AUTH_AUTOCOMMIT` (the single visit, which the group-commit batcher writes) runs only the
authentication statement, in autocommit, and takes no database session at all.

Both skip the ORM session, whose machinery cost more than the work on these paths (decision
0009). Their connections come from asyncpg's own pool (`DriverPool`), with the request engine's
session settings.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import asyncpg
from sqlalchemy import TextClause
from sqlalchemy.dialects.postgresql import asyncpg as asyncpg_dialect
from sqlalchemy.exc import TimeoutError as PoolTimeout

from server.db.engine import driver_dsn, session_settings

if TYPE_CHECKING:
    from asyncpg.pool import PoolConnectionProxy

    DriverConnection = PoolConnectionProxy[asyncpg.Record]  # what the pool hands out

# Route options: how the request's authentication and database work run.
AUTH_ON_DRIVER = "tonari_auth_on_driver"  # the handler works on `driver_transaction(request)`
AUTH_AUTOCOMMIT = "tonari_auth_autocommit"  # the handler does no database work of its own
SCOPE_KEY = "tonari_driver_transaction"

_DIALECT = asyncpg_dialect.dialect()  # type: ignore[no-untyped-call]  # SQLAlchemy's dialects are untyped


@lru_cache(maxsize=256)
def positional(stmt: TextClause) -> tuple[str, tuple[str, ...]]:
    """A text() statement with :name parameters as asyncpg SQL ($1…) and the names in $-order
    (compiled once per statement object; the driver caches the prepared statement per connection)."""
    compiled = stmt.compile(dialect=_DIALECT)
    return compiled.string, tuple(compiled.positiontup or ())


async def _keep_session(conn: asyncpg.Connection) -> None:
    """Release hook. asyncpg rolls back a transaction left open before calling it; nothing else
    needs resetting (these paths set only transaction-local settings and never LISTEN), so the
    default reset's extra round trip (RESET ALL, UNLISTEN, CLOSE ALL) is left out."""


class DriverPool:
    """asyncpg's pool for the driver-level request paths: the request engine's database, role and
    session settings, opened on demand up to `size` connections."""

    def __init__(self, url: str, size: int, application_name: str = "tonari", timeout: float = 30.0) -> None:
        self.dsn = driver_dsn(url)
        self.size, self.application_name, self.timeout = size, application_name, timeout
        self._pool: asyncpg.Pool | None = None

    async def start(self) -> None:
        self._pool = await asyncpg.create_pool(
            self.dsn,
            min_size=0,
            max_size=self.size,
            reset=_keep_session,
            max_queries=10_000_000,
            server_settings=session_settings(self.application_name),
        )

    def _started(self) -> asyncpg.Pool:
        if self._pool is None:
            raise RuntimeError("the driver pool is not started (app start-up)")
        return self._pool

    async def acquire(self) -> DriverConnection:
        """A pooled connection, or the ORM pool's own TimeoutError after `timeout` s (a 503)."""
        try:
            conn: DriverConnection = await self._started().acquire(timeout=self.timeout)
        except TimeoutError:
            raise PoolTimeout(f"no driver connection free within {self.timeout} s") from None
        return conn

    async def release(self, conn: DriverConnection) -> None:
        await self._started().release(conn)

    async def discard(self, conn: DriverConnection) -> None:
        """Never hand a connection in an unknown state to the next request."""
        conn.terminate()
        await self.release(conn)

    async def expire(self) -> None:
        """After a dropped connection: the idle ones are probably dead too (a database restart)."""
        await self._started().expire_connections()

    def in_use(self) -> int:
        return 0 if self._pool is None else self._pool.get_size() - self._pool.get_idle_size()

    def opened(self) -> int:
        return 0 if self._pool is None else self._pool.get_size()

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = None


@dataclass
class DriverTransaction:
    pool: DriverPool
    driver: DriverConnection
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


# What a dropped pooled connection raises on its first use: safe to retry once on another one,
# since nothing was done yet.
_DEAD_CONNECTION = (
    asyncpg.exceptions.ConnectionDoesNotExistError,
    asyncpg.exceptions.InterfaceError,
    ConnectionError,
    OSError,
)


async def first_statement(
    pool: DriverPool, stmt: TextClause, params: dict[str, Any], *, hold: bool
) -> tuple[asyncpg.Record | None, DriverTransaction | None]:
    """Run `stmt` (the authentication call) as the first statement on a pooled connection and
    return its row. hold=False: in autocommit, and the connection goes back at once. hold=True:
    after BEGIN, and the transaction is returned for the handler (the caller releases it).
    No pre-ping: a connection the database dropped fails here, before anything was done, so it
    is retried once on a fresh one, and the idle ones are expired (as SQLAlchemy does)."""
    sql, names = positional(stmt)
    args = [params[n] for n in names]
    for attempt in (0, 1):
        driver = await pool.acquire()
        tx = driver.transaction() if hold else None
        try:
            if tx is not None:
                await tx.start()
            record = await driver.fetchrow(sql, *args)
        except _DEAD_CONNECTION:
            await pool.discard(driver)
            if attempt:
                raise
            await pool.expire()  # a dropped connection usually means a restart: the idle ones are dead too
            continue
        except BaseException:
            await (DriverTransaction(pool, driver, tx).release() if tx is not None else pool.discard(driver))
            raise
        if tx is None:
            await pool.release(driver)
            return record, None
        return record, DriverTransaction(pool, driver, tx)
    raise AssertionError("unreachable")


def driver_transaction(connection: Any) -> DriverTransaction:
    """The request's driver transaction (routes marked AUTH_ON_DRIVER, signed in)."""
    held: DriverTransaction | None = connection.scope.get("state", {}).get(SCOPE_KEY)
    if held is None:
        raise RuntimeError("route is not marked AUTH_ON_DRIVER or the request is not signed in")
    return held
