"""Pruning old `push_delivery` rows: one per device and notification, kept while it is useful.

A delivery that is still `pending` is never pruned (its job may still run). A delivered or
failed one older than `Settings.push_delivery_retention_days` (30) is deleted: its row was the
dedupe of a cause (an escalation, an operation start) that is long over. What staff see of a
device that keeps failing (GET /api/staff/push/devices) lives on `push_subscription`, which this
never touches.

`push.prune` runs hourly (pgqueuer's scheduler, `server/jobs/periodic.py`), tenant by tenant
(row-level security applies), in batches of `batch` rows, one short transaction each.
"""

from __future__ import annotations

from typing import Any, cast

import msgspec
import structlog
from sqlalchemy import CursorResult, text

from server import jobs
from server.core import context
from server.jobs.periodic import PERIODIC, Periodic

log = structlog.get_logger("tonari.push")

BATCH = 2_000


class PruneDeliveries(msgspec.Struct, frozen=True):
    older_than_days: int = 30
    batch: int = BATCH


_TENANTS = text("SELECT id FROM tenant ORDER BY id")

# Uses ix_push_delivery_finished (tenant_id, created_at) WHERE status <> 'pending'.
_DELETE_OLD = text("""
    DELETE FROM push_delivery WHERE tenant_id = :t AND id IN (
        SELECT id FROM push_delivery
        WHERE tenant_id = :t AND status <> 'pending' AND created_at < now() - make_interval(days => :days)
        ORDER BY created_at LIMIT :batch)
""")


async def prune_deliveries(ctx: jobs.JobContext, job: PruneDeliveries) -> None:
    """Delete finished deliveries older than the retention, per tenant, a batch per transaction."""
    deleted = 0
    async with ctx.sessionmaker() as db:
        async with db.begin():
            tenants = list((await db.execute(_TENANTS)).scalars())
        for tenant_id in tenants:
            token = context.set_context(context.RequestContext(tenant_id=tenant_id, role="system"))
            try:
                while True:
                    async with db.begin():
                        result = await db.execute(
                            _DELETE_OLD, {"t": tenant_id, "days": job.older_than_days, "batch": job.batch}
                        )
                    n = int(cast("CursorResult[Any]", result).rowcount or 0)
                    deleted += n
                    if n < job.batch:
                        break
            finally:
                context.reset(token)
    log.info("push.pruned", older_than_days=job.older_than_days, deliveries=deleted, tenants=len(tenants))


PRUNE_DELIVERIES = jobs.REGISTRY.add(
    jobs.Entrypoint("push.prune_deliveries", PruneDeliveries, prune_deliveries, max_attempts=3)
)
PERIODIC.add(
    Periodic(
        PRUNE_DELIVERIES,
        "23 * * * *",
        lambda settings: PruneDeliveries(older_than_days=settings.push_delivery_retention_days),
    )
)
