"""The volunteer-centre drill: the shipped 1-day VC scenario run as fast as possible with VC bots
opens a drill centre, its injects land as VC rows through the VC's rules, the bots work the day,
and every VC figure of the report equals a count made here from the rows; nothing of it reaches
a real centre. And a drill run's start pushes the operation start, marked 【訓練】."""

from __future__ import annotations

import json
import uuid
from typing import Any

import msgspec
from sqlalchemy import text

from server.drills import effects, runs
from server.drills import scenario as scenarios
from tests.conftest import as_tenant
from tests.helpers.drills import drill_world, wait_for

WITH_VC_INJECT = """title: 安否確認
hazard: {kind: earthquake}
area: {districts: [友部地区]}
start: "2027-01-15T10:00:00+09:00"
duration: "T+60:00"
injects:
  - at: "T+1:00"
    kind: announcement
    message: {ja: "開始"}
  - at: "T+2:00"
    kind: volunteer_walk_in
    count: 3
    uninsured: 4
    message: {ja: "来所"}
"""


def test_vc_injects_belong_to_a_vc_exercise_and_their_counts_add_up() -> None:
    loaded, errors = scenarios.check(WITH_VC_INJECT)
    assert loaded is None
    found = {(e.field, e.code): e.line for e in errors}
    assert found == {("injects[1].kind", "invalid"): 11, ("injects[1].uninsured", "out_of_range"): 13}


async def _one(sessionmaker, tenant: uuid.UUID, sql: str, **p: Any) -> Any:
    with as_tenant(tenant):
        async with sessionmaker() as db:
            return (await db.execute(text(sql), {"t": tenant, **p})).scalar_one()


