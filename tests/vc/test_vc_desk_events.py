"""A `vc_desk` helper (応援職員) on the live feed (#18, decision 0025): they may open `/api/events`
and receive the volunteer centres' events of their council (needs, teams, check-ins, centres), and
never a registry, household, visit, operation or addressed event: over the real stream, both ways."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from server.events.emit import emit
from tests.conftest import as_tenant
from tests.helpers.sse import read_events
from tests.helpers.vc_world import VcWorld, client_for, need_body, new_vc_world, open_centre, volunteer_body


@pytest.fixture
async def world(sessionmaker) -> VcWorld:
    return await new_vc_world(sessionmaker)


async def _registry_events(sessionmaker, world: VcWorld, safety_op: str, vc_op: str) -> None:
    """What the council's stream also carries, written as the app writes it (server/events/emit.py):
    a household edit, a visit and an escalation of a safety check, and two events that name a VC
    centre but are not the VC's own (a household event and a drill inject in it)."""
    household = world.household_id
    staff = world.accounts["staff"]
    with as_tenant(world.tenant_id, user_id=staff.user_id, role="staff"):
        async with sessionmaker() as db, db.begin():
            await emit(db, "household.updated", {}, household_id=household)
            await emit(
                db, "visit.recorded", {"outcome": "safe"}, operation_id=uuid.UUID(safety_op), household_id=household
            )
            await emit(
                db, "target.status", {"status": "safe"}, operation_id=uuid.UUID(safety_op), household_id=household
            )
            await emit(
                db,
                "escalation.created",
                {"outcome": "rescue"},
                operation_id=uuid.UUID(safety_op),
                audience=[staff.user_id],
            )
            await emit(db, "vc.need", {"state": "received"}, operation_id=uuid.UUID(vc_op), household_id=household)
            await emit(db, "drill.inject", {"title": "walk-in"}, operation_id=uuid.UUID(vc_op), mode="drill")


async def _safety_check(staff, world: VcWorld) -> str:
    """A real safety check over the world's district, started by staff: registry events to filter out."""
    r = await staff.send_json(
        "POST",
        "/api/operations",
        {
            "kind": "safety_check",
            "mode": "real",
            "name": "安否確認",
            "start": True,
            "district_ids": [str(world.district_id)],
        },
    )
    assert r.status_code == 201, r.text
    return r.json()["id"]


async def test_vc_desk_gets_the_centres_events_and_nothing_of_the_registry(
    world: VcWorld, sessionmaker, live_client_factory
) -> None:
    real = await open_centre(live_client_factory, world, "real")
    drill = await open_centre(live_client_factory, world, "drill")
    staff = await client_for(live_client_factory, world, "staff")
    safety = await _safety_check(staff, world)
    await _registry_events(sessionmaker, world, safety, real)

    desk = await client_for(live_client_factory, world, "vc_desk")
    async with desk.stream("GET", "/api/events?last_event_id=0") as resp:
        assert resp.status_code == 200, await resp.aread()
        # Live while the stream is open: a need, a team's check-ins, a drill need; the last one ends the read.
        need = (await desk.send_json("POST", f"/api/vc/centres/{real}/needs", need_body(1))).json()
        v = await desk.send_json("POST", f"/api/vc/centres/{real}/volunteers", volunteer_body(1, prefecture="08"))
        assert v.status_code == 201, v.text
        team = await desk.send_json(
            "POST",
            f"/api/vc/centres/{real}/teams",
            {"name": "1班", "leader_id": v.json()["id"], "member_ids": [v.json()["id"]]},
        )
        assert team.status_code == 201, team.text
        last = (await desk.send_json("POST", f"/api/vc/centres/{drill}/needs", need_body(2))).json()
        seen = await read_events(resp, until=lambda e: e.get("need_id") == last["id"])

    kinds = [(e["kind"], e["operation_id"]) for e in seen]
    assert kinds == [
        ("vc.centre", real),
        ("vc.centre", drill),
        ("vc.need", real),
        ("vc.checkin", real),
        ("vc.team", real),
        ("vc.need", drill),
    ]
    assert all(e["household_id"] is None for e in seen)
    assert seen[2]["need_id"] == need["id"] and seen[2]["state"] == "received"
    assert seen[-1]["drill"] is True and seen[-1]["label"] == "【訓練】"

    # The same stream for staff holds what the desk never got: the feed carries it, the filter kept it out.
    async with staff.stream("GET", "/api/events?last_event_id=0") as resp:
        everything = await read_events(resp, until=lambda e: e.get("need_id") == last["id"])
    staff_kinds = {e["kind"] for e in everything}
    assert {"operation.started", "household.updated", "visit.recorded", "target.status", "escalation.created"} <= (
        staff_kinds
    )
    assert {"drill.inject"} <= staff_kinds
    assert len(everything) == len(seen) + 7  # operation.started + the six of _registry_events


async def test_vc_desk_stream_of_one_operation_only_for_a_centre(world: VcWorld, live_client_factory) -> None:
    real = await open_centre(live_client_factory, world, "real")
    staff = await client_for(live_client_factory, world, "staff")
    safety = await _safety_check(staff, world)
    desk = await client_for(live_client_factory, world, "vc_desk")
    assert (await desk.get(f"/api/events?operation_id={safety}")).status_code == 404
    async with desk.stream("GET", f"/api/events?operation_id={real}&last_event_id=0") as resp:
        assert resp.status_code == 200
        seen: list[dict[str, Any]] = await read_events(resp, until=lambda e: e["kind"] == "vc.centre")
    assert [e["operation_id"] for e in seen] == [real]
    volunteer = await client_for(live_client_factory, world, "vc_volunteer")
    assert (await volunteer.get("/api/events")).status_code == 403
