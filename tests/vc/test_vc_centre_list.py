"""The centres list with each centre's figures of today (#18): what the coordinator's console list
shows for a VC operation instead of 「対象 0件」 (a VC has no target households). Counts only, per
centre, so a drill's figures never add to a real centre's."""

from __future__ import annotations

import pytest

from tests.helpers.vc_world import VcWorld, client_for, need_body, new_vc_world, open_centre, rows, volunteer_body


@pytest.fixture
async def world(sessionmaker) -> VcWorld:
    return await new_vc_world(sessionmaker)


async def test_each_centre_lists_its_open_needs_and_todays_volunteers(
    world: VcWorld, client_factory, sessionmaker
) -> None:
    real = await open_centre(client_factory, world, "real")
    drill = await open_centre(client_factory, world, "drill")
    empty = await open_centre(client_factory, world, "real")
    desk = await client_for(client_factory, world, "vc_desk")

    async def need(op: str, i: int, then: dict | None = None) -> None:
        r = await desk.send_json("POST", f"/api/vc/centres/{op}/needs", need_body(i))
        assert r.status_code == 201, r.text
        if then is not None:
            path = "surveys" if "verdict" in then else "state"
            r = await desk.send_json("POST", f"/api/vc/needs/{r.json()['id']}/{path}", then)
            assert r.status_code in (200, 201), r.text

    # The real centre: received, waiting, surveyed 不要 (closed); an individual and a group of 4 today.
    await need(real, 1)
    await need(real, 2, {"state": "waiting"})
    await need(real, 3, {"verdict": "not_needed", "surveyor": "調査員"})
    for body in (volunteer_body(1), volunteer_body(2, kind="group", group_name="笠間建設", group_size=4)):
        assert (await desk.send_json("POST", f"/api/vc/centres/{real}/volunteers", body)).status_code == 201
    # One registered but not checked in: not here today.
    r = await desk.send_json("POST", f"/api/vc/centres/{real}/volunteers", {**volunteer_body(3), "check_in": False})
    assert r.status_code == 201
    # The drill: two waiting needs and one volunteer; none of it may count for the real centre.
    await need(drill, 4, {"state": "waiting"})
    await need(drill, 5, {"state": "waiting"})
    assert (await desk.send_json("POST", f"/api/vc/centres/{drill}/volunteers", volunteer_body(6))).status_code == 201

    listed = (await desk.get("/api/vc/centres/")).json()
    figures = {c["operation_id"]: c["figures"] for c in listed}
    assert [c["operation_id"] for c in listed] == [empty, drill, real]  # newest first
    # The figures equal counts computed here from the rows.
    expected = {
        str(r.operation_id): (int(r.open), int(r.waiting), int(r.people))
        for r in await rows(
            sessionmaker,
            world,
            """SELECT c.operation_id,
                      (SELECT count(*) FROM vc_need n WHERE n.operation_id = c.operation_id
                        AND n.state NOT IN ('done')) AS open,
                      (SELECT count(*) FROM vc_need n WHERE n.operation_id = c.operation_id
                        AND n.state IN ('waiting', 'continued')) AS waiting,
                      (SELECT coalesce(sum(ci.people), 0) FROM vc_checkin ci
                        WHERE ci.operation_id = c.operation_id) AS people
               FROM vc_centre c""",
        )
    }
    got = {op: (f["open_needs"], f["waiting_needs"], f["volunteers_today"]) for op, f in figures.items()}
    assert got == expected
    assert got[real] == (2, 1, 5) and got[drill] == (2, 2, 1) and got[empty] == (0, 0, 0)
    assert len({f["vc_day"] for f in figures.values()}) == 1

    # A closed centre keeps its figures in the list; the console's other roles cannot read it.
    staff = await client_for(client_factory, world, "staff")
    assert (await staff.send_json("POST", f"/api/vc/centres/{empty}/close", {})).status_code == 200
    closed = next(c for c in (await desk.get("/api/vc/centres/")).json() if c["operation_id"] == empty)
    assert closed["status"] == "closed" and closed["figures"]["open_needs"] == 0
    commissioner = await client_for(client_factory, world, "commissioner")
    assert (await commissioner.get("/api/vc/centres/")).status_code == 403
