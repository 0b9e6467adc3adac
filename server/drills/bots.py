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
from server.operations.ingest import ingest_group
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


# What each bot of a batch meets when it arrives, judged at its own planned drill time (so the
# order steps are done in changes nothing): one statement for the whole batch.
_CONDITIONS = text(
    """
    WITH s AS (
        SELECT * FROM unnest(CAST(:seqs AS int[]), CAST(:hhs AS uuid[]), CAST(:lons AS float8[]),
                             CAST(:lats AS float8[]), CAST(:ats AS float8[])) AS s(seq, household_id, lon, lat, at_s)
    ),
    c AS MATERIALIZED (
        SELECT c.id, c.kind, c.geom, c.from_s, c.until_s, c.district_id FROM drill_condition c
        WHERE c.tenant_id = :t AND c.run_id = :r AND c.kind IN ('road_closure', 'district_unreachable', 'power_cut')
    ),
    within AS MATERIALIZED (  -- each condition's district with the districts below it
        SELECT c.id, d.id AS district_id FROM c CROSS JOIN LATERAL (
            WITH RECURSIVE down AS (
                SELECT id FROM district WHERE tenant_id = :t AND id = c.district_id
                UNION SELECT x.id FROM district x JOIN down ON x.parent_id = down.id WHERE x.tenant_id = :t)
            SELECT id FROM down) d
        WHERE c.district_id IS NOT NULL
    )
    SELECT s.seq,
      EXISTS (SELECT 1 FROM c WHERE c.kind = 'road_closure' AND c.from_s <= s.at_s
              AND (c.until_s IS NULL OR c.until_s > s.at_s)
              AND ST_Intersects(c.geom, ST_MakeLine(ST_SetSRID(ST_MakePoint(s.lon, s.lat), 4326), h.location))) AS road,
      EXISTS (SELECT 1 FROM c JOIN within w ON w.id = c.id WHERE c.kind = 'district_unreachable'
              AND c.from_s <= s.at_s AND (c.until_s IS NULL OR c.until_s > s.at_s)
              AND w.district_id = h.district_id) AS cut_off,
      (SELECT max(c.until_s) FROM c WHERE c.kind = 'power_cut' AND c.from_s <= s.at_s AND c.until_s > s.at_s
              AND (c.district_id IS NULL
                   OR EXISTS (SELECT 1 FROM within w WHERE w.id = c.id AND w.district_id = h.district_id))) AS power_back
    FROM s LEFT JOIN household h ON h.tenant_id = :t AND h.id = s.household_id
    """
)

_HOLD = text(
    "UPDATE drill_bot_step b SET at_s = x.at FROM unnest(CAST(:seqs AS int[]), CAST(:ats AS float8[])) AS x(seq, at)"
    " WHERE b.tenant_id = :t AND b.run_id = :r AND b.seq = x.seq"
)
_DONE_MANY = text(
    "UPDATE drill_bot_step b SET done_at = clock_timestamp(), result = x.res"
    " FROM unnest(CAST(:seqs AS int[]), CAST(:res AS text[])) AS x(seq, res)"
    " WHERE b.tenant_id = :t AND b.run_id = :r AND b.seq = x.seq"
)
_WHOLE_TENANT = text("SELECT id, all_districts FROM app_user WHERE tenant_id = :t AND id = ANY(CAST(:ids AS uuid[]))")


async def perform(db: AsyncSession, run: DrillRun, step: Any, sim: float, now: datetime) -> dict[str, Any]:
    """Do one due acknowledgement or VC desk tick in the caller's transaction (visits: `visit`)."""
    if step.kind == "acknowledge":
        return await _acknowledge(db, run, step)
    assert step.kind == "vc_desk", step.kind
    did = await vc.desk_tick(db, run, msgspec.convert(run.scenario, Scenario), step.user_id, sim, now)
    await _done(db, run, step.seq, did)
    return {"step": step.seq, "result": did}


