"""Drill runs: a scenario starts a drill operation; the clock runs, pauses, resumes, skips and
stops; injects fire once each, in order, within a second of their due time, and land as data."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import text

from tests.conftest import as_tenant
from tests.helpers.drills import EFFECTS, fired_rows, no_job_due, wait_for
from tests.helpers.world import new_world, signed_in

TIMED = """
title: "【訓練】時計の試験"
hazard: {kind: earthquake, magnitude: 6.8}
area: {districts: [第一支部, 第二支部]}
start: "2027-01-15T10:00:00+09:00"
duration: "T+4:00"
injects:
  - {at: "T+0:00", kind: announcement, message: {ja: "開始"}}
  - {at: "T+1:00", kind: announcement, message: {ja: "一"}}
  - {at: "T+2:00", kind: announcement, message: {ja: "二"}}
  - {at: "T+3:00", kind: announcement, message: {ja: "三"}}
  - {at: "T+3:00", kind: announcement, message: {ja: "三の二"}}
"""


async def test_injects_fire_in_order_within_a_second_under_pause_and_resume(app, client_factory, sessionmaker) -> None:
    world = await new_world(sessionmaker)
    staff = await signed_in(client_factory, world, "staff")
    started = await staff.send_json("POST", "/api/drills/runs", {"yaml": TIMED, "speed": "60x"})
    assert started.status_code == 201, started.text
    run = started.json()
    assert run["label"] == "【訓練】" and run["injects"] == 5 and run["operation_id"]

    async def fired(n: int):
        rows = await fired_rows(sessionmaker, world, run["id"])
        return rows if len(rows) >= n else None

    await fired(2) or await wait_for(lambda: fired(2), "two injects")
    paused = await staff.send_json("POST", f"/api/drills/runs/{run['id']}/clock", {"action": "pause"})
    assert paused.status_code == 200 and paused.json()["status"] == "paused"
    paused_at = paused.json()["clock_s"]
    assert 60 <= paused_at < 120
    # Paused: the clock stands still (read twice, across a ticker poll) and nothing more fires.
    await wait_for(lambda: no_job_due(sessionmaker, run["id"]), "the pause's job to be done")
    again = (await staff.get(f"/api/drills/runs/{run['id']}")).json()
    assert again["clock_s"] == paused_at and again["fired"] == 2

    resumed = await staff.send_json("POST", f"/api/drills/runs/{run['id']}/clock", {"action": "resume"})
    assert resumed.json()["status"] == "running"
    resumed_wall = datetime.now(UTC)
    rows = await wait_for(lambda: fired(5), "all five injects")
    assert [r.seq for r in rows] == [0, 1, 2, 3, 4]  # in order, once each
    for r in rows:
        assert timedelta(0) <= r.fired_at - r.due_at < timedelta(seconds=1), (r.seq, r.fired_at - r.due_at)
        assert r.sim_s >= r.at_s
    # The first after the pause was due (120 s − paused) / 60 after the resume, not before.
    expected = resumed_wall + timedelta(seconds=(120 - paused_at) / 60)
    assert abs((rows[2].fired_at - expected).total_seconds()) < 1.0
    done = await wait_for(lambda: _status(staff, run["id"], "finished"), "the run to finish")
    assert done["fired"] == 5 and done["ended_at"]
    op = (await staff.get(f"/api/operations/{run['operation_id']}")).json()
    assert op["mode"] == "drill" and op["status"] == "closed" and op["label"] == "【訓練】"


async def _status(client, run_id: str, status: str) -> dict[str, Any] | None:
    body: dict[str, Any] = (await client.get(f"/api/drills/runs/{run_id}")).json()
    return body if body["status"] == status else None


async def test_skipping_fires_each_inject_and_its_effect_lands_as_drill_data(app, client_factory, sessionmaker) -> None:
    world = await new_world(sessionmaker)
    staff = await signed_in(client_factory, world, "staff")
    run = (await staff.send_json("POST", "/api/drills/runs", {"yaml": EFFECTS, "speed": "1x"})).json()
    clock = f"/api/drills/runs/{run['id']}/clock"

    async def skip_and_wait(n: int) -> list[Any]:
        resp = await staff.send_json("POST", clock, {"action": "skip"})
        assert resp.status_code == 200, resp.text

        async def fired() -> list[Any] | None:
            rows = await fired_rows(sessionmaker, world, run["id"])
            return rows if len(rows) >= n else None

        return await wait_for(fired, f"inject {n}")

    rows = await skip_and_wait(1)
    # 要救助 from a household of 第二支部 (only H3 lives there): a drill visit and an escalation.
    effect = rows[0].effect
    assert len(effect["visits"]) == 1 and len(effect["escalations"]) == 1, effect
    with as_tenant(world.tenant_id):
        async with sessionmaker() as db:
            visit = (
                await db.execute(
                    text("SELECT household_id, outcome, mode, note FROM visit WHERE tenant_id = :t AND id = :v"),
                    {"t": world.tenant_id, "v": uuid.UUID(effect["visits"][0])},
                )
            ).one()
            esc = (
                await db.execute(
                    text("SELECT mode, outcome, operation_id FROM escalation WHERE tenant_id = :t AND id = :e"),
                    {"t": world.tenant_id, "e": uuid.UUID(effect["escalations"][0])},
                )
            ).one()
            event = (
                await db.execute(
                    text(
                        "SELECT mode, payload FROM event WHERE tenant_id = :t AND kind = 'drill.inject'"
                        " AND payload->>'run_id' = :r ORDER BY id LIMIT 1"
                    ),
                    {"t": world.tenant_id, "r": run["id"]},
                )
            ).one()
    assert (visit.household_id, visit.outcome, visit.mode) == (world.households["H3"], "rescue", "drill")
    assert visit.note.startswith("【訓練】")
    assert (esc.mode, esc.outcome, str(esc.operation_id)) == ("drill", "rescue", run["operation_id"])
    assert event.mode == "drill" and event.payload["title"].startswith("【訓練】")
    assert event.payload["message"]["en"].startswith("[DRILL]")

    await skip_and_wait(2)
    await skip_and_wait(3)
    cond = (await staff.get(f"/api/drills/runs/{run['id']}/conditions")).json()
    assert cond["drill"] is True and cond["field_offline"] is True
    assert cond["offline_district_ids"] == [str(world.districts["D1"])]
    road = [f for f in cond["features"] if f["properties"]["kind"] == "road_closure"]
    assert road and road[0]["geometry"]["type"] == "LineString"
    assert road[0]["geometry"]["coordinates"] == [[140.21, 36.36], [140.24, 36.39]]

    await skip_and_wait(4)
    cond = (await staff.get(f"/api/drills/runs/{run['id']}/conditions")).json()
    # At T+40:00 the power cut (T+30:00 for 20 minutes) still holds; the district is cut off.
    kinds = sorted(f["properties"]["kind"] for f in cond["features"])
    assert kinds == ["district_unreachable", "power_cut", "road_closure"]
    # Skipping past the end: the power cut is over; the run finishes and its operation closes.
    assert (await staff.send_json("POST", clock, {"action": "skip"})).status_code == 200
    done = await wait_for(lambda: _status(staff, run["id"], "finished"), "the run to finish")
    assert done["clock"] == "T+120:00"
    cond = (await staff.get(f"/api/drills/runs/{run['id']}/conditions")).json()
    assert cond["field_offline"] is False
    assert (await staff.send_json("POST", clock, {"action": "resume"})).json()["code"] == "drill_not_running"


async def test_stop_closes_the_drill_operation_and_no_more_injects_fire(app, client_factory, sessionmaker) -> None:
    world = await new_world(sessionmaker)
    staff = await signed_in(client_factory, world, "staff")
    run = (await staff.send_json("POST", "/api/drills/runs", {"yaml": EFFECTS, "speed": "1x"})).json()
    stopped = await staff.send_json("POST", f"/api/drills/runs/{run['id']}/clock", {"action": "stop"})
    assert stopped.status_code == 200 and stopped.json()["status"] == "stopped"
    op = (await staff.get(f"/api/operations/{run['operation_id']}")).json()
    assert op["status"] == "closed"
    assert (await staff.send_json("POST", f"/api/drills/runs/{run['id']}/clock", {"action": "skip"})).status_code == 409
    assert await fired_rows(sessionmaker, world, run["id"]) == []


async def test_a_scenario_naming_unknown_places_never_starts(client_factory, sessionmaker) -> None:
    world = await new_world(sessionmaker)
    staff = await signed_in(client_factory, world, "staff")
    bad = EFFECTS.replace("district: 第二支部\n    outcome", "district: 第九支部\n    outcome")
    resp = await staff.send_json("POST", "/api/drills/runs", {"yaml": bad})
    assert resp.status_code == 422, resp.text
    [error] = resp.json()["errors"]
    assert error["field"] == "injects[0].district" and error["code"] == "unknown_reference"
    assert error["line"] == next(i + 1 for i, line in enumerate(bad.splitlines()) if "第九支部" in line)
    broken = await staff.send_json("POST", "/api/drills/runs", {"yaml": TIMED.replace('"T+2:00"', '"T+2:75"')})
    assert broken.status_code == 422 and broken.json()["errors"][0]["field"] == "injects[2].at"
    with as_tenant(world.tenant_id):
        async with sessionmaker() as db:
            counts = (
                await db.execute(
                    text(
                        "SELECT (SELECT count(*) FROM drill_run WHERE tenant_id = :t),"
                        " (SELECT count(*) FROM operation WHERE tenant_id = :t)"
                    ),
                    {"t": world.tenant_id},
                )
            ).one()
    assert tuple(counts) == (0, 0)  # nothing half-written
    watcher = await signed_in(client_factory, world, "watcher")
    assert (
        await watcher.send_json("POST", "/api/drills/runs", {"scenario": "kasama-earthquake-m68"})
    ).status_code == 403


async def test_the_shipped_scenarios_start_on_the_kasama_demo_registry(
    app, client_factory, sessionmaker, make_tenant
) -> None:
    """Every district and shelter the shipped scenarios name exists in the demo's registry."""
    from seed.registry import load_kasama_registry

    tenant = await make_tenant(("staff",))
    with as_tenant(tenant.id, role="system"):
        async with sessionmaker() as db, db.begin():
            await load_kasama_registry(db, tenant.id)
    staff = client_factory()
    acct = tenant.accounts["staff"]
    assert (await staff.login(acct.login, acct.password)).status_code == 200
    for name in ("kasama-earthquake-m68", "kasama-hinuma-flood", "kasama-vc-day"):
        started = await staff.send_json("POST", "/api/drills/runs", {"scenario": name, "speed": "1x"})
        assert started.status_code == 201, (name, started.text)
        run = started.json()
        assert run["operation_id"] is not None  # the VC day's is its drill volunteer centre
        stopped = await staff.send_json("POST", f"/api/drills/runs/{run['id']}/clock", {"action": "stop"})
        assert stopped.json()["status"] == "stopped"
    quake = (await staff.get("/api/drills/runs")).json()[-1]
    op = (await staff.get(f"/api/operations/{quake['operation_id']}")).json()
    assert op["targets"] > 1000  # the whole demo registry (~2,500 households)
