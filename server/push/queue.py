"""Push delivery on the job queue: written in the transaction of its cause, sent by the job worker.

    await enqueue_push(db_session, tenant_id=…, notifications=[
        Notification(user_ids=[commissioner_id, *coordinator_ids], key=f"esc-{escalation.id}",
                     message=PushMessage(...), drill=operation.mode == "drill")])
    await db_session.commit()   # the deliveries exist only now; a rollback sends nothing

One `push_delivery` row per device of the recipients and one `push.deliver` job per row, both in
the caller's transaction. The row is the dedupe: (subscription, notification key) is unique, so a
cause that is written twice, or a job that runs twice (at least once, 0023-job-queue.md),
sends once. A failed attempt is retried with exponential backoff (or after the push service's
Retry-After) on no answer, 408, 429 and 5xx; 404/410 deletes the subscription; any other answer
ends the delivery as failed. Every failure is kept on the subscription for staff.
"""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

import msgspec
import structlog
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server import jobs
from server.core import context
from server.push import send, vapid
from server.push.send import PushMessage, Target
from server.push.vapid import VapidKeys

log = structlog.get_logger("tonari.push")

# Tries of one delivery in all; with BASE_DELAY doubling (capped at MAX_DELAY) the last one is
# made about half an hour after the first, well inside an escalation's 6 h TTL.
MAX_TRIES = 10
BASE_DELAY = timedelta(seconds=2)
MAX_DELAY = timedelta(minutes=10)


@dataclass(frozen=True)
class Notification:
    """One notification to the devices of `user_ids`. `key` names the notification itself (the
    cause: "esc-<escalation id>", "op-start-<operation id>"): one delivery per device and key."""

    user_ids: Sequence[uuid.UUID]
    key: str
    message: PushMessage
    drill: bool


class DeliverJob(msgspec.Struct, frozen=True):
    tenant_id: uuid.UUID
    delivery_id: uuid.UUID
    data: str  # the JSON the service worker receives (PushMessage.encode: no personal data)
    ttl: int
    urgency: Literal["very-low", "low", "normal", "high"]


class PushService:
    """The VAPID keys the app signs with, while the app runs (`services(app).push`)."""

    def __init__(
        self, sessionmaker: async_sessionmaker[AsyncSession], keys: VapidKeys, timeout: float = send.DEFAULT_TIMEOUT
    ) -> None:
        self.sessionmaker = sessionmaker
        self.keys = keys
        self.timeout = timeout

    async def start(self) -> None:
        vapid.install(self.keys)

    async def stop(self) -> None:
        send.shutdown_pool()

    async def drain(self, poll: float = 0.05) -> None:
        """Until no delivery job is due or running (tests, graceful tools); retries waiting for
        their backoff are not waited for."""
        while True:
            async with self.sessionmaker() as db:
                if not await jobs.queued_jobs(db, DELIVER.name, due_only=True):
                    return
            await asyncio.sleep(poll)


def running(push: PushService | None) -> PushService:
    """The app's push service (`services(app).push`), which PushPlugin starts with the app."""
    if push is None:
        raise RuntimeError("the push service is not running: is PushPlugin registered in create_app?")
    return push


_INSERT_DELIVERIES = text("""
    INSERT INTO push_delivery (tenant_id, id, subscription_id, notification_key, kind, drill)
    SELECT s.tenant_id, gen_random_uuid(), s.id, n.key, n.kind, n.drill
    FROM unnest(CAST(:ords AS int[]), CAST(:users AS uuid[])) AS w(ord, user_id)
    JOIN unnest(CAST(:keys AS text[]), CAST(:kinds AS text[]), CAST(:drills AS boolean[]))
         WITH ORDINALITY AS n(key, kind, drill, ord) ON n.ord = w.ord
    JOIN push_subscription s ON s.tenant_id = :tenant AND s.user_id = w.user_id
    -- A disabled user's devices get nothing (their subscriptions stay, for when they are enabled).
    JOIN app_user u ON u.tenant_id = s.tenant_id AND u.id = s.user_id AND u.is_active
    ORDER BY s.id, n.key
    ON CONFLICT (tenant_id, subscription_id, notification_key) DO NOTHING
    RETURNING id, notification_key
""")