async def _contexts(
    db: AsyncSession, run: DrillRun, user_ids: list[uuid.UUID]
) -> dict[uuid.UUID, context.RequestContext]:
    """Each bot's own request context (its watcher user, role and district scope)."""
    outer = context.current()
    found = await db.execute(_WHOLE_TENANT, {"t": run.tenant_id, "ids": sorted(set(user_ids), key=str)})
    whole: dict[uuid.UUID, bool] = {r.id: r.all_districts for r in found}
    out: dict[uuid.UUID, context.RequestContext] = {}
    for user_id in dict.fromkeys(user_ids):
        scope = await expanded_scope(db, run.tenant_id, user_id, scoped=not whole.get(user_id, False))
        out[user_id] = context.RequestContext(
            request_id=outer.request_id, tenant_id=run.tenant_id, user_id=user_id, role="watcher", scope=scope
        )
    return out


async def visit(db: AsyncSession, run: DrillRun, steps: list[Any], now: datetime) -> dict[str, int]:
    """Do a batch of due watcher-bot visits in the caller's transaction, each as its own watcher:
    what each bot meets, judged in one statement; the reports through the ordinary group ingest,
    every bot's items checked under that watcher's own stamp (so the drill disclosure rule refuses
    a bot a household its watcher may not see, exactly as alone); the marks in one UPDATE. A
    report held by a power cut waits in the phone until the power is back (its step moves there).
    Returns the count of each result."""
    met = {
        r.seq: r
        for r in await db.execute(
            _CONDITIONS,
            {
                "t": run.tenant_id,
                "r": run.id,
                "seqs": [s.seq for s in steps],
                "hhs": [s.household_id for s in steps],
                "lons": [s.from_lon for s in steps],
                "lats": [s.from_lat for s in steps],
                "ats": [float(s.at_s) for s in steps],
            },
        )
    }
    held = [s for s in steps if met[s.seq].power_back is not None]
    if held:
        await db.execute(
            _HOLD,
            {
                "t": run.tenant_id,
                "r": run.id,
                "seqs": [s.seq for s in held],
                "ats": [float(met[s.seq].power_back) for s in held],
            },
        )
    going = [s for s in steps if met[s.seq].power_back is None]
    counts: dict[str, int] = {"held": len(held)} if held else {}
    if not going:
        return counts
    assert run.operation_id is not None  # a started run has its drill operation
    contexts = await _contexts(db, run, [s.user_id for s in going])
    entries = []
    for s in going:
        m = met[s.seq]
        outcome = "unknown" if m.road or m.cut_off else s.outcome
        note = "【訓練】模擬: " + (
            "通行止めで到達できず" if m.road else "地区が孤立し到達できず" if m.cut_off else "訪問"
        )
        entries.append(
            (
                contexts[s.user_id],
                run.operation_id,
                VisitIn(
                    client_id=uuid.uuid5(run.id, f"bot:{s.seq}"),
                    household_id=s.household_id,
                    outcome=outcome,
                    device_time=now,
                    note=note,
                    shelter_unknown=outcome == "evacuated",
                ),
            )
        )
    token = context.set_context(context.current())  # ingest_group leaves the last bot's context set
    try:
        outcomes = await ingest_group(db, entries, commit=False)
    finally:
        context.reset(token)
        await restamp(db)  # back to the run's own stamp
    statuses = []
    for s, outcome in zip(going, outcomes, strict=True):
        item = outcome.results[0]
        blocked = met[s.seq].road or met[s.seq].cut_off
        statuses.append(("blocked" if blocked else "accepted") if item.visit is not None else f"refused:{item.code}")
        counts[statuses[-1]] = counts.get(statuses[-1], 0) + 1
    await db.execute(_DONE_MANY, {"t": run.tenant_id, "r": run.id, "seqs": [s.seq for s in going], "res": statuses})
    return counts


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
