"""`/api/console`: the live map's figures, history, timeline, escalation queue with assignment,
and the filter ids — each through the disclosure rule. World: tests/helpers/world.py
(H1, H2, H4 in D1, H3 in D2; P2/P4 unconsented; watcher assigned to H1 and H2; the commissioner
scoped to D1)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from server.db.base import uuid7
from server.operations.api_console import buckets, cumulative
from tests.conftest import as_tenant
from tests.helpers.operations import start_operation
from tests.helpers.world import World, new_world, signed_in


@pytest.fixture
async def world(sessionmaker) -> World:
    return await new_world(sessionmaker)


async def _operation(client_factory, world: World, mode: str = "real") -> dict:
    return await start_operation(client_factory, world, mode=mode, coordinators=("coordinator",))


async def _visit(client, op: dict, world: World, household: str, outcome: str):
    r = await client.send_json(
        "POST",
        f"/api/operations/{op['id']}/visits",
        {
            "client_id": str(uuid7()),
            "household_id": str(world.households[household]),
            "outcome": outcome,
            "device_time": datetime.now(UTC).isoformat(),
            **({"shelter_unknown": True} if outcome == "evacuated" else {}),
        },
    )
    assert r.status_code == 201, r.text
    return r.json()


async def _audits(sessionmaker, world: World, via: str) -> list:
    with as_tenant(world.tenant_id):
        async with sessionmaker() as db:
            return (
                await db.execute(
                    text(
                        "SELECT actor_user_id, object_ids FROM audit_log WHERE tenant_id = :t AND details->>'via' = :via"
                    ),
                    {"t": world.tenant_id, "via": via},
                )
            ).all()


def test_cumulative_counts_and_buckets() -> None:
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    times = buckets(t0, t0 + timedelta(hours=1), 4)
    assert len(times) == 5 and times[0] == t0 and times[-1] == t0 + timedelta(hours=1)
    marks = [t0 + timedelta(minutes=m) for m in (50, 1, 15, 15)]
    assert cumulative(times, marks) == [0, 3, 3, 3, 4]  # 15:00 counts at the 15-minute point
    assert cumulative(times, []) == [0, 0, 0, 0, 0]
    assert len(buckets(t0, t0, 500)) == 97  # capped, and a zero span still has an axis


async def test_summary_counts_statuses_per_district_within_disclosure(world: World, client_factory) -> None:
    op = await _operation(client_factory, world)
    watcher = await signed_in(client_factory, world, "watcher")
    await _visit(watcher, op, world, "H1", "safe")
    staff = await signed_in(client_factory, world, "staff")
    await _visit(staff, op, world, "H2", "rescue")  # P2 gave no consent: the watcher cannot see H2, staff can
    s = (await staff.get(f"/api/console/operations/{op['id']}/summary")).json()
    d1 = next(d for d in s["districts"] if d["district_id"] == str(world.districts["D1"]))
    assert d1["name"] == "第一支部" and d1["total"] == 3 and d1["confirmed"] == 2 and d1["need_help"] == 1
    assert d1["statuses"] == {"safe": 1, "rescue": 1, "unreached": 1}
    assert d1["time_to_first_report_s"] is not None and d1["time_to_first_report_s"] >= 0
    assert s["statuses"] == {"safe": 1, "rescue": 1, "unreached": 2}
    assert s["latest_event_id"] > 0 and s["operation"]["id"] == op["id"]

    # The coordinator sees only consented households (H1 and H3), so H2's rescue is not counted.
    coord = await signed_in(client_factory, world, "coordinator")
    c = (await coord.get(f"/api/console/operations/{op['id']}/summary")).json()
    assert c["statuses"] == {"safe": 1, "unreached": 1}
    assert sum(d["total"] for d in c["districts"]) == 2

    # Watchers and VC volunteers do not get the console.
    assert (await watcher.get(f"/api/console/operations/{op['id']}/summary")).status_code == 403


async def test_overdue_households_are_counted_as_overdue(world: World, client_factory, sessionmaker) -> None:
    op = await _operation(client_factory, world)
    with as_tenant(world.tenant_id, role="system"):
        async with sessionmaker() as db, db.begin():
            await db.execute(
                text("UPDATE operation SET started_at = now() - interval '2 days' WHERE id = :o"), {"o": op["id"]}
            )
    staff = await signed_in(client_factory, world, "staff")
    s = (await staff.get(f"/api/console/operations/{op['id']}/summary")).json()
    assert s["statuses"] == {"overdue": 4}
    assert sum(d["overdue"] for d in s["districts"]) == 4 and all(d["confirmed"] == 0 for d in s["districts"])


async def test_households_without_a_report_past_the_first_report_target_are_late(
    world: World, client_factory, sessionmaker
) -> None:
    import mapbox_vector_tile

    from tests.helpers.disclosure import tile_of
    from tests.helpers.world import HOUSEHOLD_SPOTS

    op = await _operation(client_factory, world)  # a safety check: first report within 3 h, all within 24 h
    watcher = await signed_in(client_factory, world, "watcher")
    await _visit(watcher, op, world, "H1", "safe")
    with as_tenant(world.tenant_id, role="system"):
        async with sessionmaker() as db, db.begin():
            await db.execute(
                text("UPDATE operation SET started_at = now() - interval '4 hours' WHERE id = :o"), {"o": op["id"]}
            )
    staff = await signed_in(client_factory, world, "staff")
    s = (await staff.get(f"/api/console/operations/{op['id']}/summary")).json()
    assert s["statuses"] == {"safe": 1, "late": 3}
    d1 = next(d for d in s["districts"] if d["district_id"] == str(world.districts["D1"]))
    assert (d1["late"], d1["overdue"], d1["confirmed"], d1["total"]) == (2, 0, 1, 3)
    assert datetime.fromisoformat(s["late_at"]) == datetime.fromisoformat(s["operation"]["started_at"]) + timedelta(
        minutes=180
    )
    assert datetime.fromisoformat(s["overdue_at"]) > datetime.now(UTC)  # the completion target is still ahead
    progress = (await staff.get(f"/api/operations/{op['id']}/progress")).json()["districts"]
    assert sum(d["late"] for d in progress) == 3 and sum(d["overdue"] for d in progress) == 0

    # On the live map too: the unreached households carry 'late', the reported one its outcome.
    statuses = {}
    for key in ("H1", "H2"):
        x, y = tile_of(*HOUSEHOLD_SPOTS[key], 14)
        tile = await staff.get(f"/api/tiles/households/14/{x}/{y}.mvt", params={"operation_id": op["id"]})
        statuses.update(
            {
                f["properties"]["id"]: f["properties"]["status"]
                for f in mapbox_vector_tile.decode(tile.content)["households"]["features"]
            }
        )
    assert statuses[str(world.households["H2"])] == "late" and statuses[str(world.households["H1"])] == "safe"

    # Past the completion target, 'overdue' takes over.
    with as_tenant(world.tenant_id, role="system"):
        async with sessionmaker() as db, db.begin():
            await db.execute(
                text("UPDATE operation SET started_at = now() - interval '25 hours' WHERE id = :o"), {"o": op["id"]}
            )
    s = (await staff.get(f"/api/console/operations/{op['id']}/summary")).json()
    assert s["statuses"] == {"safe": 1, "overdue": 3}


async def test_history_is_cumulative_per_district(world: World, client_factory) -> None:
    op = await _operation(client_factory, world)
    watcher = await signed_in(client_factory, world, "watcher")
    await _visit(watcher, op, world, "H1", "unknown")  # 不明 is not a confirmation
    await _visit(watcher, op, world, "H1", "safe")
    staff = await signed_in(client_factory, world, "staff")
    await _visit(staff, op, world, "H2", "evacuated")
    h = (await staff.get(f"/api/console/operations/{op['id']}/history?points=6")).json()
    assert len(h["times"]) == 6
    series = h["districts"][str(world.districts["D1"])]
    assert series[-1] == 2 and series == sorted(series) and h["total"][-1] == 2
    assert (await staff.get(f"/api/console/operations/{op['id']}/history?points=1")).status_code == 400


async def test_timeline_newest_first_filtered_and_audited(world: World, client_factory, sessionmaker) -> None:
    op = await _operation(client_factory, world)
    watcher = await signed_in(client_factory, world, "watcher")
    await _visit(watcher, op, world, "H1", "safe")
    await _visit(await signed_in(client_factory, world, "staff"), op, world, "H2", "injured")
    coord = await signed_in(client_factory, world, "coordinator")
    items = (await coord.get(f"/api/console/operations/{op['id']}/timeline")).json()["items"]
    ids = [i["id"] for i in items]
    assert ids == sorted(ids, reverse=True)
    seen = {i["household_id"] for i in items if i["household_id"]}
    assert seen == {str(world.households["H1"])}  # H2 is not visible to the coordinator
    assert any(i["kind"] == "operation.started" for i in items)
    assert any(i["kind"] == "target.status" and i["status"] == "safe" for i in items)
    page = (await coord.get(f"/api/console/operations/{op['id']}/timeline?limit=1&before={ids[0]}")).json()
    assert [i["id"] for i in page["items"]] == [ids[1]] and page["next_before"] == ids[1]
    rows = await _audits(sessionmaker, world, "console.timeline")
    assert any(
        r.actor_user_id == world.accounts["coordinator"].user_id and str(world.households["H1"]) in r.object_ids
        for r in rows
    )


async def test_escalation_queue_assign_then_act(world: World, client_factory, sessionmaker) -> None:
    op = await _operation(client_factory, world)
    watcher = await signed_in(client_factory, world, "watcher")
    await _visit(watcher, op, world, "H1", "rescue")
    coord = await signed_in(client_factory, world, "coordinator")
    queue = (await coord.get(f"/api/console/operations/{op['id']}/escalations")).json()
    assert len(queue) == 1 and queue[0]["status"] == "open" and queue[0]["assigned_to"] is None
    esc = queue[0]

    people = (await coord.get("/api/console/assignees")).json()
    assert {p["role"] for p in people} <= {"admin", "staff", "coordinator", "commissioner"}
    staff_id = str(world.accounts["staff"].user_id)
    assert staff_id in [p["id"] for p in people]
    assert str(world.accounts["watcher"].user_id) not in [p["id"] for p in people]

    # A watcher cannot be assigned; nothing is written.
    bad = await coord.send_json(
        "POST", f"/api/console/escalations/{esc['id']}/assign", {"user_id": str(world.accounts["watcher"].user_id)}
    )
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "user_id"
    unknown = await coord.send_json("POST", f"/api/console/escalations/{uuid.uuid4()}/assign", {"user_id": staff_id})
    assert unknown.status_code == 404

    first = await coord.send_json("POST", f"/api/console/escalations/{esc['id']}/assign", {"user_id": staff_id})
    assert first.status_code == 200 and first.json()["assigned_to"] == staff_id
    # Reassigning: the latest assignment wins.
    comm_id = str(world.accounts["commissioner"].user_id)
    r = await coord.send_json(
        "POST", f"/api/console/escalations/{esc['id']}/assign", {"user_id": comm_id, "note": "向かいます"}
    )
    assert r.status_code == 200, r.text
    assert r.json()["assigned_to"] == comm_id and "向かいます" in r.json()["notes"]
    queue = (await coord.get(f"/api/console/operations/{op['id']}/escalations")).json()
    assert queue[0]["assigned_to"] == comm_id and queue[0]["assigned_to_name"] == "テスト commissioner"

    # The assignee can act on it; the assignment is on the timeline and in the audit log.
    comm = await signed_in(client_factory, world, "commissioner")
    ack = await comm.send_json("POST", f"/api/escalations/{esc['id']}/acknowledge", {})
    assert ack.status_code == 200 and ack.json()["status"] == "acknowledged"
    res = await coord.send_json("POST", f"/api/escalations/{esc['id']}/resolve", {"note": "救助済み"})
    assert res.status_code == 200 and res.json()["status"] == "resolved"
    again = await coord.send_json("POST", f"/api/console/escalations/{esc['id']}/assign", {"user_id": staff_id})
    assert again.status_code == 409
    kinds = [i["kind"] for i in (await coord.get(f"/api/console/operations/{op['id']}/timeline")).json()["items"]]
    assert "escalation.assigned" in kinds and "escalation.resolved" in kinds
    with as_tenant(world.tenant_id):
        async with sessionmaker() as db:
            actions = [
                r[0]
                for r in await db.execute(
                    text("SELECT action FROM audit_log WHERE tenant_id = :t AND :e = ANY(object_ids)"),
                    {"t": world.tenant_id, "e": esc["id"]},
                )
            ]
    assert "escalation.assigned" in actions

    # Status filter, and a bad one.
    assert (await coord.get(f"/api/console/operations/{op['id']}/escalations?status=open")).json() == []
    assert (await coord.get(f"/api/console/operations/{op['id']}/escalations?status=nope")).status_code == 400


async def test_escalations_of_hidden_households_stay_hidden(world: World, client_factory) -> None:
    op = await _operation(client_factory, world)
    staff = await signed_in(client_factory, world, "staff")
    await _visit(staff, op, world, "H2", "rescue")  # P2 gave no consent
    coord = await signed_in(client_factory, world, "coordinator")
    assert (await coord.get(f"/api/console/operations/{op['id']}/escalations")).json() == []
    assert len((await staff.get(f"/api/console/operations/{op['id']}/escalations")).json()) == 1


async def test_filter_ids_respect_need_to_know(world: World, client_factory, sessionmaker) -> None:
    op = await _operation(client_factory, world)
    url = f"/api/console/operations/{op['id']}/households"
    staff = await signed_in(client_factory, world, "staff")
    everyone = {str(world.households[k]) for k in ("H1", "H2", "H3", "H4")}
    assert set((await staff.get(url + "?support_reason=care_level_3_5")).json()["household_ids"]) == everyone
    assert (await staff.get(url + "?support_reason=elderly_alone")).json()["household_ids"] == []
    # Support reasons are need-to-know: a coordinator outside a disaster gets no matches …
    coord = await signed_in(client_factory, world, "coordinator")
    assert (await coord.get(url + "?support_reason=care_level_3_5")).json()["household_ids"] == []
    # … the district's 民生委員 does, within what they may see.
    comm = await signed_in(client_factory, world, "commissioner")
    got = set((await comm.get(url + "?support_reason=care_level_3_5")).json()["household_ids"])
    visible = {h["id"] for h in (await comm.get("/api/households?limit=500")).json()["items"]}
    assert got == visible and str(world.households["H1"]) in got and str(world.households["H3"]) not in got
    bad = await staff.get(url + "?support_reason=nope&hazard_kind=lava")
    assert bad.status_code == 400 and {e["field"] for e in bad.json()["errors"]} == {"support_reason", "hazard_kind"}
    assert (await staff.get(url + "?hazard_kind=flood")).json()["household_ids"] == []
    rows = await _audits(sessionmaker, world, "console.filter")
    assert any(r.actor_user_id == world.accounts["staff"].user_id and len(r.object_ids) == 4 for r in rows)
