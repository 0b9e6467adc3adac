"""What an inject does when it fires: its effect as data, its line on the live feed, its push.

All in the firing transaction. A household's report becomes a visit of the drill operation
through the ordinary ingest (so 要救助 raises the ordinary escalation to the district's 民生委員 and
the coordinators); a road closure, a district cut off, a power cut and a full shelter become
`drill_condition` rows the map and the field read. The volunteer-centre kinds land as rows of the drill centre through the VC's own
services (`server/drills/vc.py`).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from shapely.geometry import LineString
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from server.drills import vc
from server.drills.models import DrillCondition, DrillRun
from server.drills.scenario import format_time
from server.events.emit import emit
from server.operations.ingest import NEED_HELP, ingest
from server.operations.schemas import VisitIn
from server.push.send import PushMessage

DRILL = "【訓練】"
CONDITION_KINDS = ("road_closure", "district_unreachable", "power_cut", "shelter_full")
AUDIENCE_CAP = 5000


@dataclass
class Push:
    user_ids: list[uuid.UUID]
    message: PushMessage


@dataclass
class Result:
    effect: dict[str, Any] = field(default_factory=dict)
    push: Push | None = None


_AUDIENCE = text(
    """
    WITH in_drill AS MATERIALIZED (  -- the drill's watchers' accounts, from one pass over its targets
        SELECT DISTINCT w.user_id
        FROM (SELECT DISTINCT unnest(ot.watcher_ids) AS watcher_id FROM operation_target ot
              WHERE ot.tenant_id = :t AND ot.operation_id = CAST(:op AS uuid)) x
        JOIN watcher w ON w.tenant_id = :t AND w.id = x.watcher_id
        WHERE w.user_id IS NOT NULL
    )
    SELECT u.id FROM app_user u
    WHERE u.tenant_id = :t AND u.is_active
      AND (:aud = 'all' OR u.role = :aud OR (:aud = 'coordinator' AND u.role IN ('staff', 'admin'))
           -- the VC's staff: whoever works its desk (0025-vc-roles)
           OR (:aud = 'vc_staff' AND u.role IN ('admin', 'staff', 'coordinator', 'vc_desk')))
      AND (u.role <> 'watcher' OR u.id IN (SELECT user_id FROM in_drill))
    ORDER BY u.id LIMIT :cap
    """
)


async def audience(db: AsyncSession, run: DrillRun, role: str) -> list[uuid.UUID]:
    """The users an inject addresses: a role of the council (watchers: only those in the drill)."""
    return list(
        (
            await db.execute(_AUDIENCE, {"t": run.tenant_id, "aud": role, "op": run.operation_id, "cap": AUDIENCE_CAP})
        ).scalars()
    )


_PICK = text(
    """
    SELECT t.household_id FROM operation_target t JOIN household h ON h.tenant_id = t.tenant_id AND h.id = t.household_id
    WHERE t.tenant_id = :t AND t.operation_id = :op AND t.status <> ALL(CAST(:need_help AS text[]))
      AND (CAST(:district AS uuid) IS NULL OR h.district_id IN (
            WITH RECURSIVE scope AS (
                SELECT id FROM district WHERE tenant_id = :t AND id = CAST(:district AS uuid)
                UNION SELECT d.id FROM district d JOIN scope s ON d.parent_id = s.id WHERE d.tenant_id = :t)
            SELECT id FROM scope))
    -- a household nobody reached yet if there is one; else a later emergency where all was well
    ORDER BY t.status = 'unreached' DESC, md5(CAST(:seed AS text) || t.household_id::text)
    LIMIT :n
    """
)


async def _household_report(
    db: AsyncSession, run: DrillRun, seq: int, spec: dict[str, Any], now: datetime
) -> dict[str, Any]:
    if run.operation_id is None:
        return {"visits": [], "note": "no operation"}
    picked = list(
        (
            await db.execute(
                _PICK,
                {
                    "t": run.tenant_id,
                    "op": run.operation_id,
                    "district": spec.get("district_id"),
                    "seed": f"{run.seed}:{seq}",
                    "n": int(spec.get("count") or 1),
                    "need_help": NEED_HELP,
                },
            )
        ).scalars()
    )
    outcome = spec["outcome"]
    note = (DRILL + "状況付与: " + spec["message"]["ja"])[:2000]
    visits = [
        VisitIn(
            client_id=uuid.uuid5(run.id, f"inject:{seq}:{i}"),
            household_id=hid,
            outcome=outcome,
            device_time=now,
            note=note,
            shelter_unknown=outcome == "evacuated",
        )
        for i, hid in enumerate(picked)
    ]
    result = await ingest(db, [(run.operation_id, v) for v in visits], commit=False)
    return {
        "visits": [str(r.visit.id) for r in result.results if r.visit is not None],
        "escalations": [str(e.id) for e in result.escalations],
        "refused": [r.code for r in result.results if r.visit is None],
    }


async def _condition(
    db: AsyncSession, run: DrillRun, seq: int, kind: str, spec: dict[str, Any], at_s: float
) -> dict[str, Any]:
    line = spec.get("line")
    minutes = spec.get("minutes")
    cond = DrillCondition(
        tenant_id=run.tenant_id,
        id=uuid.uuid4(),
        run_id=run.id,
        seq=seq,
        kind=kind,
        district_id=uuid.UUID(spec["district_id"]) if spec.get("district_id") else None,
        shelter_id=uuid.UUID(spec["shelter_id"]) if spec.get("shelter_id") else None,
        geom=f"SRID=4326;{LineString(line).wkt}" if kind == "road_closure" and line else None,
        from_s=at_s,
        until_s=at_s + 60 * minutes if minutes else None,
    )
    db.add(cond)
    await db.flush()
    return {"condition_id": str(cond.id), "kind": kind, "until": format_time(cond.until_s) if cond.until_s else None}


async def apply(
    db: AsyncSession, run: DrillRun, seq: int, kind: str, audience_role: str, spec: dict[str, Any], at_s: float
) -> Result:
    now: datetime = (await db.execute(text("SELECT clock_timestamp()"))).scalar_one()
    effect: dict[str, Any]
    if kind == "household_report":
        effect = await _household_report(db, run, seq, spec, now)
    elif kind in CONDITION_KINDS:
        effect = await _condition(db, run, seq, kind, spec, at_s)
    elif kind == "announcement":
        effect = {}
    else:  # need_phoned_in, volunteer_walk_in, volunteer_injured, equipment_lost
        effect = await vc.apply(db, run, seq, kind, spec)
    message = spec["message"]
    users = await audience(db, run, audience_role)
    await emit(
        db,
        "drill.inject",
        {
            "run_id": str(run.id),
            "seq": seq,
            "inject_kind": kind,
            "at": format_time(at_s),
            "title": DRILL + message["ja"][:200],
            "message": {"ja": DRILL + message["ja"], "en": "[DRILL] " + (message.get("en") or message["ja"])},
            "effect": effect,
        },
        operation_id=run.operation_id,
        mode="drill",
        audience=None if audience_role == "all" else users,
    )
    push = (
        Push(
            users,
            PushMessage(
                title=(DRILL + message["ja"])[:100],
                body=(message.get("en") or "")[:400],
                url=f"/staff/drills/{run.id}",
                tag=f"drill-{run.id}-{seq}",
                kind="inject",
                urgency="high" if kind == "household_report" else "normal",
            ),
        )
        if users
        else None
    )
    return Result(effect=effect, push=push)
