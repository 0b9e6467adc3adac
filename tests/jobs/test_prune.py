"""Pruning the job queue's own history (server/jobs/prune.py) and the periodic jobs that run it
(pgqueuer's scheduler, server/jobs/periodic.py), on real PostgreSQL with rows aged by SQL."""

from __future__ import annotations

import asyncio
import uuid

from sqlalchemy import text

from server.jobs import JobContext
from server.jobs.periodic import PERIODIC
from server.jobs.prune import PRUNE_JOB_LOG, PruneJobLog, prune_job_log
from server.services import services

_LOG = text("""
    INSERT INTO jobs.pgqueuer_log (created, job_id, status, priority, entrypoint)
    SELECT now() - make_interval(days => :age), g, 'successful', 0, :ep FROM generate_series(1, :n) g
""")
_STATS = text("""
    INSERT INTO jobs.pgqueuer_statistics (created, count, priority, status, entrypoint)
    SELECT now() - make_interval(days => :age) - make_interval(secs => g), 1, 0, 'successful', :ep
    FROM generate_series(1, :n) g
""")
_COUNT = text("""
    SELECT (SELECT count(*) FROM jobs.pgqueuer_log WHERE entrypoint = :ep),
           (SELECT count(*) FROM jobs.pgqueuer_statistics WHERE entrypoint = :ep)
""")


async def test_log_and_statistics_rows_older_than_the_retention_go_in_batches(sessionmaker) -> None:
    old, recent = f"test.old-{uuid.uuid4().hex}", f"test.recent-{uuid.uuid4().hex}"
    async with sessionmaker() as db, db.begin():
        for ep, age in ((old, 20), (recent, 13)):
            await db.execute(_LOG, {"age": age, "ep": ep, "n": 7})
            await db.execute(_STATS, {"age": age, "ep": ep, "n": 7})

    await prune_job_log(JobContext(job_id=0, attempts=0, sessionmaker=sessionmaker), PruneJobLog(14, batch=3))

    async with sessionmaker() as db:
        assert tuple((await db.execute(_COUNT, {"ep": old})).one()) == (0, 0)
        assert tuple((await db.execute(_COUNT, {"ep": recent})).one()) == (7, 7)


async def _poll(query: str, sessionmaker, done) -> None:
    """Re-run `query` until `done(its scalar result)` (the limit only turns a hang into a failure)."""
    async with asyncio.timeout(60):
        while True:
            async with sessionmaker() as db:
                if done((await db.execute(text(query))).scalar_one()):
                    return
            await asyncio.sleep(0.05)


_SUCCESSES = "SELECT count(*) FROM jobs.pgqueuer_log WHERE entrypoint = 'jobs.prune_log' AND status = 'successful'"


async def test_the_app_schedules_the_prunes_and_a_tick_runs_one_on_the_queue(app, sessionmaker) -> None:
    worker = services(app).jobs
    assert worker is not None and worker.running and worker.settings is not None and worker._pool is not None
    names = sorted(p.entrypoint.name for p in PERIODIC)
    assert {"jobs.prune_log", "push.prune_deliveries"} <= set(names)
    # The scheduler writes its schedules when the worker starts (in the background).
    await _poll(
        f"SELECT count(DISTINCT entrypoint) FROM jobs.pgqueuer_schedules WHERE entrypoint = ANY(ARRAY{names!r})",
        sessionmaker,
        lambda n: n == len(names),
    )
    async with sessionmaker() as db:
        before = (await db.execute(text(_SUCCESSES))).scalar_one()
    [periodic] = [p for p in PERIODIC if p.entrypoint is PRUNE_JOB_LOG]
    await worker._enqueue_periodic(worker._pool, periodic, worker.settings, None)  # type: ignore[arg-type]  # a tick
    await _poll(_SUCCESSES, sessionmaker, lambda n: n > before)
