"""Starting a drill run from a scenario, driving its clock, and firing its injects exactly once.

A run of a safety-check scenario creates a drill operation (mode `drill`) over the scenario's
area through the operations service, so visits, escalations and progress are the ordinary ones
and the ordinary drill rules (disclosure, 【訓練】, no real figures) apply to them; its start
pushes to the operation's watchers as a real start does. A run of a VC scenario opens a drill
volunteer centre through the VC's own services (`server/drills/vc.py`).
"""

from __future__ import annotations

import math
import random
import uuid
from dataclasses import dataclass, field
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
from server.drills import bots, effects, vc
from server.drills.clock import MAX, Clock
from server.drills.models import DrillInject, DrillRun
from server.drills.scenario import Loaded, Scenario, format_time
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
    run.status, run.speed, run.sim_anchor_s, run.wall_anchor = (
        clock.status,
        clock.speed,
        clock.sim_anchor_s,
        clock.wall_anchor,
    )


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
    wanted += [("vc.district", s.vc.district)] if s.vc.district else []
    names = sorted({n for _, n in wanted})
    rows = (
        await db.execute(
            text(
                "SELECT id, name, code FROM district WHERE tenant_id = :t"
                " AND (name = ANY(CAST(:n AS text[])) OR code = ANY(CAST(:n AS text[])))"
            ),
            {"t": t, "n": names},
        )
    ).all()
    districts: dict[str, uuid.UUID] = {}
    for r in rows:
        districts.setdefault(r.code, r.id)
        districts.setdefault(r.name, r.id)
    shelter_names = sorted({j.shelter for j in s.injects if j.shelter})
    shelters = {
        r.name: r.id
        for r in (
            await db.execute(
                text(
                    "SELECT DISTINCT ON (name) id, name FROM shelter WHERE tenant_id = :t AND name = ANY(CAST(:n AS text[]))"
                    " ORDER BY name, id"
                ),
                {"t": t, "n": shelter_names},
            )
        ).all()
    }
    errors = [
        FieldError(
            field,
            "unknown_reference",
            line=loaded.line(field),
            en=f"{field}: there is no district '{name}' in this council.",
            ja=f"{field}: この社協に「{name}」という地区はありません。",
        )
        for field, name in wanted
        if name not in districts
    ]
    errors += [
        FieldError(
            f"injects[{i}].shelter",
            "unknown_reference",
            line=loaded.line(f"injects[{i}].shelter"),
            en=f"injects[{i}].shelter: there is no shelter '{j.shelter}' in this council.",
            ja=f"injects[{i}].shelter: この社協に「{j.shelter}」という避難所はありません。",
        )
        for i, j in enumerate(s.injects)
        if j.shelter and j.shelter not in shelters
    ]
    if errors:
        raise Problem("scenario_invalid", errors=errors)
    return References(districts, shelters)


