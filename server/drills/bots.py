"""Simulated actors: watcher bots that walk to their households and report, coordinator bots
that acknowledge escalations, and the VC bots' looks at the board (`vc_desk` steps, whose work
is in `server/drills/vc.py`).

A watcher bot plays a watcher who has a sign-in account: it records its visits as that user,
through the same ingest the field API uses (the watcher's own stamp, so the drill disclosure rule
applies: a household the watcher may not see in a drill is refused to the bot as to a person).
Its plan is made once, in PostGIS, when the run starts: households in order of distance from the
watcher's home, each leg timed by the walking model the planning tool shares (`walking`); the
outcome is drawn from the scenario's probabilities by a hash of the run's seed and the household
(reproducible). What the bot meets is decided when it gets there: a road closed across its leg
or a district cut off means it cannot reach the household (it reports 不明); a power cut in the
district holds its report until the power is back (the phone's outbox).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import msgspec
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from server.accounts.scope import expanded_scope
from server.audit.record import record as audit
from server.core import context
from server.db.engine import restamp
from server.drills import vc
from server.drills.models import DrillRun
from server.drills.scenario import Scenario
from server.drills.walking import SLOWING_ZONES, leg_seconds_sql, walk_params
from server.events.emit import emit
from server.operations.ingest import ingest
from server.operations.schemas import VisitIn

OUTCOME_ORDER = ("safe", "injured", "rescue", "evacuated", "unknown")

_PLAN = text(
    f"""
    WITH pick AS (
        SELECT t.household_id, h.location, w.id AS watcher_id, w.user_id, w.home,
               EXISTS (SELECT 1 FROM hazard_zone z WHERE z.tenant_id = h.tenant_id
                       AND z.kind = ANY(CAST(:zones AS text[])) AND ST_Intersects(z.geom, h.location)) AS slowed
        FROM operation_target t
        JOIN household h ON h.tenant_id = t.tenant_id AND h.id = t.household_id
        JOIN LATERAL (
            SELECT w.id, w.user_id, w.home FROM unnest(t.watcher_ids) WITH ORDINALITY AS a(id, ord)
            JOIN watcher w ON w.tenant_id = t.tenant_id AND w.id = a.id
            JOIN app_user u ON u.tenant_id = w.tenant_id AND u.id = w.user_id AND u.is_active AND u.role = 'watcher'
            ORDER BY a.ord LIMIT 1) w ON true
        WHERE t.tenant_id = :t AND t.operation_id = :op
    ),
    walk AS (
        SELECT p.*, coalesce(lag(p.location) OVER w, p.home) AS origin,
               row_number() OVER w AS k
        FROM pick p
        WINDOW w AS (PARTITION BY p.watcher_id ORDER BY p.location <-> p.home, p.household_id)
    ),
    legs AS (
        SELECT walk.*,
               {leg_seconds_sql("origin", "location", "slowed")} AS leg_s,
               ('x' || substr(md5(:seed || household_id::text), 1, 8))::bit(32)::bigint / 4294967296.0 AS u
        FROM walk
    )
    INSERT INTO drill_bot_step (tenant_id, run_id, seq, at_s, kind, user_id, household_id, outcome, from_lon, from_lat)
    SELECT :t, :run, row_number() OVER (ORDER BY at_s, household_id) - 1, at_s, 'visit', user_id, household_id,
           CASE WHEN u < :c0 THEN 'safe' WHEN u < :c1 THEN 'injured' WHEN u < :c2 THEN 'rescue'
                WHEN u < :c3 THEN 'evacuated' ELSE 'unknown' END,
           ST_X(origin), ST_Y(origin)
    FROM (SELECT legs.*, :delay + sum(leg_s) OVER (PARTITION BY watcher_id ORDER BY k) AS at_s FROM legs) planned
    """
)


async def plan(db: AsyncSession, run: DrillRun, scenario: Scenario) -> int:
    """Plan every watcher bot's walk (one statement); returns the number of steps."""
    bots = scenario.bots_for("watcher")
    if bots is None or run.operation_id is None:
        return 0
    cumulative, total = [], 0.0
    for code in OUTCOME_ORDER:
        total += bots.outcomes.get(code, 0.0)
        cumulative.append(total)
    result = await db.execute(
        _PLAN,
        {
            "t": run.tenant_id,
            "op": run.operation_id,
            "run": run.id,
            "zones": SLOWING_ZONES[scenario.hazard.kind],
            **walk_params(bots),
            "seed": str(run.seed),
            "delay": 60 * bots.start_delay_minutes,
            "c0": cumulative[0],
            "c1": cumulative[1],
            "c2": cumulative[2],
            "c3": cumulative[3],
        },
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]  # CursorResult of an INSERT


