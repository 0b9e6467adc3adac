"""`/api/field`: a watcher's own visits and the escalations they raised — only their own, only
households the disclosure rule lets them see, every read audited.
World: tests/helpers/world.py (watcher assigned to H1 and H2; H2's person gave no consent)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from server.db.base import uuid7
from tests.helpers.db import fetch_rows
from tests.helpers.operations import start_operation, visit_body
from tests.helpers.world import World, new_world, signed_in


@pytest.fixture
async def world(sessionmaker) -> World:
    return await new_world(sessionmaker)


async def test_my_visits_are_mine_newest_first_and_audited(world: World, client_factory, sessionmaker) -> None:
    op = await start_operation(client_factory, world, mode="drill")
    watcher = await signed_in(client_factory, world, "watcher")
    now = datetime.now(UTC)
    older = visit_body(world, "H1", "unknown", at=now - timedelta(hours=2), note="留守でした")
    newer = visit_body(world, "H1", "safe", at=now - timedelta(minutes=5), note="玄関で確認")
    for body in (older, newer):
        assert (await watcher.send_json("POST", f"/api/operations/{op['id']}/visits", body)).status_code == 201
    # Staff records a visit to the same household: not the watcher's, so not in their history.
    staff = await signed_in(client_factory, world, "staff")
    assert (
        await staff.send_json("POST", f"/api/operations/{op['id']}/visits", visit_body(world, "H1", "injured"))
    ).status_code == 201

    r = await watcher.get("/api/field/visits", params={"household_id": str(world.households["H1"])})
    assert r.status_code == 200, r.text
    got = r.json()
    assert [v["client_id"] for v in got] == [newer["client_id"], older["client_id"]]
    assert [v["outcome"] for v in got] == ["safe", "unknown"]
    assert (
        got[0]["note"] == "玄関で確認"
        and got[0]["label"] == "【訓練】"
        and got[0]["operation_name"] == "地震後の安否確認"
    )
    assert got[0]["mode"] == "drill" and got[0]["server_time"]

    audit = await fetch_rows(
        sessionmaker,
        world,
        "SELECT object_ids, details FROM audit_log WHERE action = 'visit.read' "
        "AND actor_user_id = :u ORDER BY id DESC LIMIT 1",
        u=world.accounts["watcher"].user_id,
    )
    assert sorted(audit[0][0]) == sorted(v["id"] for v in got)
    assert audit[0][1]["via"] == "field.my_visits"

    # Other filters and bounds.
    assert (await watcher.get("/api/field/visits", params={"operation_id": str(uuid7())})).json() == []
    assert (await watcher.get("/api/field/visits", params={"limit": 1})).json()[0]["client_id"] == newer["client_id"]
    assert (await watcher.get("/api/field/visits", params={"limit": 0})).status_code == 400
    assert (await watcher.get("/api/field/visits", params={"household_id": "not-a-uuid"})).status_code == 400


async def test_visits_to_a_household_that_left_my_view_are_hidden(world: World, client_factory) -> None:
    watcher = await signed_in(client_factory, world, "watcher")
    staff = await signed_in(client_factory, world, "staff")
    decl = await staff.send_json(
        "POST",
        "/api/disaster-declarations",
        {"reason": "震度6弱", "district_ids": [str(world.districts["D1"])], "confirm": True},
    )
    assert decl.status_code == 201, decl.text
    op = (await staff.send_json("POST", f"/api/disaster-declarations/{decl.json()['id']}/safety-check", {})).json()
    # In the declaration's safety check the watcher may record H2 (assigned to them, not consented).
    assert (
        await watcher.send_json("POST", f"/api/operations/{op['id']}/visits", visit_body(world, "H2", "safe"))
    ).status_code == 201
    assert (
        len((await watcher.get("/api/field/visits", params={"household_id": str(world.households["H2"])})).json()) == 1
    )
    lifted = await staff.send_json("POST", f"/api/disaster-declarations/{decl.json()['id']}/lift", {"reason": "解除"})
    assert lifted.status_code == 200, lifted.text
    # Lifted: the household is out of the watcher's view again, and so is the visit (its note, its time).
    assert (await watcher.get("/api/field/visits", params={"household_id": str(world.households["H2"])})).json() == []
    await staff.send_json("POST", f"/api/operations/{op['id']}/close", {})


async def test_my_escalations_show_their_state_and_the_coordinators_note(
    world: World, client_factory, sessionmaker
) -> None:
    op = await start_operation(client_factory, world)
    watcher = await signed_in(client_factory, world, "watcher")
    assert (await watcher.get("/api/field/escalations")).json() == []
    r = await watcher.send_json(
        "POST", f"/api/operations/{op['id']}/visits", visit_body(world, "H1", "rescue", note="倒れた家具")
    )
    assert r.status_code == 201
    await watcher.send_json(
        "POST", f"/api/operations/{op['id']}/visits", visit_body(world, "H1", "safe")
    )  # raises nothing

    mine = (await watcher.get("/api/field/escalations")).json()
    assert len(mine) == 1
    assert mine[0]["status"] == "open" and mine[0]["outcome"] == "rescue" and mine[0]["level"] == "urgent"
    assert mine[0]["address"] == "茨城県笠間市テスト町H1" and mine[0]["visit_id"] == r.json()["id"]
    assert mine[0]["label"] == "" and mine[0]["operation_name"] == "地震後の安否確認"

    commissioner = await signed_in(client_factory, world, "commissioner")
    assert (
        await commissioner.send_json("POST", f"/api/escalations/{mine[0]['id']}/acknowledge", {"note": "向かいます"})
    ).status_code == 200
    assert (await watcher.get("/api/field/escalations")).json()[0]["status"] == "acknowledged"
    assert (
        await commissioner.send_json("POST", f"/api/escalations/{mine[0]['id']}/resolve", {"note": "救助完了"})
    ).status_code == 200
    done = (await watcher.get("/api/field/escalations", params={"operation_id": op["id"]})).json()
    assert done[0]["status"] == "resolved" and "救助完了" in done[0]["notes"] and done[0]["resolved_at"]

    # Someone else's escalations are not in my list: the commissioner raised none.
    assert (await commissioner.get("/api/field/escalations")).json() == []
    audit = await fetch_rows(
        sessionmaker,
        world,
        "SELECT object_ids FROM audit_log WHERE action = 'escalation.read' AND actor_user_id = :u",
        u=world.accounts["watcher"].user_id,
    )
    assert any(mine[0]["id"] in row[0] for row in audit)


async def test_field_lists_need_a_field_role(world: World, client_factory) -> None:
    volunteer = await signed_in(client_factory, world, "vc_volunteer")
    assert (await volunteer.get("/api/field/visits")).status_code == 403
    assert (await volunteer.get("/api/field/escalations")).status_code == 403
    anonymous = client_factory()
    assert (await anonymous.get("/api/field/visits")).status_code == 401
