"""Bot steps that fall due together are done in one transaction (decision 0026, addendum #19):
a batch never crosses an inject, at maximum speed it spans one drill second and every visit of it
reads within that second of its planned time, at 1×–60× an inject that is due goes before bot
steps that fell behind (and those are judged at their own planned time), each bot still records
as its own watcher under the drill disclosure rule, and a batch that never commits leaves nothing
(its redo does each step once). The run is driven here step by step through `fire_next` (no job
is queued for it), so the order is the engine's, not the job queue's timing."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import text

from server.drills import bots, runs, schedule
from server.drills import scenario as scenarios
from server.drills.clock import MAX
from tests.conftest import as_tenant
from tests.helpers.drills import bot_world

# Five watchers along 36.36, two households each (the nearer walked first).
WALKS = [
    ((140.21 + 0.015 * w, 36.36), [(140.211 + 0.015 * w, 36.361), (140.212 + 0.015 * w, 36.362)]) for w in range(5)
]
HIDDEN = (2, 0)  # not consented for watchers: a drill refuses it to its watcher's bot
# Drill times the test plans each step at (walk, household) → seconds.
PLAN = {
    (0, 0): 690.0,
    (1, 0): 690.4,
    (2, 0): 690.9,
    (3, 0): 691.5,
    (4, 0): 700.0,
    (0, 1): 700.0,
    (1, 1): 1301.0,
    (2, 1): 1301.5,
    (3, 1): 1302.0,  # one drill second after 1301.0: the next batch
    (4, 1): 1302.2,
}
# Watcher 1's second leg (140.226, 36.361) → (140.227, 36.362) crosses the road closed at T+20:00.
SCENARIO = """
title: "【訓練】まとめ処理の試験"
hazard: {kind: earthquake}
area: {districts: [まとめ地区]}
start: "2027-01-15T10:00:00+09:00"
duration: "T+60:00"
roles:
  - role: watcher
    played_by: bots
    bots: {outcomes: {safe: 1.0}}
injects:
  - {at: "T+11:40", kind: announcement, message: {ja: "一"}}
  - at: "T+20:00"
    kind: road_closure
    line: [[140.2265, 36.3605], [140.2265, 36.3625]]
    message: {ja: "通行止め"}
