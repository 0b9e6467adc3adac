"""Drill vs real: nothing of a drill reaches real figures, exports or pushes unmarked; a drill's
data goes with it once its report is archived, and real visits stay append-only."""

from __future__ import annotations

import json
import uuid

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from server.drills import schedule as drill_schedule
from server.push.queue import Notification, enqueue_push
from tests.conftest import as_tenant
from tests.helpers.drills import EFFECTS, fired_rows, wait_for
from tests.helpers.world import new_world, signed_in


async def _run_first_inject(staff, sessionmaker, world) -> dict:
    run = (await staff.send_json("POST", "/api/drills/runs", {"yaml": EFFECTS, "speed": "1x"})).json()
    assert (await staff.send_json("POST", f"/api/drills/runs/{run['id']}/clock", {"action": "skip"})).status_code == 200

    async def fired():
        return await fired_rows(sessionmaker, world, run["id"]) or None

    await wait_for(fired, "the household report inject")
    return run


async def test_nothing_of_a_drill_reaches_real_figures_exports_or_pushes_unmarked(
    app, client_factory, sessionmaker, monkeypatch
) -> None:
    sent: list[Notification] = []

    async def spy(db, *, tenant_id, notifications):  # every push a firing inject writes, then written
        sent.extend(notifications)
        return await enqueue_push(db, tenant_id=tenant_id, notifications=notifications)

    monkeypatch.setattr(drill_schedule, "enqueue_push", spy)
    world = await new_world(sessionmaker)
    staff = await signed_in(client_factory, world, "staff")
    run = await _run_first_inject(staff, sessionmaker, world)

    real_ops = (await staff.get("/api/operations", params={"mode": "real"})).json()
    assert run["operation_id"] not in {o["id"] for o in real_ops}
    real_csv = (await staff.get("/api/exports/visits.csv")).content.decode("utf-8-sig").strip().splitlines()
    assert len(real_csv) == 1  # the header only: the drill's visit is not a real one
    drill_csv = (await staff.get("/api/exports/visits.csv", params={"mode": "drill"})).content.decode("utf-8-sig")
    rows = drill_csv.strip().splitlines()[1:]
    assert rows and all(r.startswith('"【訓練】') for r in rows)

    # Every push of the drill is a drill push, and says 【訓練】 on the lock screen.
    assert sent, "the inject addressed the coordinators: a push was queued"
    for note in sent:
        assert note.drill is True
        assert json.loads(note.message.encode(drill=note.drill))["title"].startswith("【訓練】")
    # Every line of the live feed about the drill is a drill line.
    with as_tenant(world.tenant_id):
        async with sessionmaker() as db:
            modes = set(
                (
                    await db.execute(
                        text(
                            "SELECT DISTINCT coalesce(mode, '-') FROM event WHERE tenant_id = :t"
                            " AND (operation_id = :op OR payload->>'run_id' = :r)"
                        ),
                        {"t": world.tenant_id, "op": uuid.UUID(run["operation_id"]), "r": run["id"]},
                    )
                ).scalars()
            )
    assert modes == {"drill"}
    report = (await staff.get(f"/api/drills/runs/{run['id']}/report")).json()
    assert report["label"] == "【訓練】" and report["title"].startswith("【訓練】")


async def test_an_archived_drill_is_deleted_with_all_its_data(app, client_factory, sessionmaker) -> None:
    world = await new_world(sessionmaker)
    staff = await signed_in(client_factory, world, "staff")
    run = await _run_first_inject(staff, sessionmaker, world)
    path = f"/api/drills/runs/{run['id']}"
    assert (await staff.send_json("DELETE", path)).json()["code"] == "drill_report_not_archived"
    assert (await staff.send_json("POST", f"{path}/archive")).status_code == 409  # still running
    assert (await staff.send_json("POST", f"{path}/clock", {"action": "stop"})).status_code == 200
    archived = await staff.send_json("POST", f"{path}/archive")
    assert archived.status_code == 200 and archived.json()["archived_at"]
    kept = (await staff.get(f"{path}/report")).json()
    assert kept["totals"]["visits"] == 1

    assert (await staff.send_json("DELETE", path)).status_code == 204
    p = {"t": world.tenant_id, "op": uuid.UUID(run["operation_id"]), "r": uuid.UUID(run["id"]), "rs": run["id"]}
    with as_tenant(world.tenant_id):
        async with sessionmaker() as db:
            left = (
                await db.execute(
                    text(
                        "SELECT (SELECT count(*) FROM visit WHERE tenant_id = :t AND operation_id = :op),"
                        " (SELECT count(*) FROM escalation WHERE tenant_id = :t AND operation_id = :op),"
                        " (SELECT count(*) FROM operation_target WHERE tenant_id = :t AND operation_id = :op),"
                        " (SELECT count(*) FROM operation WHERE tenant_id = :t AND id = :op),"
                        " (SELECT count(*) FROM drill_run WHERE tenant_id = :t AND id = :r),"
                        " (SELECT count(*) FROM drill_inject_fired WHERE tenant_id = :t AND run_id = :r),"
                        " (SELECT count(*) FROM event WHERE tenant_id = :t AND (operation_id = :op OR payload->>'run_id' = :rs))"
                    ),
                    p,
                )
            ).one()
            trail = set(
                (
                    await db.execute(
                        text("SELECT action FROM audit_log WHERE tenant_id = :t AND :r = ANY(object_ids)"),
                        {"t": world.tenant_id, "r": run["id"]},
                    )
                ).scalars()
            )
    assert tuple(left) == (0, 0, 0, 0, 0, 0, 0)
    assert {"drill.start", "drill.archive", "drill.delete"} <= trail  # the audit log keeps the trail
    assert (await staff.get(path)).status_code == 404


async def test_real_visits_stay_append_only_even_when_named_for_deletion(app, client_factory, sessionmaker) -> None:
    world = await new_world(sessionmaker)
    staff = await signed_in(client_factory, world, "staff")
    op = (
        await staff.send_json(
            "POST",
            "/api/operations",
            {
                "kind": "safety_check",
                "mode": "real",
                "name": "実活動",
                "district_ids": [str(world.districts["D1"])],
                "start": True,
            },
        )
    ).json()
    visit = await staff.send_json(
        "POST",
        f"/api/operations/{op['id']}/visits",
        {
            "client_id": str(uuid.uuid4()),
            "household_id": str(world.households["H1"]),
            "outcome": "safe",
            "device_time": "2026-12-01T10:00:00+09:00",
        },
    )
    assert visit.status_code == 201, visit.text
    with as_tenant(world.tenant_id):
        async with sessionmaker() as db:
            await db.execute(text("SELECT set_config('tonari.delete_drill_operation', :op, true)"), {"op": op["id"]})
            with pytest.raises(DBAPIError, match="append-only"):
                await db.execute(
                    text("DELETE FROM visit WHERE tenant_id = :t AND operation_id = :op"),
                    {"t": world.tenant_id, "op": uuid.UUID(op["id"])},
                )
            await db.rollback()
