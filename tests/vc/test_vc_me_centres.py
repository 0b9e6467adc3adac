"""One volunteer login at several centres (#18, migration 0026): someone who helps at this week's
centre and a later one, or at a drill and a real centre, keeps one login. `GET /api/vc/me` answers
about one centre (open ones first, then the newest, or the one asked for) with that centre's label,
and lists the others each with its own: a drill and a real centre never blur in one answer."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from server.db.base import uuid7
from tests.helpers.vc_world import VcWorld, client_for, need_body, new_vc_world, open_centre, rows, volunteer_body


@pytest.fixture
async def world(sessionmaker) -> VcWorld:
    return await new_vc_world(sessionmaker)


async def test_one_login_leads_in_a_real_and_a_drill_centre(world: VcWorld, client_factory, sessionmaker) -> None:
    desk = await client_for(client_factory, world, "vc_desk")
    staff = await client_for(client_factory, world, "staff")
    user = str(world.accounts["vc_volunteer"].user_id)
    real = await open_centre(client_factory, world, "real", stock={"shovel": 5})
    drill = await open_centre(client_factory, world, "drill")  # opened later: the newest

    # The same login becomes a volunteer at both centres; a second link in one centre is refused.
    ids = {}
    for op in (real, drill):
        r = await desk.send_json("POST", f"/api/vc/centres/{op}/volunteers", volunteer_body(1, user_id=user))
        assert r.status_code == 201, r.text
        ids[op] = r.json()["id"]
    r = await desk.send_json("POST", f"/api/vc/centres/{real}/volunteers", volunteer_body(2, user_id=user))
    assert r.status_code == 409 and r.json()["code"] == "duplicate"

    # They lead a team at the real centre, dispatched to a need.
    team = await desk.send_json(
        "POST", f"/api/vc/centres/{real}/teams", {"name": "1班", "leader_id": ids[real], "member_ids": [ids[real]]}
    )
    need = await desk.send_json("POST", f"/api/vc/centres/{real}/needs", need_body(1))
    await desk.send_json("POST", f"/api/vc/needs/{need.json()['id']}/state", {"state": "waiting"})
    d = await desk.send_json(
        "POST",
        f"/api/vc/centres/{real}/dispatches",
        {"team_id": team.json()["id"], "need_id": need.json()["id"], "equipment": [{"code": "shovel", "quantity": 1}]},
    )
    assert d.status_code == 201, d.text

    phone = await client_for(client_factory, world, "vc_volunteer")
    # Both open: the newest (the drill) is answered, marked 【訓練】, with nothing of the real dispatch.
    me = (await phone.get("/api/vc/me")).json()
    assert (me["operation_id"], me["label"], me["volunteer_id"]) == (drill, "【訓練】", ids[drill])
    assert me["team"] is None and me["dispatch"] is None and me["need"] is None
    assert [(c["operation_id"], c["label"]) for c in me["centres"]] == [(drill, "【訓練】"), (real, "")]
    # The real centre, asked for: its team, dispatch and need (the requester while active), no label.
    me = (await phone.get("/api/vc/me", params={"operation_id": real})).json()
    assert (me["operation_id"], me["label"], me["volunteer_id"]) == (real, "", ids[real])
    assert me["dispatch"]["id"] == d.json()["id"] and me["need"]["address"] == need.json()["address"]
    assert me["dispatch"]["label"] == "" and me["team"]["label"] == ""
    # A centre that is not theirs says so, and shows nothing.
    other = await open_centre(client_factory, world, "real")
    r = await phone.get("/api/vc/me", params={"operation_id": other})
    assert r.status_code == 404 and r.json()["code"] == "vc_not_registered"

    # The leader reports for the real centre's team from the same login.
    report = {
        "client_id": str(uuid7()),
        "outcome": "done",
        "people": 1,
        "hours": 2,
        "device_time": datetime.now(UTC).isoformat(),
        "returns": [{"code": "shovel", "returned": 1}],
    }
    r = await phone.send_json("POST", f"/api/vc/dispatches/{d.json()['id']}/report", report)
    assert r.status_code == 201, r.text

    # The drill closes: the open real centre comes first again, though older.
    assert (await staff.send_json("POST", f"/api/vc/centres/{drill}/close", {})).status_code == 200
    me = (await phone.get("/api/vc/me")).json()
    assert (me["operation_id"], me["label"]) == (real, "")
    assert [(c["operation_id"], c["status"]) for c in me["centres"]] == [(real, "active"), (drill, "closed")]
    assert await rows(sessionmaker, world, "SELECT count(*) FROM vc_volunteer WHERE user_id = :u", u=user) == [(2,)]


async def test_the_database_keeps_one_volunteer_per_login_and_centre(
    world: VcWorld, client_factory, sessionmaker
) -> None:
    from sqlalchemy.exc import IntegrityError

    one, two = await open_centre(client_factory, world), await open_centre(client_factory, world, "drill")
    user = world.accounts["vc_volunteer"].user_id
    insert = """INSERT INTO vc_volunteer (tenant_id, id, operation_id, name, age_band, prefecture, user_id)
                VALUES (:t, :id1, :o1, 'テスト', 'age_30_49', '08', :u), (:t, :id2, :o2, 'テスト', 'age_30_49', '08', :u)
                RETURNING operation_id"""
    with pytest.raises(IntegrityError):  # twice in one centre
        await rows(sessionmaker, world, insert, t=world.tenant_id, id1=uuid7(), id2=uuid7(), o1=one, o2=one, u=user)
    made = await rows(sessionmaker, world, insert, t=world.tenant_id, id1=uuid7(), id2=uuid7(), o1=one, o2=two, u=user)
    assert len(made) == 2  # once in each of two centres
