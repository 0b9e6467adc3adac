"""The needs map of a volunteer centre as vector tiles (#18, server/maps/tiles/vc_needs.py): who may
read it, one centre per map (a drill's needs never on a real map), one council per map, the
attributes each desk role gets, and the audit of every read."""

from __future__ import annotations

from typing import Any

import mapbox_vector_tile
import pytest

from tests.helpers.disclosure import tile_of
from tests.helpers.vc_world import VcWorld, client_for, need_body, new_vc_world, open_centre, rows

Z = 14


@pytest.fixture
async def world(sessionmaker) -> VcWorld:
    return await new_vc_world(sessionmaker)


def _spot(body: dict[str, Any]) -> tuple[float, float]:
    return body.get("lon", 140.26), body.get("lat", 36.36)  # no pin: the town's point (vc_world.TOWN)


async def _features(client: Any, op: str, spots: list[tuple[float, float]]) -> dict[str, dict[str, Any]]:
    """The needs layer's features in the z14 tiles over `spots`, by need id."""
    found: dict[str, dict[str, Any]] = {}
    for x, y in {tile_of(lon, lat, Z) for lon, lat in spots}:
        r = await client.get(f"/api/tiles/vc-needs/{Z}/{x}/{y}.mvt", params={"operation_id": op})
        assert r.status_code in (200, 204), r.text
        assert r.headers["cache-control"] == "private, no-cache"
        if r.status_code == 200:
            for f in mapbox_vector_tile.decode(r.content)["vc_needs"]["features"]:
                found[f["properties"]["id"]] = f["properties"]
    return found


@pytest.fixture
async def centres(world: VcWorld, client_factory) -> dict[str, Any]:
    """A real centre with three needs (one linked to the registry household, one placed by its
    town only, one with flags and a truck), and a drill centre with one need at the same spot as a
    real one."""
    real = await open_centre(client_factory, world, "real")
    drill = await open_centre(client_factory, world, "drill")
    staff = await client_for(client_factory, world, "staff")
    bodies = {
        "linked": need_body(1, household_id=str(world.household_id)),
        "town": {k: v for k, v in need_body(2, town="テスト町").items() if k not in ("lon", "lat")},
        "flagged": need_body(3, flags=["lives_alone", "elderly"], needs_truck=True),
    }
    needs = {}
    for key, body in bodies.items():
        r = await staff.send_json("POST", f"/api/vc/centres/{real}/needs", body)
        assert r.status_code == 201, r.text
        needs[key] = r.json()["id"]
    r = await staff.send_json("POST", f"/api/vc/centres/{drill}/needs", need_body(1))
    assert r.status_code == 201, r.text
    needs["drill"] = r.json()["id"]
    spots = [_spot(b) for b in bodies.values()]
    return {"real": real, "drill": drill, "needs": needs, "spots": spots}


async def test_only_the_roles_that_run_the_vc_read_the_needs_map(
    world: VcWorld, client_factory, centres: dict[str, Any]
) -> None:
    lon, lat = centres["spots"][0]
    x, y = tile_of(lon, lat, Z)
    url = f"/api/tiles/vc-needs/{Z}/{x}/{y}.mvt"
    for role in ("admin", "staff", "coordinator", "vc_desk"):
        c = await client_for(client_factory, world, role)
        r = await c.get(url, params={"operation_id": centres["real"]})
        assert r.status_code == 200, (role, r.text)
    for role in ("commissioner", "watcher", "vc_volunteer"):
        c = await client_for(client_factory, world, role)
        r = await c.get(url, params={"operation_id": centres["real"]})
        assert r.status_code == 403, (role, r.text)
        assert r.json()["code"] == "forbidden"
    desk = await client_for(client_factory, world, "vc_desk")
    r = await desk.get(url)  # which centre? a clear 400, not an empty map
    assert r.status_code == 400 and r.json()["code"] == "validation_failed"
    assert r.json()["errors"][0]["field"] == "operation_id"
    r = await desk.get(url, params={"operation_id": "0192f0c4-0000-7000-8000-000000000000"})
    assert r.status_code == 404 and r.json()["code"] == "not_found"


async def test_a_centres_map_holds_its_own_needs_only(world: VcWorld, client_factory, centres: dict[str, Any]) -> None:
    desk = await client_for(client_factory, world, "vc_desk")
    needs = centres["needs"]
    real = await _features(desk, centres["real"], centres["spots"])
    drill = await _features(desk, centres["drill"], centres["spots"])
    assert set(real) == {needs["linked"], needs["town"], needs["flagged"]}
    assert set(drill) == {needs["drill"]}  # at the same spot as `linked`, on the drill's map only