_NEXT_ACK_SEQ = text("SELECT coalesce(max(seq) + 1, 0) FROM drill_bot_step WHERE tenant_id = :t AND run_id = :r")

_PLAN_ACKS = text(
    """
    INSERT INTO drill_bot_step (tenant_id, run_id, seq, at_s, kind, user_id, escalation_id)
    SELECT :t, :r, :base + row_number() OVER (ORDER BY e.created_at, e.id) - 1,
           -- the delay counts from when the report raised it on the drill clock, as the report measures it
           greatest(CAST(:now AS float8), tonari_drill_sim(:t, :r, least(v.device_time, v.server_time)))
             + CAST(:delay AS float8),
           'acknowledge', :user, e.id
    FROM escalation e
    JOIN visit v ON v.tenant_id = e.tenant_id AND v.id = e.visit_id
    WHERE e.tenant_id = :t AND e.operation_id = :op AND e.status = 'open'
      AND NOT EXISTS (SELECT 1 FROM drill_bot_step s WHERE s.tenant_id = e.tenant_id AND s.run_id = :r
                      AND s.escalation_id = e.id)
    """
)


async def plan_acknowledgements(db: AsyncSession, run: DrillRun, scenario: Scenario, sim: float) -> None:
    """Coordinator bots acknowledge each new escalation of the drill after their set delay."""
    bots = scenario.bots_for("coordinator")
    if bots is None or run.operation_id is None:
        return
    user = (
        await db.execute(
            text(
                "SELECT id FROM app_user WHERE tenant_id = :t AND is_active AND role = 'coordinator' ORDER BY id LIMIT 1"
            ),
            {"t": run.tenant_id},
        )
    ).scalar_one_or_none() or run.started_by
    base = (await db.execute(_NEXT_ACK_SEQ, {"t": run.tenant_id, "r": run.id})).scalar_one()
    await db.execute(
        _PLAN_ACKS,
        {
            "t": run.tenant_id,
            "r": run.id,
            "op": run.operation_id,
            "base": base,
            "now": sim,
            "delay": 60 * bots.acknowledge_minutes,
            "user": user,
        },
    )


_CONDITIONS = text(
    """
    SELECT
      EXISTS (SELECT 1 FROM drill_condition c WHERE c.tenant_id = :t AND c.run_id = :r AND c.kind = 'road_closure'
              AND c.from_s <= :sim AND (c.until_s IS NULL OR c.until_s > :sim)
              AND ST_Intersects(c.geom, ST_MakeLine(ST_SetSRID(ST_MakePoint(:lon, :lat), 4326), h.location))) AS road,
      EXISTS (SELECT 1 FROM drill_condition c WHERE c.tenant_id = :t AND c.run_id = :r
              AND c.kind = 'district_unreachable' AND c.from_s <= :sim AND (c.until_s IS NULL OR c.until_s > :sim)
              AND h.district_id IN (WITH RECURSIVE down AS (
                  SELECT id FROM district WHERE tenant_id = :t AND id = c.district_id
                  UNION SELECT d.id FROM district d JOIN down ON d.parent_id = down.id WHERE d.tenant_id = :t)
                  SELECT id FROM down)) AS cut_off,
      (SELECT max(c.until_s) FROM drill_condition c WHERE c.tenant_id = :t AND c.run_id = :r AND c.kind = 'power_cut'
              AND c.from_s <= :sim AND c.until_s > :sim
              AND (c.district_id IS NULL OR h.district_id IN (WITH RECURSIVE down AS (
                  SELECT id FROM district WHERE tenant_id = :t AND id = c.district_id
                  UNION SELECT d.id FROM district d JOIN down ON d.parent_id = down.id WHERE d.tenant_id = :t)
                  SELECT id FROM down))) AS power_back
    FROM household h WHERE h.tenant_id = :t AND h.id = :h
    """
)


