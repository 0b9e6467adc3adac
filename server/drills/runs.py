"""Starting a drill run from a scenario, driving its clock, and firing its injects exactly once.

A run of a safety-check scenario creates a drill operation (mode `drill`) over the scenario's
area through the operations service, so visits, escalations and progress are the ordinary ones
and the ordinary drill rules (disclosure, 【訓練】, no real figures) apply to them.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import msgspec
import structlog
from shapely.geometry import MultiPolygon, Polygon
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from server.audit.record import record as audit
from server.core import context
from server.core.problems import FieldError, Problem
from server.drills import effects
from server.drills.clock import MAX, Clock
from server.drills.models import DrillInject, DrillRun
from server.drills.scenario import Loaded, format_time
from server.events.emit import emit
from server.operations import service as operations
from server.operations.models import Operation
from server.operations.schemas import OperationIn

log = structlog.get_logger("tonari.drills")

DRILL = "【訓練】"
# Clock arithmetic in floating point may land a hair before a due moment it was scheduled for.
EPSILON_S = 0.001


def clock_of(run: DrillRun) -> Clock:
    return Clock(run.status, run.speed, run.sim_anchor_s, run.wall_anchor)


def set_clock(run: DrillRun, clock: Clock) -> None:
    run.status, run.speed, run.sim_anchor_s, run.wall_anchor = clock.status, clock.speed, clock.sim_anchor_s, clock.wall_anchor


async def db_now(db: AsyncSession) -> datetime:
    """The database's clock: every server of the app reads the same one."""
    now: datetime = (await db.execute(text("SELECT clock_timestamp()"))).scalar_one()
    return now


@dataclass
class References:
    districts: dict[str, uuid.UUID]
    shelters: dict[str, uuid.UUID]


async def _resolve(db: AsyncSession, loaded: Loaded) -> References:
    """Every district and shelter the scenario names must be this tenant's; errors keep their line."""
    s = loaded.scenario
    t = context.current().tenant_id
    wanted: list[tuple[str, str]] = [(f"area.districts[{i}]", n) for i, n in enumerate(s.area.districts)]
    wanted += [(f"injects[{i}].district", j.district) for i, j in enumerate(s.injects) if j.district]
    wanted += [(f"expectations[{i}].district", e.district) for i, e in enumerate(s.expectations) if e.district]
    names = sorted({n for _, n in wanted})
    rows = (await db.execute(text("SELECT id, name, code FROM district WHERE tenant_id = :t"
                                  " AND (name = ANY(CAST(:n AS text[])) OR code = ANY(CAST(:n AS text[])))"),
                             {"t": t, "n": names})).all()
    districts: dict[str, uuid.UUID] = {}
    for r in rows:
        districts.setdefault(r.code, r.id)
        districts.setdefault(r.name, r.id)
    shelter_names = sorted({j.shelter for j in s.injects if j.shelter})
    shelters = {r.name: r.id for r in (await db.execute(text(
        "SELECT DISTINCT ON (name) id, name FROM shelter WHERE tenant_id = :t AND name = ANY(CAST(:n AS text[]))"
        " ORDER BY name, id"), {"t": t, "n": shelter_names})).all()}
    errors = [FieldError(field, "unknown_reference", line=loaded.line(field),
                         en=f"{field}: there is no district '{name}' in this council.",
                         ja=f"{field}: この社協に「{name}」という地区はありません。")
              for field, name in wanted if name not in districts]
    errors += [FieldError(f"injects[{i}].shelter", "unknown_reference", line=loaded.line(f"injects[{i}].shelter"),
                          en=f"injects[{i}].shelter: there is no shelter '{j.shelter}' in this council.",
                          ja=f"injects[{i}].shelter: この社協に「{j.shelter}」という避難所はありません。")
               for i, j in enumerate(s.injects) if j.shelter and j.shelter not in shelters]
    if errors:
        raise Problem("scenario_invalid", errors=errors)
    return References(districts, shelters)