async def start(
    db: AsyncSession,
    loaded: Loaded,
    *,
    speed: int,
    name: str | None = None,
    coordinator_ids: list[uuid.UUID] | None = None,
    seed: int | None = None,
) -> DrillRun:
    """Create the run, its drill operation (started) and its injects; the clock starts at T+0:00."""
    ctx = context.current()
    assert ctx.tenant_id is not None and ctx.user_id is not None
    s = loaded.scenario
    refs = await _resolve(db, loaded)
    op: Operation | None = None
    if s.exercise == "safety_check":
        area = MultiPolygon([Polygon(ring[0], ring[1:]) for ring in [s.area.polygon]]) if s.area.polygon else None
        title = s.title.removeprefix(DRILL).strip() or s.title
        op = await operations.create(
            db,
            OperationIn(
                kind="safety_check",
                mode="drill",
                name=title[:200],
                district_ids=list(dict.fromkeys(refs.districts[n] for n in s.area.districts)),
                hazard_kinds=list(s.area.hazard_zone_kinds),
                first_report_minutes=s.targets.first_report_minutes,
                completion_minutes=s.targets.completion_minutes,
                coordinator_ids=list(coordinator_ids or []),
            ),
            area=area,
        )
        await operations.start(db, op)
        await operations.push_started(db, op)
    elif s.exercise == "vc":
        op = await vc.open_centre(db, s.title.removeprefix(DRILL).strip() or s.title, s, refs.districts)
    now = await db_now(db)
    run = DrillRun(
        tenant_id=ctx.tenant_id,
        id=uuid.uuid4(),
        title=s.title,
        scenario_name=name,
        scenario_yaml=loaded.source,
        scenario=msgspec.to_builtins(s),
        operation_id=op.id,
        status="running",
        speed=speed,
        sim_anchor_s=0.0,
        wall_anchor=now,
        clock_version=0,
        duration_s=s.duration_s,
        seed=seed if seed is not None else random.randrange(2**31),
        started_by=ctx.user_id,
    )
    db.add(run)
    await db.flush()
    ordered = sorted(enumerate(s.injects), key=lambda p: (p[1].at_s, p[0]))
    for seq, (_, inj) in enumerate(ordered):
        spec: dict[str, Any] = msgspec.to_builtins(inj)
        if inj.district:
            spec["district_id"] = str(refs.districts[inj.district])
        if s.exercise == "vc" and s.area.districts:  # where a call without a district comes from
            spec["area_district_id"] = str(refs.districts[s.area.districts[0]])
        if inj.shelter:
            spec["shelter_id"] = str(refs.shelters[inj.shelter])
        db.add(
            DrillInject(
                tenant_id=ctx.tenant_id,
                run_id=run.id,
                seq=seq,
                at_s=inj.at_s,
                kind=inj.kind,
                audience=inj.audience,
                spec=spec,
            )
        )
    await db.flush()
    await bots.plan(db, run, s)
    await vc.plan(db, run, s)
    # The clock starts when the plans are made (100,000 bots' walks take seconds), not before:
    # else the first injects are due before the run is there to fire them.
    run.wall_anchor = await db_now(db)
    await db.flush()
    await log_clock(db, run)
    await audit(
        db,
        "drill.start",
        object_type="drill_run",
        object_ids=[run.id],
        mode="drill",
        operation_id=run.operation_id,
        details={"scenario": name or s.title, "speed": speed},
    )
    await emit(
        db,
        "drill.started",
        {"run_id": str(run.id), "title": _marked(s.title), "speed": speed},
        operation_id=run.operation_id,
        mode="drill",
    )
    return run


def _marked(title: str) -> str:
    return title if title.startswith(DRILL) else DRILL + title


async def starter_role(db: AsyncSession, run: DrillRun) -> str:
    """Injects act as the staff member who started the run (their role, for the ordinary checks)."""
    role: str | None = (
        await db.execute(
            text("SELECT role FROM app_user WHERE tenant_id = :t AND id = :u"),
            {"t": run.tenant_id, "u": run.started_by},
        )
    ).scalar_one_or_none()
    return role or "staff"


async def find(db: AsyncSession, run_id: uuid.UUID, *, lock: bool = False) -> DrillRun | None:
    q = select(DrillRun).where(DrillRun.tenant_id == context.current().tenant_id, DrillRun.id == run_id)
    return (await db.execute(q.with_for_update() if lock else q)).scalar_one_or_none()


async def get(db: AsyncSession, run_id: uuid.UUID, *, lock: bool = False) -> DrillRun:
    run = await find(db, run_id, lock=lock)
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
    await log_clock(db, run)
    await audit(
        db,
        f"drill.{action}",
        object_type="drill_run",
        object_ids=[run.id],
        mode="drill",
        operation_id=run.operation_id,
        details={"sim_s": clock.sim_anchor_s, "speed": clock.speed},
    )
    await emit(
        db,
        "drill.clock",
        {
            "run_id": str(run.id),
            "action": action,
            "status": run.status,
            "speed": run.speed,
            "sim": format_time(clock.sim_anchor_s),
        },
        operation_id=run.operation_id,
        mode="drill",
    )
    return run


async def _close_operation(db: AsyncSession, run: DrillRun) -> None:
    if run.operation_id is None:
        return
    op = (
        await db.execute(
            select(Operation).where(Operation.tenant_id == run.tenant_id, Operation.id == run.operation_id)
        )
    ).scalar_one()
    if op.status == "active":
        await operations.close(db, op)


@dataclass
class Fired:
    seq: int  # the inject's, or the first bot step's of a batch
    kind: str  # an inject's kind, or "bot:visit" / "bot:acknowledge" / "bot:vc_desk"
    push: effects.Push | None
    steps: int = 0  # bot steps done in this transaction


# Bot steps that fall due together are done in one transaction (decision 0026, addendum #19): at
# 1×–60× at most BATCH_STEPS_TIMED of them, so an inject that falls due meanwhile waits for one
# short transaction (its budget is 1 s of wall time); at maximum speed at most BATCH_STEPS, and
# only those within BATCH_WINDOW_S of drill time of the first, so the clock (and every visit of
# the batch, stamped at the moment it jumps to) is off by less than that.
BATCH_STEPS = 200
BATCH_STEPS_TIMED = 100
BATCH_WINDOW_S = 1.0