"""


async def _started(sessionmaker, speed: int) -> tuple[uuid.UUID, Any, dict[str, Any], uuid.UUID]:
    """A run started as the staff member, its steps re-timed to PLAN; no job is queued for it."""
    tenant, accounts, ids = await bot_world(sessionmaker, WALKS, hidden=(HIDDEN,))
    staff = accounts["staff"]
    with as_tenant(tenant, staff.user_id, "staff"):
        async with sessionmaker() as db:
            run = await runs.start(db, scenarios.load(SCENARIO), speed=speed)
            by_household = {hid: key for key, hid in ids["households"].items()}
            steps = (
                await db.execute(
                    text("SELECT seq, household_id FROM drill_bot_step WHERE tenant_id = :t AND run_id = :r"),
                    {"t": tenant, "r": run.id},
                )
            ).all()
            assert len(steps) == len(PLAN)
            await db.execute(
                text(
                    "UPDATE drill_bot_step b SET at_s = x.at FROM unnest(CAST(:seqs AS int[]), CAST(:ats AS float8[]))"
                    " AS x(seq, at) WHERE b.tenant_id = :t AND b.run_id = :r AND b.seq = x.seq"
                ),
                {
                    "t": tenant,
                    "r": run.id,
                    "seqs": [s.seq for s in steps],
                    "ats": [PLAN[by_household[s.household_id]] for s in steps],
                },
            )
            await db.commit()
            run_id = run.id
    return tenant, staff, ids, run_id


async def _fire(sessionmaker, tenant, staff, run_id, limit: int | None = None, commit: bool = True):
    with as_tenant(tenant, staff.user_id, "staff"):
        async with sessionmaker() as db:
            fired = await runs.fire_next(db, run_id, limit)
            # The run's own stamp is back after the bots' (each checked under its watcher's).
            stamped = (await db.execute(text("SELECT current_setting('tonari.user_id', true)"))).scalar_one()
            assert stamped == str(staff.user_id)
            if commit:
                await db.commit()
            else:
                await db.rollback()  # the process died before COMMIT
    return fired


async def _steps(sessionmaker, tenant, run_id) -> dict[uuid.UUID, Any]:
    """Each step by household: its plan, its result, and its visit (with the visit's drill time)."""
    with as_tenant(tenant):
        async with sessionmaker() as db:
            rows = (
                await db.execute(
                    text(
                        "SELECT b.household_id, b.at_s, b.user_id, b.result, b.done_at, v.user_id AS visit_user,"
                        "       v.outcome, tonari_drill_sim(b.tenant_id, b.run_id, least(v.device_time, v.server_time))"
                        "         AS visit_sim"
                        " FROM drill_bot_step b JOIN drill_run r ON r.tenant_id = b.tenant_id AND r.id = b.run_id"
                        " LEFT JOIN visit v ON v.tenant_id = b.tenant_id AND v.operation_id = r.operation_id"
                        "   AND v.household_id = b.household_id"
                        " WHERE b.tenant_id = :t AND b.run_id = :r"
                    ),
                    {"t": tenant, "r": run_id},
                )
            ).all()
    return {r.household_id: r for r in rows}


async def _fired_at(sessionmaker, tenant, run_id) -> dict[int, Any]:
    with as_tenant(tenant):
        async with sessionmaker() as db:
            rows = (
                await db.execute(
                    text("SELECT seq, fired_at, sim_s FROM drill_inject_fired WHERE tenant_id = :t AND run_id = :r"),
                    {"t": tenant, "r": run_id},
                )
            ).all()
    return {r.seq: r for r in rows}


async def test_at_maximum_speed_a_batch_spans_one_drill_second_and_never_crosses_an_inject(sessionmaker) -> None:
    tenant, staff, ids, run_id = await _started(sessionmaker, MAX)
    h = ids["households"]
    done = []
    while (fired := await _fire(sessionmaker, tenant, staff, run_id)) is not None:
        done.append((fired.kind, fired.steps))
        assert len(done) < 20
    assert done == [
        ("bot:visit", 3),  # 690.0, 690.4, 690.9: within one drill second of the first
        ("bot:visit", 1),  # 691.5: its second would reach 692.5, but the inject at 700 comes first
        ("announcement", 0),  # T+11:40 = 700 s, before the steps due at the same moment
        ("bot:visit", 2),  # 700.0 × 2
        ("road_closure", 0),  # T+20:00
        ("bot:visit", 2),  # 1301.0, 1301.5
        ("bot:visit", 2),  # 1302.0, 1302.2
    ]
    steps = await _steps(sessionmaker, tenant, run_id)
    fired_at = await _fired_at(sessionmaker, tenant, run_id)
    for key, at in PLAN.items():
        s = steps[h[key]]
        assert s.at_s == at and s.done_at is not None
        if key == HIDDEN:  # consent-bound in a batch as alone: refused, nothing recorded
            assert s.result == "refused:not_in_operation" and s.visit_user is None
            continue
        # Recorded as its own watcher; read on the drill clock within a second of its plan, never before.
        assert s.visit_user == s.user_id
        assert at <= s.visit_sim < at + runs.BATCH_WINDOW_S, (key, at, s.visit_sim)
        # Injects and steps in drill-time order; an inject before the steps due at its moment.
        if at < 700:
            assert s.done_at < fired_at[0].fired_at
        elif at < 1200:
            assert fired_at[0].fired_at < s.done_at < fired_at[1].fired_at
        else:
            assert s.done_at > fired_at[1].fired_at
    assert steps[h[(1, 1)]].result == "blocked" and steps[h[(1, 1)]].outcome == "unknown"
    assert {steps[h[k]].result for k in PLAN if k not in (HIDDEN, (1, 1))} == {"accepted"}
    assert (fired_at[0].sim_s, fired_at[1].sim_s) == (700.0, 1200.0)
    with as_tenant(tenant):
        async with sessionmaker() as db:
            status = (
                await db.execute(
                    text("SELECT status FROM drill_run WHERE tenant_id = :t AND id = :r"), {"t": tenant, "r": run_id}
                )
            ).scalar_one()
    assert status == "finished"


async def test_at_timed_speeds_a_due_inject_goes_before_steps_that_fell_behind_and_a_lost_batch_is_redone_once(
    sessionmaker,
) -> None:
    tenant, staff, ids, run_id = await _started(sessionmaker, 1)
    h = ids["households"]
    # The bots fell behind: the clock reads T+20:50 (1×: a minute of headroom before 1301 s) with
    # both injects and six steps due.
    with as_tenant(tenant):
        async with sessionmaker() as db:
            await db.execute(
                text(
                    "UPDATE drill_run SET sim_anchor_s = 1250, wall_anchor = clock_timestamp()"
                    " WHERE tenant_id = :t AND id = :r"
                ),
                {"t": tenant, "r": run_id},
            )
            await db.commit()
    first = await _fire(sessionmaker, tenant, staff, run_id)
    second = await _fire(sessionmaker, tenant, staff, run_id)
    assert (first.kind, second.kind) == ("announcement", "road_closure")

    lost = await _fire(sessionmaker, tenant, staff, run_id, limit=4, commit=False)
    assert (lost.kind, lost.steps) == ("bot:visit", 4)
    steps = await _steps(sessionmaker, tenant, run_id)
    assert all(s.done_at is None and s.visit_user is None for s in steps.values())  # nothing of it stayed

    redone = [await _fire(sessionmaker, tenant, staff, run_id, limit=4) for _ in range(3)]
    assert [(f.kind, f.steps) if f else None for f in redone] == [("bot:visit", 4), ("bot:visit", 2), None]
    steps = await _steps(sessionmaker, tenant, run_id)
    due = [k for k, at in PLAN.items() if at <= 700]
    assert all(steps[h[k]].done_at is not None for k in due)
    assert all(steps[h[k]].done_at is None for k in PLAN if k not in due)
    # Judged at their own planned time: the road closed at 1200 s was open when watcher 1 got to
    # its first household at 690.4 s, though that step was done after the closure fired.
    assert steps[h[(1, 0)]].result == "accepted"
    assert steps[h[HIDDEN]].result == "refused:not_in_operation"
    with as_tenant(tenant):
        async with sessionmaker() as db:
            visits = (
                await db.execute(
                    text("SELECT count(*), count(DISTINCT client_id) FROM visit WHERE tenant_id = :t"), {"t": tenant}
                )
            ).one()
    assert tuple(visits) == (len(due) - 1, len(due) - 1)  # once each; the hidden household none


async def test_a_failing_batch_is_retried_step_by_step_and_only_the_failing_step_is_marked(
    sessionmaker, monkeypatch: pytest.MonkeyPatch
) -> None:
    tenant, _, ids, run_id = await _started(sessionmaker, MAX)
    bad = ids["households"][(1, 0)]
    visit = bots.visit

    async def failing(db, run, steps, now):
        if any(s.household_id == bad for s in steps):
            raise RuntimeError("a bot's phone broke")
        return await visit(db, run, steps, now)

    monkeypatch.setattr(bots, "visit", failing)
    # A job of an older clock version fires everything due and queues nothing: at maximum speed, all.
    await schedule.advance(sessionmaker, schedule.AdvanceJob(tenant, run_id, -1))
    steps = await _steps(sessionmaker, tenant, run_id)
    results = {k: steps[ids["households"][k]].result for k in PLAN}
    assert results.pop((1, 0)) == "error"
    assert results.pop(HIDDEN) == "refused:not_in_operation" and results.pop((1, 1)) == "blocked"
    assert set(results.values()) == {"accepted"}  # the others of its batch were done, not marked failed
    assert all(s.done_at is not None for s in steps.values())
    assert len(await _fired_at(sessionmaker, tenant, run_id)) == 2


async def test_the_clock_starts_once_the_walks_are_planned(sessionmaker, monkeypatch: pytest.MonkeyPatch) -> None:
    """Planning 100,000 walks takes seconds: a clock anchored before them had the first injects
    due before the start committed (1.8 s late at 60× on the bench)."""
    planned: list[Any] = []
    plan = bots.plan

    async def timed_plan(db, run, scenario):
        n = await plan(db, run, scenario)
        planned.append((await db.execute(text("SELECT clock_timestamp()"))).scalar_one())
        return n

    monkeypatch.setattr(bots, "plan", timed_plan)
    tenant, _, _, run_id = await _started(sessionmaker, 60)
    with as_tenant(tenant):
        async with sessionmaker() as db:
            anchor, first_log = (
                await db.execute(
                    text(
                        "SELECT r.wall_anchor, (SELECT wall FROM drill_clock_log l WHERE l.tenant_id = r.tenant_id"
                        " AND l.run_id = r.id ORDER BY n LIMIT 1) FROM drill_run r WHERE r.tenant_id = :t AND r.id = :r"
                    ),
                    {"t": tenant, "r": run_id},
                )
            ).one()
    assert len(planned) == 1 and anchor >= planned[0] and first_log == anchor