async def test_the_vc_day_with_bots_completes_and_its_report_matches_the_rows(
    app, client_factory, sessionmaker
) -> None:
    tenant, accounts, _ = await drill_world(sessionmaker, ("staff", "vc_desk"))
    staff = client_factory()
    assert (await staff.login(accounts["staff"].login, accounts["staff"].password)).status_code == 200
    real = await staff.send_json(
        "POST", "/api/vc/centres", {"mode": "real", "name": "実センター", "lon": 140.27, "lat": 36.34}
    )
    assert real.status_code == 201, real.text
    real_op = real.json()["operation_id"]

    started = await staff.send_json("POST", "/api/drills/runs", {"scenario": "kasama-vc-day", "speed": "max"})
    assert started.status_code == 201, started.text
    run = started.json()
    op = run["operation_id"]
    path = f"/api/drills/runs/{run['id']}"

    async def finished():
        body = (await staff.get(path)).json()
        return body if body["status"] == "finished" else None

    done = await wait_for(finished, "the VC day to finish", timeout=180)
    assert done["fired"] == done["injects"] == 8

    centre = next(c for c in (await staff.get("/api/vc/centres")).json() if c["operation_id"] == op)
    assert centre["mode"] == "drill" and centre["label"] == "【訓練】" and centre["status"] == "closed"

    count = lambda sql, **p: _one(sessionmaker, tenant, sql, o=uuid.UUID(op), **p)  # noqa: E731
    report = (await staff.get(f"{path}/report")).json()
    vc = report["vc"]
    # The injects as rows: 15 calls (one a repeat), 52 walk-ins (7 uninsured, one minor).
    needs = await count("SELECT count(*) FROM vc_need WHERE tenant_id = :t AND operation_id = :o")
    assert vc["needs"]["received"] == needs == 15
    repeat = await count(
        "SELECT count(*) FROM (SELECT phone FROM vc_need WHERE tenant_id = :t AND operation_id = :o"
        " GROUP BY phone HAVING count(*) > 1) x"
    )
    assert repeat == 1
    assert vc["needs"]["closed"] == await count(
        "SELECT count(*) FROM vc_need WHERE tenant_id = :t AND operation_id = :o AND state = 'done'"
    )
    assert (
        vc["needs"]["closed_without_team"]
        == await count(
            "SELECT count(*) FROM vc_survey s JOIN vc_need n ON n.tenant_id = s.tenant_id AND n.id = s.need_id"
            " WHERE s.tenant_id = :t AND n.operation_id = :o AND s.verdict = 'not_needed'"
        )
        == 1
    )  # the repeat call, caught by the desk bots' duplicate search
    assert (
        vc["volunteers"]["registered"]
        == await count("SELECT count(*) FROM vc_volunteer WHERE tenant_id = :t AND operation_id = :o")
        == 52
    )
    assert (
        vc["volunteers"]["checked_in_people"]
        == await count("SELECT sum(people) FROM vc_checkin WHERE tenant_id = :t AND operation_id = :o")
        == 52
    )
    assert vc["volunteers"]["minors"] == 1
    assert (
        vc["volunteers"]["enrolled_here"]
        == await count(
            "SELECT count(*) FROM vc_volunteer WHERE tenant_id = :t AND operation_id = :o AND insurance = 'enrolled_here'"
        )
        == 7
    )  # the desk bots enrolled the uninsured on the spot
    teams = await count("SELECT count(*) FROM vc_team WHERE tenant_id = :t AND operation_id = :o")
    assert vc["teams"]["total"] == teams > 0
    assert 0 < vc["teams"]["utilisation"] <= 1
    dispatches = await count("SELECT count(*) FROM vc_dispatch WHERE tenant_id = :t AND operation_id = :o")
    assert vc["dispatches"]["total"] == dispatches > 0
    reports = await count(
        "SELECT count(*) FROM vc_report r JOIN vc_dispatch d ON d.tenant_id = r.tenant_id AND d.id = r.dispatch_id"
        " WHERE r.tenant_id = :t AND d.operation_id = :o"
    )
    assert vc["dispatches"]["reported"] == reports > 0
    assert vc["dispatches"]["done"] + vc["dispatches"]["continued"] == reports
    assert vc["dispatches"]["near_misses"] == await count(
        "SELECT count(*) FROM vc_report r JOIN vc_dispatch d ON d.tenant_id = r.tenant_id AND d.id = r.dispatch_id"
        " WHERE r.tenant_id = :t AND d.operation_id = :o AND r.near_misses IS NOT NULL"
    )
    injured = await count(
        "SELECT coalesce(sum(r.injuries), 0) FROM vc_report r JOIN vc_dispatch d ON d.tenant_id = r.tenant_id"
        " AND d.id = r.dispatch_id WHERE r.tenant_id = :t AND d.operation_id = :o"
    )
    assert vc["dispatches"]["injuries"] == injured == 1  # the injury inject, carried by its team's report
    assert (
        vc["equipment_lost"]
        == await count(
            "SELECT coalesce(sum(m.quantity), 0) FROM vc_equipment_move m JOIN vc_equipment e"
            " ON e.tenant_id = m.tenant_id AND e.id = m.equipment_id WHERE m.tenant_id = :t AND e.operation_id = :o"
            " AND m.kind = 'loss'"
        )
        == 1
    )
    assert vc["need_to_dispatch"]["count"] == await count(
        "SELECT count(DISTINCT need_id) FROM vc_dispatch WHERE tenant_id = :t AND operation_id = :o"
    )
    assert vc["need_to_dispatch"]["median_s"] > 0

    # Nothing failed on the way: no inject's effect and no bot's look at the board errored.
    run_id = uuid.UUID(run["id"])
    assert (
        await count(
            "SELECT count(*) FROM drill_inject_fired WHERE tenant_id = :t AND run_id = :r AND effect ? 'error'",
            r=run_id,
        )
        == 0
    )
    assert (
        await count(
            "SELECT count(*) FROM drill_bot_step WHERE tenant_id = :t AND run_id = :r"
            " AND (result IS NULL OR result = 'error')",
            r=run_id,
        )
        == 0
    )
    # The teams' settings are the volunteers' (150 minutes' work), the desk's pace its own.
    worked = await count(
        "SELECT array_agg(DISTINCT round(tonari_drill_sim(:t, :r, r.server_time)"
        " - tonari_drill_sim(:t, :r, d.dispatched_at))) FROM vc_report r JOIN vc_dispatch d"
        " ON d.tenant_id = r.tenant_id AND d.id = r.dispatch_id WHERE r.tenant_id = :t AND d.operation_id = :o",
        r=run_id,
    )
    assert worked == [150 * 60]

    marks = {e["kind"]: e for e in report["expectations"]}
    insured = marks["vc_no_dispatch_without_insurance"]
    assert insured["passed"] is True and insured["how"] == "automatic"
    assert insured["evidence"] == [{"dispatches": dispatches, "uninsured": 0}]
    within = marks["vc_dispatch_within"]
    assert len(within["evidence"]) == needs - vc["needs"]["closed_without_team"]
    assert within["passed"] == all(e["within"] for e in within["evidence"])
    closed = marks["vc_needs_closed_by"]["evidence"][0]
    assert closed["needs"] == needs and closed["closed_by"] == vc["needs"]["closed"]

    # Nothing of the drill in the real centre: its board, statistics and export are empty.
    for sql in (
        "SELECT count(*) FROM vc_need WHERE tenant_id = :t AND operation_id = :o",
        "SELECT count(*) FROM vc_volunteer WHERE tenant_id = :t AND operation_id = :o",
        "SELECT count(*) FROM vc_dispatch WHERE tenant_id = :t AND operation_id = :o",
    ):
        assert await _one(sessionmaker, tenant, sql, o=uuid.UUID(real_op)) == 0
    board = await staff.get(f"/api/vc/centres/{real_op}/needs")
    assert board.status_code == 200 and board.json() == []
    stats = (await staff.get(f"/api/vc/centres/{real_op}/statistics")).json()
    assert "【訓練】" not in json.dumps(stats, ensure_ascii=False)
    assert all(not d.get("needs_received") and not d.get("volunteers") for d in stats.get("days", []))
    export = await staff.get(f"/api/vc/centres/{real_op}/statistics.csv")
    assert export.status_code == 200 and "訓練" not in export.content.decode("utf-8-sig")
    drill_export = (await staff.get(f"/api/vc/centres/{op}/statistics.csv")).content.decode("utf-8-sig")
    assert drill_export.startswith('"【訓練】"')
    # The desk's injects reach whoever works the VC desk, as drill pushes (【訓練】 by the push rule).
    with as_tenant(tenant):
        async with sessionmaker() as db:
            found = await runs.find(db, uuid.UUID(run["id"]))
            assert found is not None
            assert accounts["vc_desk"].user_id in await effects.audience(db, found, "vc_staff")
    drill_board = (await staff.get(f"/api/vc/centres/{op}/needs")).json()
    assert len(drill_board) == needs and all(n["label"] == "【訓練】" for n in drill_board)
    # Every event of the drill centre is a drill's.
    assert (
        await _one(
            sessionmaker,
            tenant,
            "SELECT count(*) FROM event WHERE tenant_id = :t AND operation_id = :o AND mode <> 'drill'",
            o=uuid.UUID(op),
        )
        == 0
    )

    # Archived, the drill goes with its centre's rows; the real centre stays.
    assert (await staff.send_json("POST", f"{path}/archive")).status_code == 200
    assert (await staff.send_json("DELETE", path)).status_code == 204
    for table in ("vc_need", "vc_volunteer", "vc_dispatch", "vc_team", "vc_checkin", "vc_equipment", "vc_centre"):
        assert await count(f"SELECT count(*) FROM {table} WHERE tenant_id = :t AND operation_id = :o") == 0, table
    assert await count("SELECT count(*) FROM operation WHERE tenant_id = :t AND id = :o") == 0
    assert (
        await _one(
            sessionmaker,
            tenant,
            "SELECT count(*) FROM vc_centre WHERE tenant_id = :t AND operation_id = :o",
            o=uuid.UUID(real_op),
        )
        == 1
    )


