"""What the drill tests share: a scenario whose injects each have an effect, and waiting on a run's
own rows (fired injects, the job queue) rather than on time."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

from sqlalchemy import text

from tests.conftest import as_tenant
from tests.helpers.world import World

EFFECTS = """
title: "【訓練】効果の試験"
hazard: {kind: earthquake}
area: {districts: [第一支部, 第二支部]}
start: "2027-01-15T10:00:00+09:00"
duration: "T+120:00"
injects:
  - at: "T+10:00"
    kind: household_report
    audience: coordinator
    district: 第二支部
    outcome: rescue
    message: {ja: "第二支部の世帯から要救助の通報", en: "A rescue call"}
  - at: "T+20:00"
    kind: road_closure
    line: [[140.21, 36.36], [140.24, 36.39]]
    message: {ja: "道路が通行止め"}
  - at: "T+30:00"
    kind: power_cut
    audience: watcher
    district: 第一支部
    minutes: 20
    message: {ja: "第一支部で停電"}
  - at: "T+40:00"
    kind: district_unreachable
    district: 第二支部
    message: {ja: "第二支部が孤立"}
"""


async def wait_for(predicate, what: str, timeout: float = 20.0) -> Any:
    """Poll the app's own state until `predicate()` returns something truthy."""
    deadline = time.monotonic() + timeout
    while True:
        found = await predicate()
        if found:
            return found
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.02)


async def fired_rows(sessionmaker, world: World, run_id: str) -> list[Any]:
    with as_tenant(world.tenant_id):
        async with sessionmaker() as db:
            return list(
                (
                    await db.execute(
                        text(
                            "SELECT f.seq, i.at_s, f.fired_at, f.due_at, f.sim_s, f.effect FROM drill_inject_fired f"
                            " JOIN drill_inject i USING (tenant_id, run_id, seq) WHERE f.tenant_id = :t AND f.run_id = :r"
                            " ORDER BY f.fired_at"
                        ),
                        {"t": world.tenant_id, "r": uuid.UUID(run_id)},
                    )
                ).all()
            )


async def no_job_due(sessionmaker, run_id: str) -> bool:
    """No job of this run's schedule is due or running (the job queue has looked at it)."""
    async with sessionmaker() as db:
        left = (
            await db.execute(
                text(
                    "SELECT count(*) FROM jobs.pgqueuer WHERE entrypoint = 'drill.advance' AND status IN ('queued', 'picked')"
                    " AND execute_after <= now() AND convert_from(payload, 'UTF8')::jsonb->>'run_id' = :r"
                ),
                {"r": run_id},
            )
        ).scalar_one()
    return left == 0