_NEXT_STEP = text("SELECT min(at_s) FROM drill_bot_step WHERE tenant_id = :t AND run_id = :r AND done_at IS NULL")


async def _next_step_at(db: AsyncSession, run: DrillRun) -> float | None:
    found = (await db.execute(_NEXT_STEP, {"t": run.tenant_id, "r": run.id})).scalar_one()
    return None if found is None else float(found)


async def next_event_at(db: AsyncSession, run: DrillRun) -> float | None:
    """The drill time of the next thing to happen: an inject not yet fired or a bot step not yet done."""
    found = [await next_inject_at(db, run, 0), await _next_step_at(db, run)]
    times = [float(t) for t in found if t is not None]
    return min(times) if times else None


async def log_clock(db: AsyncSession, run: DrillRun) -> None:
    """Keep every setting of the clock (maps people's wall times to drill time in the report)."""
    await db.execute(
        text(
            "INSERT INTO drill_clock_log (tenant_id, run_id, n, wall, sim_s, speed, status)"
            " SELECT :t, :r, coalesce(max(n) + 1, 0), :wall, :sim, :speed, :status FROM drill_clock_log"
            " WHERE tenant_id = :t AND run_id = :r"
        ),
        {
            "t": run.tenant_id,
            "r": run.id,
            "wall": run.wall_anchor,
            "sim": run.sim_anchor_s,
            "speed": run.speed,
            "status": run.status,
        },
    )


def scenario_of(run: DrillRun) -> Scenario:
    return msgspec.convert(run.scenario, Scenario)


_DUE_INJECT = text(
    "SELECT i.seq, i.at_s, i.kind, i.audience, i.spec FROM drill_inject i"
    " WHERE i.tenant_id = :t AND i.run_id = :r AND i.at_s <= :sim"
    "   AND NOT EXISTS (SELECT 1 FROM drill_inject_fired f WHERE f.tenant_id = i.tenant_id"
    "                   AND f.run_id = i.run_id AND f.seq = i.seq)"
    " ORDER BY i.at_s, i.seq LIMIT 1"
)
_DUE_STEPS = text(
    "SELECT seq, at_s, kind, user_id, household_id, escalation_id, outcome, from_lon, from_lat FROM drill_bot_step"
    " WHERE tenant_id = :t AND run_id = :r AND done_at IS NULL AND at_s <= :upto AND at_s < :before"
    " ORDER BY at_s, seq LIMIT :n"
)


@dataclass
class Due:
    """What fires next: one inject, or bot steps in drill-time order (visits only when several)."""

    sim: float  # the drill time it happens at (at maximum speed: where the clock jumps to)
    inject: Any = None
    steps: list[Any] = field(default_factory=list)


async def _due(db: AsyncSession, run: DrillRun, sim: float, limit: int) -> Due | None:
    """The next inject or batch of bot steps due by drill time `sim` (at maximum speed: the next
    event, wherever it lies). Injects go before bot steps due at the same moment; at 1×–60× an
    inject that is due goes before bot steps that fell behind (their drill time has passed, the
    inject's 1-second budget has not), and those steps are judged at their own planned time, so
    the order they are done in changes nothing. None: nothing is due."""
    params: dict[str, Any] = {"t": run.tenant_id, "r": run.id}
    if run.speed == MAX:
        inject_at, step_at = await next_inject_at(db, run, 0), await _next_step_at(db, run)
        if inject_at is None and step_at is None:
            return None
        if step_at is None or (inject_at is not None and inject_at <= step_at):
            sim = max(sim, float(inject_at or 0))
        else:
            before = min(step_at + BATCH_WINDOW_S, float(inject_at) if inject_at is not None else math.inf)
            steps = list((await db.execute(_DUE_STEPS, {**params, "upto": before, "before": before, "n": limit})).all())
            return Due(max(sim, float(steps[-1].at_s)), steps=_one_kind(steps))
    inject = (await db.execute(_DUE_INJECT, {**params, "sim": sim + EPSILON_S})).first()
    if inject is not None:
        return Due(sim, inject=inject)
    steps = list(
        (await db.execute(_DUE_STEPS, {**params, "upto": sim + EPSILON_S, "before": math.inf, "n": limit})).all()
    )
    return Due(sim, steps=_one_kind(steps)) if steps else None


def _one_kind(steps: list[Any]) -> list[Any]:
    """Watcher bots' visits go together; an acknowledgement or a VC desk tick goes alone, in its turn."""
    if steps[0].kind != "visit":
        return steps[:1]
    cut = next((i for i, s in enumerate(steps) if s.kind != "visit"), len(steps))
    return steps[:cut]


