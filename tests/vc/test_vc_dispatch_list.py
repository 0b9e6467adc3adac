"""The desk's list of a day's dispatches (#18): after a reload the desk still finds the teams out, what each
still has of the equipment, and reported ones after the active ones; the list is the desk's, not a volunteer's."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from server.db.base import uuid7
from tests.helpers.vc_world import VcWorld, client_for, need_body, new_vc_world, open_centre, volunteer_body


@pytest.fixture
async def world(sessionmaker) -> VcWorld:
    return await new_vc_world(sessionmaker)


async def test_the_days_dispatches_with_what_is_still_out(world: VcWorld, client_factory) -> None:
    op = await open_centre(client_factory, world, stock={"shovel": 5, "sandbags": 100})
    desk = await client_for(client_factory, world, "vc_desk")
    base = f"/api/vc/centres/{op}"
    dispatched = []
    for i in range(2):
        members = []
        for j in range(2):
            r = await desk.send_json("POST", f"{base}/volunteers", volunteer_body(10 * i + j))
            assert r.status_code == 201, r.text
            members.append(r.json()["id"])
        team = await desk.send_json(
            "POST", f"{base}/teams", {"name": f"{i + 1}班", "leader_id": members[0], "member_ids": members}
        )
        need = (await desk.send_json("POST", f"{base}/needs", need_body(i))).json()
        await desk.send_json("POST", f"/api/vc/needs/{need['id']}/state", {"state": "waiting"})
        r = await desk.send_json(
            "POST",
            f"{base}/dispatches",
            {
                "team_id": team.json()["id"],
                "need_id": need["id"],
                "equipment": [{"code": "shovel", "quantity": 2}, {"code": "sandbags", "quantity": 10}],
            },
        )
        assert r.status_code == 201, r.text
        dispatched.append(r.json())
    first, second = dispatched

    # One shovel back from the first team; the second team reports and returns everything.
    r = await desk.send_json(
        "POST", f"/api/vc/dispatches/{first['id']}/returns", {"items": [{"code": "shovel", "returned": 1}]}
    )
    assert r.status_code == 200, r.text
    r = await desk.send_json(
        "POST",
        f"/api/vc/dispatches/{second['id']}/report",
        {
            "client_id": str(uuid7()),
            "outcome": "done",
            "people": 2,
            "hours": 2,
            "device_time": datetime.now(UTC).isoformat(),
            "returns": [{"code": c, "returned": n} for c, n in second["equipment"].items()],
        },
    )
    assert r.status_code == 201, r.text

    r = await desk.get(f"{base}/dispatches")
    assert r.status_code == 200, r.text
    listed = r.json()
    assert [(d["id"], d["state"], d["equipment"]) for d in listed] == [
        (first["id"], "active", {"sandbags": 10, "shovel": 1}),
        (second["id"], "reported", {}),
    ]
    assert all(d["label"] == "" for d in listed)
    # Another day has none; a volunteer's login may not read the desk's list.
    assert (await desk.get(f"{base}/dispatches", params={"vc_day": "2020-01-01"})).json() == []
    phone = await client_for(client_factory, world, "vc_volunteer")
    assert (await phone.get(f"{base}/dispatches")).status_code == 403
