"""Periodic jobs: pgqueuer's scheduler enqueues a job of an entrypoint on a cron schedule.

    PRUNE = REGISTRY.add(Entrypoint("push.prune", PruneDeliveries, prune))
    PERIODIC.add(Periodic(PRUNE, "23 * * * *", lambda s: PruneDeliveries(days=s.push_delivery_retention_days)))

Every app process runs the scheduler; its table (`jobs.pgqueuer_schedules`, row locks and a
`next_run`) lets exactly one of them fire each tick. Firing only enqueues the job (with the
entrypoint's name as dedupe key, so a tick that comes while the last run is still queued or
running adds nothing): the work itself runs on the queue like any other job, with its retries.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic

from server.jobs.queue import Entrypoint, P

if TYPE_CHECKING:
    from server.settings import Settings


@dataclass(frozen=True)
class Periodic(Generic[P]):
    """`entrypoint` enqueued at every tick of `cron` (UTC; checked when the worker starts), with
    the payload `payload(settings)`."""

    entrypoint: Entrypoint[P]
    cron: str
    payload: Callable[[Settings], P]


class Schedule:
    """The periodic jobs by entrypoint name (one schedule per entrypoint)."""

    def __init__(self) -> None:
        self._by_name: dict[str, Periodic[Any]] = {}

    def add(self, periodic: Periodic[P]) -> Periodic[P]:
        known = self._by_name.get(periodic.entrypoint.name)
        if known is not None and known != periodic:
            raise RuntimeError(f"periodic job {periodic.entrypoint.name!r} is scheduled twice")
        self._by_name[periodic.entrypoint.name] = periodic
        return periodic

    def __iter__(self) -> Iterator[Periodic[Any]]:
        return iter(list(self._by_name.values()))

    def __len__(self) -> int:
        return len(self._by_name)


PERIODIC = Schedule()
