"""A request transaction held on the driver (asyncpg) directly, for the hottest read path.

Map tiles are requested dozens at a time while a map pans, and each is one statement of
0.3–1 ms. Through the ORM session the request cost several times that in Python (session and
transaction objects, statement compilation, result wrapping). A route marked with
`AUTH_ON_DRIVER` gets instead a `DriverTransaction`: a pooled connection, BEGIN, the one
authentication call (which stamps the transaction for RLS exactly as on the ORM path), then the
handler's statements on the same driver connection. The auth middleware releases it after the
response has been sent: a rollback unless the handler committed, and the connection goes back
to the pool either way.

Those paths take their connections from `DriverPool` (asyncpg's own pool), not from SQLAlchemy's:
a checkout there went through AsyncConnection, a greenlet hop and the pool's bookkeeping, ≈ 0.1 ms
of a 1–2 ms tile (decision 0011).
"""

from __future__ import annotations

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


async def _keep_session(conn: asyncpg.Connection) -> None:
    """Release hook: asyncpg has already rolled back an open transaction; nothing else to reset.
    (The default reset is a round trip per release: RESET ALL, UNLISTEN, CLOSE ALL. Our driver
    paths set only transaction-local settings and never LISTEN.)"""


class DriverPool:
    """Connections for the driver-level request paths (tiles, the visit route's auth call).

    Same database, role and session settings as the request engine (server/db/engine.py), opened
    on demand up to `size`; a connection found dead is dropped and the idle ones expired, as
    SQLAlchemy's pool does on a disconnect."""

    def __init__(self, url: str, size: int, application_name: str = "tonari") -> None:
        self.dsn = driver_dsn(url)
        self.size, self.application_name = size, application_name
        self.pool: asyncpg.Pool | None = None

    async def start(self) -> None:
        self.pool = await asyncpg.create_pool(
            self.dsn, min_size=0, max_size=self.size, reset=_keep_session, max_queries=10_000_000,
            server_settings=session_settings(self.application_name))

    async def acquire(self) -> asyncpg.Connection:
        if self.pool is None:
            raise RuntimeError("the driver pool is not started (app start-up)")
        return await self.pool.acquire()  # type: ignore[no-any-return]

    async def release(self, conn: asyncpg.Connection) -> None:
        assert self.pool is not None
        await self.pool.release(conn)

    async def discard(self, conn: asyncpg.Connection) -> None:
        """Never hand a connection in an unknown state to the next request."""
        conn.terminate()
        await self.release(conn)

    async def expire(self) -> None:
        """After a dropped connection: the idle ones are probably dead too (a database restart)."""
        assert self.pool is not None
        await self.pool.expire_connections()

    def in_use(self) -> int:
        return 0 if self.pool is None else self.pool.get_size() - self.pool.get_idle_size()

    async def close(self) -> None:
        if self.pool is not None:
            await self.pool.close()
            self.pool = None


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
