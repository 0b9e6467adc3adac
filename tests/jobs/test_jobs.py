"""The shared job queue (server/jobs/, pgqueuer in the schema `jobs`) on real PostgreSQL: a job
exists only if the caller's transaction commits, runs once, retries durably, dedupes while
queued, and a job left behind by a dead worker is picked up again."""

from __future__ import annotations

import asyncio
import uuid
from collections import defaultdict
from datetime import timedelta

import msgspec
import pytest
from sqlalchemy import text

from server.jobs import REGISTRY, Entrypoint, JobContext, Retry, enqueue, queued_jobs
from server.services import services


class Ping(msgspec.Struct, frozen=True):
    token: str
    fail_times: int = 0


RUNS: dict[str, list[int]] = defaultdict(list)  # token → attempts seen by each run
DONE: dict[str, asyncio.Event] = defaultdict(asyncio.Event)


async def ping(ctx: JobContext, job: Ping) -> None:
    RUNS[job.token].append(ctx.attempts)
    if len(RUNS[job.token]) <= job.fail_times:
        raise Retry(timedelta(milliseconds=100), "asked to fail")
    DONE[job.token].set()


async def crash(ctx: JobContext, job: Ping) -> None:
    RUNS[job.token].append(ctx.attempts)
    if len(RUNS[job.token]) <= job.fail_times:
        raise RuntimeError("a bug in a handler")
    DONE[job.token].set()


PING = REGISTRY.add(Entrypoint("test.ping", Ping, ping))
CRASH = REGISTRY.add(Entrypoint("test.crash", Ping, crash, max_attempts=3))
NOT_REGISTERED = Entrypoint("test.nowhere", Ping, ping)


@pytest.fixture
async def worker(app):
    """The app's worker, restarted so that it serves the test entrypoints registered above."""
    jobs = services(app).jobs
    assert jobs is not None and jobs.running
    if not {"test.ping", "test.crash"} <= set(jobs._qm.entrypoint_registry):  # type: ignore[union-attr]
        await jobs.stop()
        await jobs.start()
    return jobs


async def test_the_queue_lives_in_its_own_schema_and_the_app_role_only_reads_and_writes_it(sessionmaker) -> None:
    async with sessionmaker() as db:
        tables = set((await db.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = 'jobs'"))).scalars())
        assert {"pgqueuer", "pgqueuer_log", "pgqueuer_statistics", "pgqueuer_schedules"} <= tables
        allowed = (
            await db.execute(
                text(
                    "SELECT has_table_privilege('jobs.pgqueuer', 'INSERT'), has_table_privilege('jobs.pgqueuer', 'TRUNCATE'),"
                    " has_schema_privilege('jobs', 'CREATE')"
                )
            )
        ).one()
    assert tuple(allowed) == (True, False, False)


async def test_a_rolled_back_transaction_leaves_no_job_and_a_committed_one_runs_once(worker, sessionmaker) -> None:
    gone, kept = uuid.uuid4().hex, uuid.uuid4().hex
    async with sessionmaker() as db:
        await enqueue(db, PING, [Ping(gone)])
        assert await queued_jobs(db, "test.ping") >= 1  # visible inside the transaction only
        await db.rollback()
    async with sessionmaker() as db:
        await db.execute(text("SELECT 1"))
        [job_id] = await enqueue(db, PING, [Ping(kept)])
        assert job_id is not None
        await db.commit()
    await asyncio.wait_for(DONE[kept].wait(), 20)
    async with sessionmaker() as db:
        payloads = (
            (
                await db.execute(
                    text(
                        "SELECT payload FROM jobs.pgqueuer WHERE entrypoint = 'test.ping'"
                        " UNION ALL SELECT NULL FROM jobs.pgqueuer_log WHERE false"
                    )
                )
            )
            .scalars()
            .all()
        )
    assert not any(p and gone.encode() in p for p in payloads)
    assert RUNS[gone] == [] and RUNS[kept] == [0]


async def test_a_handler_asks_for_a_retry_and_the_job_runs_again_later(worker, sessionmaker) -> None:
    token = uuid.uuid4().hex
    async with sessionmaker() as db:
        await enqueue(db, PING, [Ping(token, fail_times=2)])
        await db.commit()
    await asyncio.wait_for(DONE[token].wait(), 30)
    assert RUNS[token] == [0, 1, 2]  # the row itself was re-queued each time (attempts counted)


async def test_an_unexpected_error_is_retried_with_backoff_up_to_max_attempts(worker, sessionmaker) -> None:
    token, hopeless = uuid.uuid4().hex, uuid.uuid4().hex
    async with sessionmaker() as db:
        await enqueue(db, CRASH, [Ping(token, fail_times=1), Ping(hopeless, fail_times=99)])
        await db.commit()
    await asyncio.wait_for(DONE[token].wait(), 30)
    assert RUNS[token] == [0, 1]
    async with sessionmaker() as db:  # 3 runs (1 s, 2 s apart), then it is logged as failed
        for _ in range(300):
            failed = (
                await db.execute(
                    text(
                        "SELECT count(*) FROM jobs.pgqueuer_log WHERE entrypoint = 'test.crash' AND status = 'exception'"
                    )
                )
            ).scalar()
            if failed and len(RUNS[hopeless]) == 3:
                break
            await asyncio.sleep(0.1)
    assert RUNS[hopeless] == [0, 1, 2]


async def test_a_dedupe_key_skips_a_second_job_while_the_first_is_queued(sessionmaker) -> None:
    key = f"test:{uuid.uuid4()}"
    async with sessionmaker() as db:
        first = await enqueue(db, PING, [Ping(uuid.uuid4().hex)], dedupe_keys=[key], delay=timedelta(hours=1))
        second = await enqueue(db, PING, [Ping(uuid.uuid4().hex)], dedupe_keys=[key])
        assert first[0] is not None and second == [None]
        await db.rollback()


async def test_a_job_whose_worker_died_is_picked_again(worker, sessionmaker) -> None:
    """kill -9 of a worker leaves its job 'picked' with a heartbeat that stops; once it is older
    than the heartbeat timeout, a live worker takes the job and runs it."""
    token = uuid.uuid4().hex
    async with sessionmaker() as db:
        [job_id] = await enqueue(db, PING, [Ping(token)], delay=timedelta(hours=1))
        await db.execute(
            text(
                "UPDATE jobs.pgqueuer SET status = 'picked', queue_manager_id = :dead, execute_after = now(),"
                " heartbeat = now() - interval '1 hour' WHERE id = :id"
            ),
            {"dead": uuid.uuid4(), "id": job_id},
        )
        await db.commit()
    async with sessionmaker() as db:  # any new job wakes the worker at once
        await enqueue(db, PING, [Ping(uuid.uuid4().hex)])
        await db.commit()
    await asyncio.wait_for(DONE[token].wait(), 30)
    assert RUNS[token] == [0]


async def test_enqueue_refuses_an_unregistered_entrypoint_and_a_wrong_payload(sessionmaker) -> None:
    class Other(msgspec.Struct):
        x: int

    async with sessionmaker() as db:
        with pytest.raises(RuntimeError, match="not registered"):
            await enqueue(db, NOT_REGISTERED, [Ping("x")])
        with pytest.raises(TypeError):
            await enqueue(db, PING, [Other(1)])  # type: ignore[misc]  # the wrong payload type, on purpose
        await db.rollback()
