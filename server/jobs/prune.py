"""Pruning pgqueuer's own history: `jobs.pgqueuer_log` gains a few rows per job and
`jobs.pgqueuer_statistics` one per second of work; neither is read after a few days (a job's
outcome that matters is kept by its product table, e.g. `push_delivery`).

`jobs.prune` runs hourly (pgqueuer's scheduler, `server/jobs/periodic.py`) and deletes rows older
than `Settings.job_log_retention_days` in batches of `batch` rows, one short transaction each, so
no lock is held for long and the queue keeps moving while it runs.
"""

from __future__ import annotations

from typing import Any, cast

import msgspec
import structlog
from sqlalchemy import CursorResult, text

from server.jobs.periodic import PERIODIC, Periodic
from server.jobs.queue import REGISTRY, SCHEMA, Entrypoint, JobContext

log = structlog.get_logger("tonari.jobs")

BATCH = 5_000


class PruneJobLog(msgspec.Struct, frozen=True):
    older_than_days: int = 14
    batch: int = BATCH


# Oldest first by primary key: ids grow with time, so each batch reads the start of the index
# and stops as soon as it has `batch` rows (pgqueuer_statistics has no index on `created`).
_DELETE_OLD = {
    table: text(f"""
        DELETE FROM {SCHEMA}.{table} WHERE id IN (
            SELECT id FROM {SCHEMA}.{table} WHERE created < now() - make_interval(days => :days) ORDER BY id LIMIT :batch)
    """)
    for table in ("pgqueuer_log", "pgqueuer_statistics")
}


async def prune_job_log(ctx: JobContext, job: PruneJobLog) -> None:
    """Delete log and statistics rows older than the retention, a batch per transaction."""
    deleted: dict[str, int] = {}
    async with ctx.sessionmaker() as db:
        for table, delete in _DELETE_OLD.items():
            deleted[table] = 0
            while True:
                async with db.begin():
                    result = await db.execute(delete, {"days": job.older_than_days, "batch": job.batch})
                n = int(cast("CursorResult[Any]", result).rowcount or 0)
                deleted[table] += n
                if n < job.batch:
                    break
    log.info("jobs.pruned", older_than_days=job.older_than_days, **deleted)


PRUNE_JOB_LOG = REGISTRY.add(Entrypoint("jobs.prune_log", PruneJobLog, prune_job_log, max_attempts=3))
PERIODIC.add(
    Periodic(PRUNE_JOB_LOG, "41 * * * *", lambda settings: PruneJobLog(older_than_days=settings.job_log_retention_days))
)