async def fire_next(db: AsyncSession, run_id: uuid.UUID, limit: int | None = None) -> Fired | None:
    """Fire the first inject that is due, or do the bot steps that are due (up to `limit`, by
    default BATCH_STEPS at maximum speed and BATCH_STEPS_TIMED at 1×–60×), in the
    caller's transaction (the caller commits): their fired/done marks, effects and feed events
    commit together or not at all. Finishes the run when its clock has passed the end and nothing
    is left. None: nothing due now."""
    run = await find(db, run_id, lock=True)
    if run is None or run.status != "running":
        return None
    now = await db_now(db)
    if run.speed == MAX:
        # The clock jumps at this transaction's start, so rows stamped now() in it (its start) read
        # as the moment jumped to, not the one before (`tonari_drill_sim` maps them by the log);
        # never before the log's last entry (a clock change this transaction waited for).
        now = (
            await db.execute(
                text(
                    "SELECT greatest(now(), (SELECT max(wall) FROM drill_clock_log WHERE tenant_id = :t AND run_id = :r))"
                ),
                {"t": run.tenant_id, "r": run.id},
            )
        ).scalar_one()
    clock = clock_of(run)
    sim = clock.sim_at(now)
    if limit is None:
        limit = BATCH_STEPS if run.speed == MAX else BATCH_STEPS_TIMED
    due = await _due(db, run, sim, max(1, limit))
    if run.speed == MAX:  # as fast as possible: the clock jumps to the next event (or the end)
        target = due.sim if due is not None else float(run.duration_s)
        if target > sim:
            sim = target
            set_clock(run, clock.jumped(now, sim))
            clock = clock_of(run)
            await log_clock(db, run)
    if due is None:
        if sim + EPSILON_S >= run.duration_s:
            set_clock(run, clock.stopped(now, "finished"))
            run.ended_at = now
            await log_clock(db, run)
            await _close_operation(db, run)
            await emit(
                db,
                "drill.finished",
                {"run_id": str(run.id), "title": _marked(run.title)},
                operation_id=run.operation_id,
                mode="drill",
            )
        return None
    scenario = scenario_of(run)
    if due.inject is None:
        first = due.steps[0]
        if first.kind == "visit":
            await bots.visit(db, run, due.steps, now)
        else:
            await bots.perform(db, run, first, sim, now)
        await bots.plan_acknowledgements(db, run, scenario, sim)
        return Fired(first.seq, f"bot:{first.kind}", None, len(due.steps))
    inject = due.inject
    due_at = clock.wall_at(float(inject.at_s)) or now
    inserted = (
        await db.execute(
            text(
                "INSERT INTO drill_inject_fired (tenant_id, run_id, seq, due_at, sim_s) VALUES (:t, :r, :s, :due, :sim)"
                " ON CONFLICT DO NOTHING RETURNING seq"
            ),
            {"t": run.tenant_id, "r": run.id, "s": inject.seq, "due": due_at, "sim": sim},
        )
    ).first()
    if inserted is None:  # another worker fired it between our read and write (the run lock makes this rare)
        return None
    result = await effects.apply(db, run, inject.seq, inject.kind, inject.audience, inject.spec, float(inject.at_s))
    await db.execute(
        text(
            "UPDATE drill_inject_fired SET effect = CAST(:e AS jsonb) WHERE tenant_id = :t AND run_id = :r AND seq = :s"
        ),
        {"e": msgspec.json.encode(result.effect).decode(), "t": run.tenant_id, "r": run.id, "s": inject.seq},
    )
    await bots.plan_acknowledgements(db, run, scenario, sim)
    return Fired(inject.seq, inject.kind, result.push)


async def record_failure(db: AsyncSession, run_id: uuid.UUID, error: str) -> str | None:
    """The inject or bot step whose effect failed is marked done with the error (the drill goes
    on and the report shows it) rather than blocking everything after it for ever. The caller
    retries a failed batch step by step first, so the step marked is the one that failed."""
    run = await get(db, run_id, lock=True)
    now = await db_now(db)
    due = await _due(db, run, clock_of(run).sim_at(now), 1)
    if due is None:
        return None
    if due.inject is None:
        step = due.steps[0]
        await db.execute(
            text(
                "UPDATE drill_bot_step SET done_at = clock_timestamp(), result = 'error'"
                " WHERE tenant_id = :t AND run_id = :r AND seq = :s"
            ),
            {"t": run.tenant_id, "r": run.id, "s": step.seq},
        )
        return f"bot:{step.seq}"
    await db.execute(
        text(
            "INSERT INTO drill_inject_fired (tenant_id, run_id, seq, due_at, sim_s, effect)"
            " VALUES (:t, :r, :s, :now, :sim, jsonb_build_object('error', CAST(:e AS text))) ON CONFLICT DO NOTHING"
        ),
        {"t": run.tenant_id, "r": run.id, "s": due.inject.seq, "sim": due.sim, "now": now, "e": error[:500]},
    )
    return f"inject:{due.inject.seq}"