async def test_another_council_never_sees_the_needs(
    world: VcWorld, sessionmaker, client_factory, centres: dict[str, Any]
) -> None:
    other = await new_vc_world(sessionmaker)
    their_op = await open_centre(client_factory, other, "real")
    theirs = await client_for(client_factory, other, "staff")
    r = await theirs.send_json("POST", f"/api/vc/centres/{their_op}/needs", need_body(1))  # the same spot as ours
    assert r.status_code == 201, r.text
    their_need = r.json()["id"]
    lon, lat = centres["spots"][0]
    x, y = tile_of(lon, lat, Z)
    r = await theirs.get(f"/api/tiles/vc-needs/{Z}/{x}/{y}.mvt", params={"operation_id": centres["real"]})
    assert r.status_code == 404  # our centre is no centre of theirs
    assert set(await _features(theirs, their_op, centres["spots"])) == {their_need}
    ours = await client_for(client_factory, world, "staff")
    r = await ours.get(f"/api/tiles/vc-needs/{Z}/{x}/{y}.mvt", params={"operation_id": their_op})
    assert r.status_code == 404


async def test_attributes_per_role_and_no_personal_details(
    world: VcWorld, client_factory, centres: dict[str, Any]
) -> None:
    """Every desk role gets the VC's attributes (decision 0025); only the registry link differs: it
    follows the disclosure rule. Staff see every household; the coordinator does not see this one
    (nobody in it consented to the council) and the lent helper sees none: neither gets the link."""
    needs = centres["needs"]
    by_role = {
        role: await _features(await client_for(client_factory, world, role), centres["real"], centres["spots"])
        for role in ("staff", "coordinator", "vc_desk")
    }
    base = {"id", "state", "people", "work_types"}
    for role, features in by_role.items():
        linked = base | ({"household_id"} if role == "staff" else set())
        assert set(features[needs["linked"]]) == linked, role
        assert set(features[needs["town"]]) == base | {"approximate"}, role
        assert set(features[needs["flagged"]]) == base | {"flags", "truck"}, role
    staff = by_role["staff"]
    assert staff[needs["linked"]]["household_id"] == str(world.household_id)
    assert staff[needs["town"]]["approximate"] is True
    assert staff[needs["flagged"]]["flags"] == "lives_alone,elderly" and staff[needs["flagged"]]["truck"] is True
    assert staff[needs["flagged"]]["people"] == need_body(3)["people_needed"]
    assert staff[needs["linked"]]["work_types"] == "mud_out,carry_out"
    assert {f["state"] for f in staff.values()} == {"received"}
    # A state change shows on the next tile (the live map reloads its source on `vc.need`).
    r = await (await client_for(client_factory, world, "vc_desk")).send_json(
        "POST", f"/api/vc/needs/{needs['flagged']}/state", {"state": "waiting"}
    )
    assert r.status_code == 200, r.text
    after = await _features(await client_for(client_factory, world, "vc_desk"), centres["real"], centres["spots"])
    assert after[needs["flagged"]]["state"] == "waiting"


async def test_every_tile_read_is_audited_with_the_centres_mode(
    world: VcWorld, sessionmaker, client_factory, centres: dict[str, Any]
) -> None:
    needs = centres["needs"]
    desk = await client_for(client_factory, world, "vc_desk")
    staff = await client_for(client_factory, world, "staff")
    await _features(desk, centres["real"], centres["spots"])
    await _features(desk, centres["drill"], centres["spots"])
    await _features(staff, centres["real"], centres["spots"])

    def reads(actor: str, action: str, op: str) -> Any:
        return rows(
            sessionmaker,
            world,
            "SELECT object_ids, mode, details->>'via' AS via FROM audit_log"
            " WHERE actor_user_id = :a AND action = :act AND operation_id = :o ORDER BY id",
            a=world.accounts[actor].user_id,
            act=action,
            o=op,
        )

    desk_real = await reads("vc_desk", "vc.need.read", centres["real"])
    assert {i for r in desk_real for i in r.object_ids} == {needs["linked"], needs["town"], needs["flagged"]}
    assert {(r.mode, r.via) for r in desk_real} == {("normal", "tile")}
    desk_drill = await reads("vc_desk", "vc.need.read", centres["drill"])
    assert [(r.object_ids, r.mode) for r in desk_drill] == [([needs["drill"]], "drill")]
    assert await reads("vc_desk", "household.read", centres["real"]) == []  # the helper saw no household
    staff_households = await reads("staff", "household.read", centres["real"])
    assert [(r.object_ids, r.mode) for r in staff_households] == [([str(world.household_id)], "normal")]