async def enqueue_push(db: AsyncSession, *, tenant_id: uuid.UUID, notifications: Sequence[Notification]) -> int:
    """Write the deliveries and their jobs in `db`'s transaction; returns how many were new.
    A wrong drill marking or an oversized message fails here, in the caller, before anything."""
    by_key: dict[str, tuple[Notification, str]] = {}
    for n in notifications:
        if not 1 <= len(n.key) <= 100:
            raise ValueError("a notification key is 1–100 characters")
        by_key.setdefault(n.key, (n, n.message.encode(drill=n.drill)))
    ords: list[int] = []
    users: list[uuid.UUID] = []
    keys = list(by_key)
    for i, key in enumerate(keys, start=1):
        for user_id in dict.fromkeys(by_key[key][0].user_ids):
            ords.append(i)
            users.append(user_id)
    if not users:
        return 0
    rows = (
        await db.execute(
            _INSERT_DELIVERIES,
            {
                "tenant": tenant_id,
                "ords": ords,
                "users": users,
                "keys": keys,
                "kinds": [by_key[k][0].message.kind for k in keys],
                "drills": [by_key[k][0].drill for k in keys],
            },
        )
    ).all()
    if rows:
        await jobs.enqueue(
            db,
            DELIVER,
            [
                DeliverJob(
                    tenant_id=tenant_id,
                    delivery_id=row.id,
                    data=by_key[row.notification_key][1],
                    ttl=by_key[row.notification_key][0].message.ttl,
                    urgency=by_key[row.notification_key][0].message.urgency,
                )
                for row in rows
            ],
            priority=1 if any(by_key[k][0].message.urgency == "high" for k in keys) else 0,
        )
    return len(rows)


def backoff(tries: int, retry_after: float | None) -> timedelta:
    """The push service's Retry-After if it gave one (capped), else BASE_DELAY doubled per try
    with ±20 % jitter so a burst that failed together does not retry together."""
    if retry_after is not None:
        return min(timedelta(seconds=retry_after), MAX_DELAY * 3)
    delay = min(BASE_DELAY * (2 ** max(0, tries - 1)), MAX_DELAY)
    jittered: timedelta = delay * random.uniform(0.8, 1.2)
    return jittered


_LOAD = text("""
    SELECT d.status, d.attempts, s.id, s.endpoint, s.p256dh, s.auth
    FROM push_delivery d JOIN push_subscription s ON s.tenant_id = d.tenant_id AND s.id = d.subscription_id
    WHERE d.tenant_id = :t AND d.id = :d
""")


async def deliver(ctx: jobs.JobContext, job: DeliverJob) -> None:
    """The `push.deliver` job: one POST to one device, then its outcome, in one transaction."""
    keys = vapid.current()
    token = context.set_context(context.RequestContext(tenant_id=job.tenant_id, role="system"))
    try:
        async with ctx.sessionmaker() as db:
            async with db.begin():
                row = (await db.execute(_LOAD, {"t": job.tenant_id, "d": job.delivery_id})).one_or_none()
            if row is None or row.status != "pending":
                return  # unsubscribed meanwhile, or this job already ran to the end (at least once)
            target = Target(row.id, row.endpoint, row.p256dh, row.auth)
            attempt = await send.deliver_once(target, job.data, keys, job.ttl, job.urgency, send.DEFAULT_TIMEOUT)
            tries = row.attempts + 1
            retry = attempt.retryable and tries < MAX_TRIES
            async with db.begin():
                if attempt.ok:
                    await send.record_success(db, job.tenant_id, [target])
                elif attempt.gone:
                    await send.record_gone(db, job.tenant_id, [target])  # its deliveries go with it
                else:
                    await send.record_failure(db, job.tenant_id, [target], attempt.describe())
                if not attempt.gone:
                    await db.execute(
                        text(
                            "UPDATE push_delivery SET attempts = :n, last_status = :s, status = :st,"
                            " delivered_at = CASE WHEN :ok THEN now() END WHERE tenant_id = :t AND id = :d"
                        ),
                        {
                            "n": tries,
                            "s": attempt.status,
                            "ok": attempt.ok,
                            "t": job.tenant_id,
                            "d": job.delivery_id,
                            "st": "delivered" if attempt.ok else "pending" if retry else "failed",
                        },
                    )
        log.info(
            "push.sent" if attempt.ok else "push.gone" if attempt.gone else "push.failed",
            tenant_id=str(job.tenant_id),
            subscription_id=str(target.id),
            status=attempt.status,
            reason=attempt.reason,
            tries=tries,
            retry=retry,
        )
        if retry:
            raise jobs.Retry(backoff(tries, attempt.retry_after), attempt.describe())
    finally:
        context.reset(token)


DELIVER = jobs.REGISTRY.add(jobs.Entrypoint("push.deliver", DeliverJob, deliver, max_attempts=MAX_TRIES))
