"""A request transaction held on the driver (asyncpg) directly, for the hottest read path.

Map tiles are requested dozens at a time while a map pans, and each is one statement of
0.3–1 ms. Through the ORM session the request cost several times that in Python (session and
transaction objects, statement compilation, result wrapping). A route marked with
`AUTH_ON_DRIVER` gets instead a `DriverTransaction`: a pooled connection, BEGIN, the one
authentication call (which stamps the transaction for RLS exactly as on the ORM path), then the
handler's statements on the same driver connection. The auth middleware releases it after the
response has been sent: a rollback unless the handler committed, and the connection goes back
to the pool either way.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import asyncpg
from sqlalchemy import TextClause
from sqlalchemy.dialects.postgresql import asyncpg as asyncpg_dialect
from sqlalchemy.ext.asyncio import AsyncConnection

# Route option: the route's handler works on `driver_transaction(request)`, not `db_session`.
AUTH_ON_DRIVER = "tonari_auth_on_driver"
SCOPE_KEY = "tonari_driver_transaction"

_DIALECT = asyncpg_dialect.dialect()


@lru_cache(maxsize=256)
def positional(stmt: TextClause) -> tuple[str, tuple[str, ...]]:
    """A text() statement with :name parameters as asyncpg SQL ($1…) and the names in $-order
    (compiled once per statement object; the driver caches the prepared statement per connection)."""
    compiled = stmt.compile(dialect=_DIALECT)
    return compiled.string, tuple(compiled.positiontup or ())


@dataclass
class DriverTransaction:
    conn: AsyncConnection  # holds the pool checkout
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
            await self.conn.invalidate()  # never hand a connection in an unknown state to the next request
        finally:
            await self.conn.close()


def driver_transaction(connection: Any) -> DriverTransaction:
    """The request's driver transaction (routes marked AUTH_ON_DRIVER, signed in)."""
    held = connection.scope.get("state", {}).get(SCOPE_KEY)
    if held is None:
        raise RuntimeError("route is not marked AUTH_ON_DRIVER or the request is not signed in")
    return held  # type: ignore[no-any-return]