async def start(db: AsyncSession, loaded: Loaded, *, speed: int, name: str | None = None,
                coordinator_ids: list[uuid.UUID] | None = None, seed: int | None = None) -> DrillRun:
    """Create the run, its drill operation (started) and its injects; the clock starts at T+0:00."""
    ctx = context.current()
    assert ctx.tenant_id is not None and ctx.user_id is not None
    s = loaded.scenario
    refs = await _resolve(db, loaded)
    op: Operation | None = None
    if s.exercise == "safety_check":
        area = MultiPolygon([Polygon(ring[0], ring[1:]) for ring in [s.area.polygon]]) if s.area.polygon else None
        title = s.title.removeprefix(DRILL).strip() or s.title
        op = await operations.create(db, OperationIn(
            kind="safety_check", mode="drill", name=title[:200],
            district_ids=list(dict.fromkeys(refs.districts[n] for n in s.area.districts)),
            hazard_kinds=list(s.area.hazard_zone_kinds), first_report_minutes=s.targets.first_report_minutes,
            completion_minutes=s.targets.completion_minutes, coordinator_ids=list(coordinator_ids or [])), area=area)
        await operations.start(db, op)
    now = await db_now(db)
    run = DrillRun(tenant_id=ctx.tenant_id, id=uuid.uuid4(), title=s.title, scenario_name=name,
                   scenario_yaml=loaded.source, scenario=msgspec.to_builtins(s), operation_id=op.id if op else None,
                   status="running", speed=speed, sim_anchor_s=0.0, wall_anchor=now, clock_version=0,
                   duration_s=s.duration_s,
                   seed=seed if seed is not None else random.randrange(2**31), started_by=ctx.user_id)
    db.add(run)
    await db.flush()
    ordered = sorted(enumerate(s.injects), key=lambda p: (p[1].at_s, p[0]))
    for seq, (_, inj) in enumerate(ordered):
        spec: dict[str, Any] = msgspec.to_builtins(inj)
        if inj.district:
            spec["district_id"] = str(refs.districts[inj.district])
        if inj.shelter:
            spec["shelter_id"] = str(refs.shelters[inj.shelter])
        db.add(DrillInject(tenant_id=ctx.tenant_id, run_id=run.id, seq=seq, at_s=inj.at_s, kind=inj.kind,
                           audience=inj.audience, spec=spec))
    await db.flush()
    await audit(db, "drill.start", object_type="drill_run", object_ids=[run.id], mode="drill",
                operation_id=run.operation_id, details={"scenario": name or s.title, "speed": speed})
    await emit(db, "drill.started", {"run_id": str(run.id), "title": _marked(s.title), "speed": speed},
               operation_id=run.operation_id, mode="drill")
    return run


def _marked(title: str) -> str:
    return title if title.startswith(DRILL) else DRILL + title


async def starter_role(db: AsyncSession, run: DrillRun) -> str:
    """Injects act as the staff member who started the run (their role, for the ordinary checks)."""
    role: str | None = (await db.execute(text("SELECT role FROM app_user WHERE tenant_id = :t AND id = :u"),
                                         {"t": run.tenant_id, "u": run.started_by})).scalar_one_or_none()
    return role or "staff"


async def get(db: AsyncSession, run_id: uuid.UUID, *, lock: bool = False) -> DrillRun:
    q = select(DrillRun).where(DrillRun.tenant_id == context.current().tenant_id, DrillRun.id == run_id)
    run = (await db.execute(q.with_for_update() if lock else q)).scalar_one_or_none()
    if run is None:
        raise Problem("not_found")
    return run


_NEXT = text(
    """
    SELECT min(i.at_s) FROM drill_inject i
    WHERE i.tenant_id = :t AND i.run_id = :r AND i.at_s >= :after
      AND NOT EXISTS (SELECT 1 FROM drill_inject_fired f WHERE f.tenant_id = i.tenant_id AND f.run_id = i.run_id
                      AND f.seq = i.seq)
    """
)


async def next_inject_at(db: AsyncSession, run: DrillRun, after: float = 0) -> int | None:
    found: int | None = (await db.execute(_NEXT, {"t": run.tenant_id, "r": run.id, "after": after})).scalar_one()
    return found


async def control(db: AsyncSession, run_id: uuid.UUID, action: str, speed: int | None = None) -> DrillRun:
    """pause | resume | speed | skip | stop, each re-anchoring the stored clock."""
    run = await get(db, run_id, lock=True)
    now = await db_now(db)
    clock = clock_of(run)
    if run.status in ("stopped", "finished"):
        raise Problem("drill_not_running")
    if action == "pause":
        if run.status == "running":
            clock = clock.paused(now)
    elif action == "resume":
        if run.status == "paused":
            clock = clock.resumed(now)
    elif action == "speed":
        assert speed is not None
        clock = clock.at_speed(now, speed)
    elif action == "skip":
        here = clock.sim_at(now)
        nxt = await next_inject_at(db, run, here)
        if nxt is None:
            nxt = run.duration_s
        clock = clock.jumped(now, float(nxt))
    elif action == "stop":
        clock = clock.stopped(now)
        run.ended_at = now
        await _close_operation(db, run)
    set_clock(run, clock)
    await db.flush()
    await audit(db, f"drill.{action}", object_type="drill_run", object_ids=[run.id], mode="drill",
                operation_id=run.operation_id, details={"sim_s": clock.sim_anchor_s, "speed": clock.speed})
    await emit(db, "drill.clock", {"run_id": str(run.id), "action": action, "status": run.status, "speed": run.speed,
                                   "sim": format_time(clock.sim_anchor_s)}, operation_id=run.operation_id, mode="drill")
    return run


