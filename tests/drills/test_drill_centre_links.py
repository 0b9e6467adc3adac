"""From a drill run to its drill centre and back: a VC run names its centre (the operation and the day
it opened, for the desk, the console map and the daily sheet), and the run of a centre is found by
`?operation_id=` — for the roles that may read drill runs; a lent desk helper may not."""

from __future__ import annotations

from datetime import date

from tests.helpers.drills import SAFETY_CHECK_NO_CENTRE as SAFETY_CHECK
from tests.helpers.drills import SMALL_VC_DAY, drill_world, wait_for


async def test_a_vc_run_names_its_centre_and_the_centre_finds_its_run(app, client_factory, sessionmaker) -> None:
    _, accounts, _ = await drill_world(sessionmaker, ("staff", "coordinator", "vc_desk"))
    staff = client_factory()
    assert (await staff.login(accounts["staff"].login, accounts["staff"].password)).status_code == 200
    started = await staff.send_json("POST", "/api/drills/runs", {"yaml": SMALL_VC_DAY, "speed": "max"})
    assert started.status_code == 201, started.text
    run = started.json()
    safety = (await staff.send_json("POST", "/api/drills/runs", {"yaml": SAFETY_CHECK, "speed": "max"})).json()

    async def finished():
        body = (await staff.get(f"/api/drills/runs/{run['id']}")).json()
        return body if body["status"] == "finished" else None

    done = await wait_for(finished, "the VC run to finish", timeout=120)
    centres = {c["operation_id"]: c for c in (await staff.get("/api/vc/centres/")).json()}
    centre = centres[run["operation_id"]]
    assert centre["label"] == "【訓練】"
    assert done["exercise"] == "vc"
    assert done["centre"] == {"operation_id": run["operation_id"], "opened_on": centre["opened_on"]}
    date.fromisoformat(done["centre"]["opened_on"])  # the daily sheet's day
    # A safety check opens no centre, and says so.
    other = (await staff.get(f"/api/drills/runs/{safety['id']}")).json()
    assert other["exercise"] == "safety_check" and other["centre"] is None

    # The centre's screens find their run by its operation; nothing else comes with it.
    coordinator = client_factory()
    assert (await coordinator.login(accounts["coordinator"].login, accounts["coordinator"].password)).status_code == 200
    found = await coordinator.get("/api/drills/runs/", params={"operation_id": run["operation_id"]})
    assert found.status_code == 200, found.text
    assert [r["id"] for r in found.json()] == [run["id"]]
    assert (await staff.get("/api/drills/runs/", params={"operation_id": safety["operation_id"]})).json()[0][
        "id"
    ] == safety["id"]
    none = await staff.get("/api/drills/runs/", params={"operation_id": "00000000-0000-4000-8000-000000000000"})
    assert none.status_code == 200 and none.json() == []
    assert {r["id"] for r in (await staff.get("/api/drills/runs/")).json()} >= {run["id"], safety["id"]}
    bad = await staff.get("/api/drills/runs/", params={"operation_id": "not-a-uuid"})
    assert bad.status_code == 400
    assert bad.headers["content-type"].startswith("application/problem+json")

    # A lent desk helper works the centre but does not read drill runs (no back-link for them).
    helper = client_factory()
    assert (await helper.login(accounts["vc_desk"].login, accounts["vc_desk"].password)).status_code == 200
    assert (await helper.get(f"/api/vc/centres/{run['operation_id']}/needs")).status_code == 200
    assert (await helper.get("/api/drills/runs/", params={"operation_id": run["operation_id"]})).status_code == 403