EARTHQUAKE = """title: "【訓練】地震の安否確認"
hazard: {kind: earthquake, magnitude: 6.8}
area: {districts: [友部地区]}
start: "2027-01-15T10:00:00+09:00"
duration: "T+60:00"
injects:
  - at: "T+1:00"
    kind: announcement
    message: {ja: "訓練開始"}
"""


async def test_starting_a_drill_pushes_the_operation_start_marked_drill(sessionmaker) -> None:
    """As a real start does (`operations.service.push_started`): a delivery per device of the
    operation's watchers on the durable queue, in the start's transaction, titled 【訓練】."""
    tenant, accounts, _ = await drill_world(sessionmaker, ("staff", "watcher"))
    staff = accounts["staff"]
    with as_tenant(tenant, user_id=staff.user_id, role="staff"):
        async with sessionmaker() as db:
            await db.execute(
                text(
                    "INSERT INTO push_subscription (tenant_id, id, user_id, endpoint, p256dh, auth)"
                    " VALUES (:t, gen_random_uuid(), :u, 'https://push.example.test/drill', :k, :a)"
                ),
                {"t": tenant, "u": accounts["watcher"].user_id, "k": "B" * 87, "a": "A" * 22},
            )
            run = await runs.start(db, scenarios.load(EARTHQUAKE), speed=60)
            deliveries = (
                await db.execute(
                    text(
                        "SELECT d.notification_key, d.kind, d.drill, s.user_id FROM push_delivery d JOIN push_subscription s"
                        " ON s.tenant_id = d.tenant_id AND s.id = d.subscription_id WHERE d.tenant_id = :t"
                    ),
                    {"t": tenant},
                )
            ).all()
            payloads = (
                (
                    await db.execute(
                        text(
                            "SELECT convert_from(payload, 'UTF8') FROM jobs.pgqueuer WHERE entrypoint = 'push.deliver'"
                            " AND convert_from(payload, 'UTF8')::jsonb->>'tenant_id' = :t"
                        ),
                        {"t": str(tenant)},
                    )
                )
                .scalars()
                .all()
            )
            await db.rollback()  # nothing is sent: the rows were only to be looked at
    assert [(d.notification_key, d.kind, d.drill, d.user_id) for d in deliveries] == [
        (f"op-start-{run.operation_id}", "operation.started", True, accounts["watcher"].user_id)
    ]
    [payload] = payloads
    message = json.loads(msgspec.json.decode(payload.encode())["data"])
    assert message["title"].startswith("【訓練】") and "安否確認が始まりました" in message["title"]
