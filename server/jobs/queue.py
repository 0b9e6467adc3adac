"""Entrypoints by name, and `enqueue()` on the caller's own transaction.

pgqueuer keeps its tables in the schema `jobs` (migration 0016). Every pgqueuer object we build
gets `SETTINGS` explicitly, so no environment variable of pgqueuer's can move them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Generic, TypeVar

import msgspec
from pgqueuer.adapters.drivers.asyncpg import AsyncpgDriver
from pgqueuer.adapters.persistence.qb import (
    DBSettings,
    QueryBuilderEnvironment,
    QueryQueueBuilder,
    QuerySchedulerBuilder,
)
from pgqueuer.adapters.persistence.queries import Queries
from pgqueuer.errors import RetryRequested
from pgqueuer.ports.driver import Driver
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

SCHEMA = "jobs"
SETTINGS = DBSettings(db_schema=SCHEMA)

P = TypeVar("P", bound=msgspec.Struct)


class Retry(RetryRequested):
    """Raise in a handler to run the job again after `delay` (durable: the row is re-queued)."""

    def __init__(self, delay: timedelta, reason: str | None = None) -> None:
        super().__init__(delay=delay, reason=reason)


@dataclass(frozen=True)
class JobContext:
    """What a handler gets besides its payload."""

    job_id: int
    attempts: int  # runs of this job before this one (0 on the first run)
    sessionmaker: async_sessionmaker[AsyncSession]


@dataclass(frozen=True)
class Entrypoint(Generic[P]):
    """A kind of job: its name (stored in every job row, so never renamed lightly), the msgspec
    type of its payload, and the async handler.

    max_attempts: runs in all when the handler raises an unexpected error (exponential backoff
    from 1 s, at most `max_delay`); a handler's own `Retry` does not count against it.
    concurrency_limit: jobs of this kind running at once across all workers (0 = no limit).
    """

    name: str
    payload: type[P]
    handler: Callable[[JobContext, P], Awaitable[None]]
    max_attempts: int = 5
    max_delay: timedelta = timedelta(minutes=5)
    concurrency_limit: int = 0

    def encode(self, payload: P) -> bytes:
        if not isinstance(payload, self.payload):
            raise TypeError(f"{self.name} takes {self.payload.__name__}, not {type(payload).__name__}")
        return msgspec.json.encode(payload)

    def decode(self, raw: bytes | None) -> P:
        return msgspec.json.decode(raw or b"null", type=self.payload)


class Registry:
    """Entrypoints by name; the worker serves exactly these."""

    def __init__(self) -> None:
        self._by_name: dict[str, Entrypoint[Any]] = {}

    def add(self, entrypoint: Entrypoint[P]) -> Entrypoint[P]:
        known = self._by_name.get(entrypoint.name)
        if known is not None and known is not entrypoint:
            raise RuntimeError(f"job entrypoint {entrypoint.name!r} is registered twice")
        self._by_name[entrypoint.name] = entrypoint
        return entrypoint

    def __iter__(self) -> Iterator[Entrypoint[Any]]:
        return iter(list(self._by_name.values()))

    def __contains__(self, name: object) -> bool:
        return name in self._by_name


REGISTRY = Registry()


def queries(driver: Driver) -> Queries:
    """pgqueuer's queries bound to our schema."""
    return Queries(
        driver,
        qbe=QueryBuilderEnvironment(settings=SETTINGS),
        qbq=QueryQueueBuilder(settings=SETTINGS),
        qbs=QuerySchedulerBuilder(settings=SETTINGS),
    )


async def enqueue(
    db: AsyncSession,
    entrypoint: Entrypoint[P],
    payloads: Sequence[P],
    *,
    delay: timedelta | None = None,
    dedupe_keys: Sequence[str | None] | None = None,
    priority: int = 0,
) -> list[int | None]:
    """Write jobs in `db`'s current transaction (one INSERT for all): they exist once it commits
    and vanish with it on rollback. A dedupe key equal to that of a job still queued or running
    skips the new one (None in the result at its place); afterwards the key is free again.
    """
    if entrypoint.name not in REGISTRY:
        raise RuntimeError(f"job entrypoint {entrypoint.name!r} is not registered")
    if not payloads:
        return []
    if dedupe_keys is not None and len(dedupe_keys) != len(payloads):
        raise ValueError("one dedupe key (or None) per payload")
    n = len(payloads)
    connection = await (await db.connection()).get_raw_connection()
    raw = connection.driver_connection
    if raw is None:
        raise RuntimeError("the session has no driver connection")
    if not raw.is_in_transaction():
        # SQLAlchemy begins lazily, on its first statement: begin (and stamp the tenant) first,
        # or the INSERT below would commit on its own.
        await db.execute(text("SELECT 1"))
    ids = await queries(AsyncpgDriver(raw)).enqueue(
        [entrypoint.name] * n,
        [entrypoint.encode(p) for p in payloads],
        [priority] * n,
        [delay] * n,
        list(dedupe_keys) if dedupe_keys is not None else [None] * n,
        None,
        on_conflict="skip",
    )
    return [int(i) if i is not None else None for i in ids]


async def queued_jobs(db: AsyncSession, entrypoint: str | None = None, *, due_only: bool = False) -> int:
    """Jobs waiting or running (of one kind, or all): for health checks and tests. `due_only`
    leaves out jobs waiting for a later time (a retry's backoff, a scheduled inject)."""
    sql = f"SELECT count(*) FROM {SCHEMA}.pgqueuer WHERE status IN ('queued', 'picked')"
    if due_only:
        sql += " AND (status = 'picked' OR execute_after <= now())"
    if entrypoint is not None:
        sql += " AND entrypoint = :e"
    found = (await db.execute(text(sql), {"e": entrypoint} if entrypoint else {})).scalar_one()
    return int(found)