async def perform(db: AsyncSession, run: DrillRun, step: Any, sim: float, now: datetime) -> dict[str, Any]:
    """Do one due step in the caller's transaction; returns what happened."""
    if step.kind == "acknowledge":
        return await _acknowledge(db, run, step)
    if step.kind == "vc_desk":
        did = await vc.desk_tick(db, run, msgspec.convert(run.scenario, Scenario), step.user_id, sim, now)
        await _done(db, run, step.seq, did)
        return {"step": step.seq, "result": did}
    met = (
        await db.execute(
            _CONDITIONS,
            {
                "t": run.tenant_id,
                "r": run.id,
                "sim": sim,
                "lon": step.from_lon,
                "lat": step.from_lat,
                "h": step.household_id,
            },
        )
    ).one()
    if met.power_back is not None:  # no signal: the report waits in the phone until the power is back
        await db.execute(
            text("UPDATE drill_bot_step SET at_s = :at WHERE tenant_id = :t AND run_id = :r AND seq = :s"),
            {"at": met.power_back, "t": run.tenant_id, "r": run.id, "s": step.seq},
        )
        return {"held_until": met.power_back}
    blocked = met.road or met.cut_off
    outcome = "unknown" if blocked else step.outcome
    note = "【訓練】模擬: " + (
        "通行止めで到達できず" if met.road else "地区が孤立し到達できず" if met.cut_off else "訪問"
    )
    visit = VisitIn(
        client_id=uuid.uuid5(run.id, f"bot:{step.seq}"),
        household_id=step.household_id,
        outcome=outcome,
        device_time=now,
        note=note,
        shelter_unknown=outcome == "evacuated",
    )
    outer = context.current()
    scope = await expanded_scope(
        db, run.tenant_id, step.user_id, scoped=not await _all_districts(db, run, step.user_id)
    )
    token = context.set_context(
        context.RequestContext(
            request_id=outer.request_id, tenant_id=run.tenant_id, user_id=step.user_id, role="watcher", scope=scope
        )
    )
    try:
        await restamp(db)  # the watcher's own stamp: the disclosure rule reads it
        assert run.operation_id is not None  # a started run has its drill operation
        result = await ingest(db, [(run.operation_id, visit)], commit=False)
    finally:
        context.reset(token)
        await restamp(db)
    item = result.results[0]
    status = (
        "blocked"
        if blocked and item.visit is not None
        else ("accepted" if item.visit is not None else f"refused:{item.code}")
    )
    await _done(db, run, step.seq, status)
    return {"step": step.seq, "result": status, "escalations": len(result.escalations)}


async def _all_districts(db: AsyncSession, run: DrillRun, user_id: uuid.UUID) -> bool:
    found: bool | None = (
        await db.execute(
            text("SELECT all_districts FROM app_user WHERE tenant_id = :t AND id = :u"),
            {"t": run.tenant_id, "u": user_id},
        )
    ).scalar_one_or_none()
    return bool(found)


async def _done(db: AsyncSession, run: DrillRun, seq: int, result: str) -> None:
    await db.execute(
        text(
            "UPDATE drill_bot_step SET done_at = clock_timestamp(), result = :res"
            " WHERE tenant_id = :t AND run_id = :r AND seq = :s"
        ),
        {"res": result, "t": run.tenant_id, "r": run.id, "s": seq},
    )


async def _acknowledge(db: AsyncSession, run: DrillRun, step: Any) -> dict[str, Any]:
    row = (
        await db.execute(
            text(
                "UPDATE escalation SET status = 'acknowledged', acknowledged_by = :u, acknowledged_at = clock_timestamp(),"
                " notes = CASE WHEN notes IS NULL THEN :note ELSE notes || E'\\n' || :note END"
                " WHERE tenant_id = :t AND id = :e AND status = 'open' RETURNING id, household_id, recipient_ids, mode"
            ),
            {"u": step.user_id, "t": run.tenant_id, "e": step.escalation_id, "note": "【訓練】模擬: 受信確認"},
        )
    ).first()
    if row is None:  # a person acknowledged it first
        await _done(db, run, step.seq, "already")
        return {"step": step.seq, "result": "already"}
    await audit(
        db,
        "escalation.acknowledged",
        object_type="escalation",
        object_ids=[row.id],
        mode="drill",
        operation_id=run.operation_id,
        details={"drill_bot": True},
    )
    await emit(
        db,
        "escalation.acknowledged",
        {"escalation_id": str(row.id), "household_id": str(row.household_id)},
        operation_id=run.operation_id,
        household_id=row.household_id,
        mode="drill",
        audience=list(row.recipient_ids),
    )
    await _done(db, run, step.seq, "acknowledged")
    return {"step": step.seq, "result": "acknowledged"}
