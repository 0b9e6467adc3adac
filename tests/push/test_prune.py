"""Pruning push deliveries (server/push/prune.py) on real PostgreSQL, with rows aged by SQL:
finished deliveries older than the retention go, in batches and for every tenant; recent ones
and pending ones stay, and staff's view of a failing device is unchanged."""

from __future__ import annotations

import uuid

from sqlalchemy import text

from server.jobs import JobContext
from server.push.prune import PruneDeliveries, prune_deliveries
from tests.conftest import as_tenant

_SUBSCRIBE = text("""
    INSERT INTO push_subscription (tenant_id, id, user_id, endpoint, p256dh, auth, failure_count, last_error,
                                   failing_since, last_failure_at)
    VALUES (:t, :id, :u, :endpoint, 'p', 'a', :failures, :error, CASE WHEN :failures > 0 THEN now() - interval '40 days' END,
            CASE WHEN :failures > 0 THEN now() - interval '1 hour' END)
""")
_DELIVERY = text("""
    INSERT INTO push_delivery (tenant_id, id, subscription_id, notification_key, kind, drill, status, created_at)
    VALUES (:t, gen_random_uuid(), :s, :key, 'escalation', false, :status, now() - make_interval(days => :age))
""")


async def _tenant_with_deliveries(make_tenant, sessionmaker, rows: list[tuple[str, str, int]]):
    """A tenant whose commissioner has a failing device and a healthy one; `rows` are
    (key, status, age in days) of deliveries to the failing one (the healthy one gets the same)."""
    tenant = await make_tenant(("staff", "commissioner"))
    user = tenant.accounts["commissioner"].user_id
    failing, healthy = uuid.uuid4(), uuid.uuid4()
    with as_tenant(tenant.id):
        async with sessionmaker() as db, db.begin():
            for sub, failures in ((failing, 7), (healthy, 0)):
                await db.execute(
                    _SUBSCRIBE,
                    {
                        "t": tenant.id,
                        "id": sub,
                        "u": user,
                        "endpoint": f"https://push.invalid/{sub}",
                        "failures": failures,
                        "error": "HTTP 502 Bad Gateway" if failures else None,
                    },
                )
                for key, status, age in rows:
                    await db.execute(_DELIVERY, {"t": tenant.id, "s": sub, "key": key, "status": status, "age": age})
    return tenant, failing


async def _keys(sessionmaker, tenant_id: uuid.UUID) -> list[str]:
    with as_tenant(tenant_id):
        async with sessionmaker() as db:
            return sorted(
                (
                    await db.execute(
                        text("SELECT notification_key FROM push_delivery WHERE tenant_id = :t"), {"t": tenant_id}
                    )
                )
                .scalars()
                .all()
            )


async def test_old_finished_deliveries_go_in_batches_and_recent_and_pending_ones_stay(
    make_tenant, sessionmaker, client_factory
) -> None:
    rows = [
        *((f"old-delivered-{i}", "delivered", 45) for i in range(5)),
        ("old-failed", "failed", 31),
        ("old-pending", "pending", 60),  # its job may still run
        ("recent-delivered", "delivered", 29),
        ("recent-failed", "failed", 2),
        ("new-pending", "pending", 0),
    ]
    one, failing = await _tenant_with_deliveries(make_tenant, sessionmaker, rows)
    two, _ = await _tenant_with_deliveries(
        make_tenant, sessionmaker, [("old", "delivered", 90), ("new", "delivered", 1)]
    )
    staff = client_factory()
    assert (await staff.login(one.accounts["staff"].login, one.accounts["staff"].password)).status_code == 200
    before = (await staff.get("/api/staff/push/devices")).json()

    # batch 3: eleven old finished rows of tenant one take four batches
    await prune_deliveries(JobContext(job_id=0, attempts=0, sessionmaker=sessionmaker), PruneDeliveries(30, batch=3))

    kept = ["new-pending", "old-pending", "recent-delivered", "recent-failed"]
    assert await _keys(sessionmaker, one.id) == sorted(kept * 2)
    assert await _keys(sessionmaker, two.id) == ["new", "new"]
    after = (await staff.get("/api/staff/push/devices")).json()
    assert [d["id"] for d in after] == [str(failing)]
    assert after == before and after[0]["failures"] == 7 and after[0]["last_error"] == "HTTP 502 Bad Gateway"


async def test_the_retention_is_the_settings_and_the_prune_runs_hourly(app) -> None:
    from server.jobs.periodic import PERIODIC
    from server.services import services

    settings = services(app).settings
    [periodic] = [p for p in PERIODIC if p.entrypoint.name == "push.prune_deliveries"]
    assert periodic.cron == "23 * * * *"
    assert periodic.payload(settings) == PruneDeliveries(older_than_days=settings.push_delivery_retention_days)
    assert settings.push_delivery_retention_days == 30