async def next_wake(db: AsyncSession, run: DrillRun) -> datetime | None:
    """When this run next has something to do (an inject or a bot step due, or its end)."""
    clock = clock_of(run)
    if run.status != "running":
        return None
    nxt = await next_event_at(db, run)
    return clock.wall_at(nxt if nxt is not None and nxt < run.duration_s else float(run.duration_s))


async def mark(db: AsyncSession, run: DrillRun, expectation: int, passed: bool, comment: str | None) -> None:
    """An evaluator's ○/× for an expectation judged by people (the automatic ones judge themselves)."""
    s = scenario_of(run)
    if not 0 <= expectation < len(s.expectations):
        raise Problem("not_found")
    if s.expectations[expectation].kind != "evaluator":
        raise Problem(
            "conflict",
            detail_ja="この期待事項はデータから自動で判定されます。",
            detail_en="This expectation is judged automatically from the data.",
        )
    if run.archived_at is not None:
        raise Problem("conflict", detail_ja="保存済みの振り返りは変更できません。", detail_en="The report is archived.")
    ctx = context.current()
    await db.execute(
        text(
            "INSERT INTO drill_mark (tenant_id, run_id, expectation, passed, comment, marked_by)"
            " VALUES (:t, :r, :e, :p, :c, :u) ON CONFLICT (tenant_id, run_id, expectation)"
            " DO UPDATE SET passed = excluded.passed, comment = excluded.comment, marked_by = excluded.marked_by,"
            " marked_at = now()"
        ),
        {"t": run.tenant_id, "r": run.id, "e": expectation, "p": passed, "c": comment, "u": ctx.user_id},
    )
    await audit(
        db,
        "drill.mark",
        object_type="drill_run",
        object_ids=[run.id],
        mode="drill",
        operation_id=run.operation_id,
        details={"expectation": expectation, "passed": passed},
    )


async def archive(db: AsyncSession, run: DrillRun, built: dict[str, Any]) -> None:
    if run.status not in ("stopped", "finished"):
        raise Problem(
            "conflict",
            detail_ja="終了した訓練だけ振り返りを保存できます。",
            detail_en="Only an ended drill's report can be archived.",
        )
    if run.archived_at is None:
        run.report, run.archived_at = built, await db_now(db)
        await audit(
            db,
            "drill.archive",
            object_type="drill_run",
            object_ids=[run.id],
            mode="drill",
            operation_id=run.operation_id,
        )


async def delete(db: AsyncSession, run: DrillRun) -> None:
    """The drill and all its data: visits, escalations, targets, events and the drill operation;
    the audit log keeps the trail (including this deletion). Only once the report is archived."""
    if run.archived_at is None:
        raise Problem("drill_report_not_archived")
    op_id = run.operation_id
    if op_id is not None:
        params = {"t": run.tenant_id, "op": op_id}
        # The visit trigger lets only this drill operation's visits go (migration 0021).
        await db.execute(text("SELECT set_config('tonari.delete_drill_operation', :op, true)"), {"op": str(op_id)})
        await db.execute(
            text("DELETE FROM visit WHERE tenant_id = :t AND operation_id = :op AND mode = 'drill'"), params
        )
        await db.execute(text("DELETE FROM event WHERE tenant_id = :t AND operation_id = :op"), params)
        await vc.delete(db, run)
    await db.execute(
        text("DELETE FROM event WHERE tenant_id = :t AND kind LIKE 'drill.%' AND payload->>'run_id' = :r"),
        {"t": run.tenant_id, "r": str(run.id)},
    )
    await audit(
        db,
        "drill.delete",
        object_type="drill_run",
        object_ids=[run.id],
        mode="drill",
        operation_id=op_id,
        details={"title": run.title},
    )
    await db.delete(run)
    await db.flush()
    if op_id is not None:
        await db.execute(text("DELETE FROM operation WHERE tenant_id = :t AND id = :op AND mode = 'drill'"), params)