async def _close_operation(db: AsyncSession, run: DrillRun) -> None:
    if run.operation_id is None:
        return
    op = (await db.execute(select(Operation).where(Operation.tenant_id == run.tenant_id,
                                                   Operation.id == run.operation_id))).scalar_one()
    if op.status == "active":
        await operations.close(db, op)


@dataclass
class Fired:
    seq: int
    kind: str
    push: effects.Push | None


async def fire_next(db: AsyncSession, run_id: uuid.UUID) -> Fired | None:
    """Fire the first inject that is due and has not fired, in the caller's transaction (the
    caller commits): the fired row, its effect and its feed event commit together or not at all.
    Finishes the run when its clock has passed the end and nothing is left. None: nothing due."""
    run = await get(db, run_id, lock=True)
    if run.status != "running":
        return None
    now = await db_now(db)
    clock = clock_of(run)
    sim = clock.sim_at(now)
    if run.speed == MAX:  # as fast as possible: jump to the next inject
        nxt = await next_inject_at(db, run, 0)
        if nxt is not None and nxt > sim:
            sim = float(nxt)
            set_clock(run, clock.jumped(now, sim))
            clock = clock_of(run)
    due = (await db.execute(text(
        "SELECT i.seq, i.at_s, i.kind, i.audience, i.spec FROM drill_inject i"
        " WHERE i.tenant_id = :t AND i.run_id = :r AND i.at_s <= :sim"
        "   AND NOT EXISTS (SELECT 1 FROM drill_inject_fired f WHERE f.tenant_id = i.tenant_id"
        "                   AND f.run_id = i.run_id AND f.seq = i.seq)"
        " ORDER BY i.at_s, i.seq LIMIT 1"), {"t": run.tenant_id, "r": run.id, "sim": sim + EPSILON_S})).first()
    if due is None:
        if sim + EPSILON_S >= run.duration_s or (run.speed == MAX and await next_inject_at(db, run, 0) is None):
            set_clock(run, clock.stopped(now, "finished"))
            run.ended_at = now
            await _close_operation(db, run)
            await emit(db, "drill.finished", {"run_id": str(run.id), "title": _marked(run.title)},
                       operation_id=run.operation_id, mode="drill")
        return None
    due_at = clock.wall_at(float(due.at_s)) or now
    inserted = (await db.execute(text(
        "INSERT INTO drill_inject_fired (tenant_id, run_id, seq, due_at, sim_s) VALUES (:t, :r, :s, :due, :sim)"
        " ON CONFLICT DO NOTHING RETURNING seq"), {"t": run.tenant_id, "r": run.id, "s": due.seq, "due": due_at,
                                                    "sim": sim})).first()
    if inserted is None:  # another worker fired it between our read and write (the run lock makes this rare)
        return None
    result = await effects.apply(db, run, due.seq, due.kind, due.audience, due.spec, float(due.at_s))
    await db.execute(text("UPDATE drill_inject_fired SET effect = CAST(:e AS jsonb)"
                          " WHERE tenant_id = :t AND run_id = :r AND seq = :s"),
                     {"e": msgspec.json.encode(result.effect).decode(), "t": run.tenant_id, "r": run.id, "s": due.seq})
    return Fired(due.seq, due.kind, result.push)


async def record_failure(db: AsyncSession, run_id: uuid.UUID, error: str) -> int | None:
    """An inject whose effect failed is marked fired with the error (the drill goes on and the
    report shows it) rather than blocking every later inject for ever."""
    run = await get(db, run_id, lock=True)
    now = await db_now(db)
    clock = clock_of(run)
    row = (await db.execute(text(
        "INSERT INTO drill_inject_fired (tenant_id, run_id, seq, due_at, sim_s, effect)"
        " SELECT i.tenant_id, i.run_id, i.seq, :now, :sim, jsonb_build_object('error', CAST(:e AS text))"
        " FROM drill_inject i WHERE i.tenant_id = :t AND i.run_id = :r AND i.at_s <= :sim"
        "   AND NOT EXISTS (SELECT 1 FROM drill_inject_fired f WHERE f.tenant_id = i.tenant_id"
        "                   AND f.run_id = i.run_id AND f.seq = i.seq)"
        " ORDER BY i.at_s, i.seq LIMIT 1 ON CONFLICT DO NOTHING RETURNING seq"),
        {"t": run.tenant_id, "r": run.id, "sim": max(clock.sim_at(now), 0.0), "now": now, "e": error[:500]})).first()
    return row.seq if row else None


async def next_wake(db: AsyncSession, run: DrillRun) -> datetime | None:
    """When this run next has something to do (an inject due, or its end)."""
    clock = clock_of(run)
    if run.status != "running":
        return None
    nxt = await next_inject_at(db, run, 0)
    target = float(nxt) if nxt is not None else float(run.duration_s)
    return clock.wall_at(target)
