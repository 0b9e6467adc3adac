"""District scope fails closed; disaster mode widens only as far as evacuation support needs; every
read of personal data is audited with the operation it went through and the mode that decided it.

World: tests/helpers/world.py (D1: H1 consented, H2 and H4 not; D2: H3 consented; the commissioner is
scoped to D1; the watcher is linked to H1 and H2).
"""

from __future__ import annotations

import asyncio
import json
import math
import secrets
import uuid
from datetime import UTC, datetime

import mapbox_vector_tile
import pytest
from sqlalchemy import text

from server.accounts.provision import ensure_user
from server.db.base import uuid7
from server.tenancy.models import Tenant
from tests.conftest import as_tenant
from tests.helpers.operations import start_operation_as
from tests.helpers.world import HOUSEHOLD_SPOTS, World, new_world, signed_in


@pytest.fixture
async def world(sessionmaker) -> World:
    return await new_world(sessionmaker)


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 2**z
    return int((lon + 180) / 360 * n), int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)


def _visit(world: World, household: str, outcome: str) -> dict:
    return {
        "client_id": str(uuid7()),
        "household_id": str(world.households[household]),
        "outcome": outcome,
        "device_time": datetime.now(UTC).isoformat(),
    }


async def _audit_rows(sessionmaker, world: World, where: str, **params: object) -> list:
    with as_tenant(world.tenant_id):
        async with sessionmaker() as db:
            return (
                await db.execute(
                    text(
                        f"SELECT action, mode, operation_id, object_ids, details, request_id FROM audit_log"
                        f" WHERE tenant_id = :t AND {where} ORDER BY id"
                    ),
                    {"t": world.tenant_id, **params},
                )
            ).all()


async def _household_ids(client) -> set[str]:
    r = await client.get("/api/households", params={"limit": 500})
    assert r.status_code == 200, r.text
    return {h["id"] for h in r.json()["items"]}


async def _declare_with_safety_check(world: World, client_factory, mode: str = "real") -> tuple[str, dict]:
    staff = await signed_in(client_factory, world, "staff")
    r = await staff.send_json(
        "POST",
        "/api/disaster-declarations",
        {"reason": "震度6強", "mode": mode, "district_ids": [str(world.districts["D1"])], "confirm": True},
    )
    assert r.status_code == 201, r.text
    declaration = r.json()["id"]
    r = await staff.send_json("POST", f"/api/disaster-declarations/{declaration}/safety-check", {})
    assert r.status_code == 201, r.text
    return declaration, r.json()


# ---- the district scope fails closed --------------------------------------------------------------


async def test_a_district_that_scopes_a_user_cannot_be_deleted_and_the_user_keeps_their_scope(
    world: World, client_factory
) -> None:
    commissioner = await signed_in(client_factory, world, "commissioner")
    before = await _household_ids(commissioner)
    assert before == {str(world.households[k]) for k in ("H1",)}  # D1, consented only
    staff = await signed_in(client_factory, world, "staff")
    r = await staff.send_json("DELETE", f"/api/districts/{world.districts['D1']}")
    assert r.status_code == 409, r.text
    problem = r.json()
    assert problem["code"] == "district_in_use"
    assert problem["dependents"]["users"] == 1 and problem["dependents"]["households"] == 3
    assert "利用者" in problem["message"]["ja"] and "users" in problem["message"]["en"]
    # Nothing changed: same session, same view (before migration 0011 this made them tenant-wide).
    assert await _household_ids(commissioner) == before
    assert (await staff.get("/api/districts")).json()  # D1 is still there
    assert str(world.districts["D1"]) in {d["id"] for d in (await staff.get("/api/districts")).json()}


async def test_an_unused_district_can_be_deleted(world: World, client_factory) -> None:
    staff = await signed_in(client_factory, world, "staff")
    r = await staff.send_json(
        "POST",
        "/api/districts",
        {
            "code": f"EMPTY-{secrets.token_hex(3)}",
            "name": "空の地区",
            "level": "unit",
            "geometry": {
                "type": "Polygon",
                "coordinates": [[[141.0, 37.0], [141.01, 37.0], [141.01, 37.01], [141.0, 37.0]]],
            },
        },
    )
    assert r.status_code == 201, r.text
    assert (await staff.send_json("DELETE", f"/api/districts/{r.json()['id']}")).status_code == 204


async def test_a_user_without_scope_rows_and_without_the_whole_tenant_flag_sees_nothing(
    world: World, client_factory, sessionmaker
) -> None:
    login, password = f"w-unscoped-{secrets.token_hex(3)}", secrets.token_urlsafe(12)
    with as_tenant(world.tenant_id, role="system"):
        async with sessionmaker() as db, db.begin():
            tenant = await db.get(Tenant, world.tenant_id)
            await ensure_user(db, tenant, login, "commissioner", "範囲なし 民生委員", password)
    c = client_factory()
    assert (await c.login(login, password)).status_code == 200
    me = (await c.get("/api/auth/me")).json()
    assert me["all_districts"] is False and me["district_ids"] == []
    assert await _household_ids(c) == set()
    x, y = tile_of(*HOUSEHOLD_SPOTS["H1"], 14)
    assert (await c.get(f"/api/tiles/households/14/{x}/{y}.mvt")).status_code == 204
    # The whole-tenant flag is explicit and shows on /me.
    coordinator = await signed_in(client_factory, world, "coordinator")
    assert (await coordinator.get("/api/auth/me")).json()["all_districts"] is True


async def test_a_district_can_never_become_its_own_ancestor(world: World, client_factory) -> None:
    staff = await signed_in(client_factory, world, "staff")
    r = await staff.send_json(
        "POST",
        "/api/districts",
        {
            "code": f"SUB-{secrets.token_hex(3)}",
            "name": "下位地区",
            "level": "unit",
            "parent_id": str(world.districts["D2"]),
            "geometry": {
                "type": "Polygon",
                "coordinates": [[[140.26, 36.36], [140.27, 36.36], [140.27, 36.37], [140.26, 36.36]]],
            },
        },
    )
    assert r.status_code == 201, r.text
    child = r.json()["id"]
    for parent in (child, str(world.districts["D2"])):  # under its own child; under itself
        r = await staff.send_json("PATCH", f"/api/districts/{world.districts['D2']}", {"parent_id": parent})
        assert r.status_code == 409, r.text
        assert r.json()["code"] == "district_cycle"
    districts = {d["id"]: d for d in (await staff.get("/api/districts")).json()}
    assert districts[str(world.districts["D2"])]["parent_id"] is None
    # A parent that does not exist, or a code already taken: the field named, nothing stored.
    r = await staff.send_json("PATCH", f"/api/districts/{world.districts['D2']}", {"parent_id": str(uuid.uuid4())})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "parent_id", r.text
    r = await staff.send_json(
        "POST",
        "/api/districts",
        {
            "code": districts[child]["code"],
            "name": "重複",
            "level": "unit",
            "geometry": {
                "type": "Polygon",
                "coordinates": [[[140.26, 36.36], [140.27, 36.36], [140.27, 36.37], [140.26, 36.36]]],
            },
        },
    )
    assert r.status_code == 409 and r.json()["code"] == "duplicate", r.text
    assert len((await staff.get("/api/districts")).json()) == len(districts)


# ---- disaster mode: only to the extent evacuation support needs -----------------------------------


async def test_a_watcher_in_no_operation_of_the_declaration_sees_and_records_no_more_than_in_normal_times(
    world: World, client_factory
) -> None:
    staff = await signed_in(client_factory, world, "staff")
    # A real watch round over D1 (no declaration) in which the watcher is assigned H1 and H2.
    r = await staff.send_json(
        "POST",
        "/api/operations",
        {
            "kind": "watch_round",
            "mode": "real",
            "name": "定例見守り",
            "start": True,
            "district_ids": [str(world.districts["D1"])],
        },
    )
    assert r.status_code == 201, r.text
    round_id = r.json()["id"]
    r = await staff.send_json(
        "POST",
        "/api/disaster-declarations",
        {"reason": "震度6強", "mode": "real", "district_ids": [str(world.districts["D1"])], "confirm": True},
    )
    declaration = r.json()["id"]
    watcher = await signed_in(client_factory, world, "watcher")
    try:
        assert await _household_ids(watcher) == {str(world.households["H1"])}
        r = await watcher.get(f"/api/households/{world.households['H2']}")
        assert r.status_code == 404  # unconsented, and the round is not an operation of the declaration
        r = await watcher.send_json("POST", f"/api/operations/{round_id}/visits", _visit(world, "H2", "ok"))
        assert (r.status_code, r.json()["reason"]) == (404, "not_in_operation"), r.text
        r = await watcher.send_json("POST", f"/api/operations/{round_id}/visits", _visit(world, "H4", "ok"))
        assert (r.status_code, r.json()["reason"]) == (404, "not_in_operation"), r.text
        # The commissioner of D1 and the coordinators see the unconsented there at once.
        commissioner = await signed_in(client_factory, world, "commissioner")
        assert await _household_ids(commissioner) == {str(world.households[k]) for k in ("H1", "H2", "H4")}
    finally:
        await staff.send_json("POST", f"/api/operations/{round_id}/close", {})
        await staff.send_json("POST", f"/api/disaster-declarations/{declaration}/lift", {"reason": "終了"})


async def test_in_the_declarations_safety_check_a_watcher_sees_and_records_only_their_assigned_households(
    world: World, client_factory, sessionmaker
) -> None:
    declaration, op = await _declare_with_safety_check(world, client_factory)
    staff = await signed_in(client_factory, world, "staff")
    watcher = await signed_in(client_factory, world, "watcher")
    try:
        assert await _household_ids(watcher) == {str(world.households[k]) for k in ("H1", "H2")}
        r = await watcher.get(f"/api/households/{world.households['H2']}")
        assert r.status_code == 200 and r.json()["disclosed_under"] == "disaster"
        assert r.json()["people"][0]["medical_devices"] == ["home_oxygen"]  # what evacuating them needs
        assert (await watcher.get(f"/api/households/{world.households['H4']}")).status_code == 404
        r = await watcher.send_json("POST", f"/api/operations/{op['id']}/visits", _visit(world, "H4", "safe"))
        assert (r.status_code, r.json()["reason"]) == (404, "not_in_operation"), r.text  # in it, but not theirs
        r = await watcher.send_json("POST", f"/api/operations/{op['id']}/visits", _visit(world, "H2", "safe"))
        assert r.status_code == 201, r.text
        visit_id = r.json()["id"]
        # The write is audited, with its operation and the mode that decided it.
        rows = await _audit_rows(
            sessionmaker, world, "action = 'visit.create' AND actor_user_id = :u", u=world.accounts["watcher"].user_id
        )
        assert [(r.mode, str(r.operation_id), r.object_ids) for r in rows] == [("disaster", op["id"], [visit_id])]
    finally:
        await staff.send_json("POST", f"/api/operations/{op['id']}/close", {})
        await staff.send_json("POST", f"/api/disaster-declarations/{declaration}/lift", {"reason": "終了"})
    # Closed and lifted: back to normal times.
    assert await _household_ids(watcher) == {str(world.households["H1"])}


# ---- escalations and the live feed follow the rule, and are audited -------------------------------


async def test_escalations_disappear_with_the_declaration_that_disclosed_the_household(
    world: World, client_factory, sessionmaker
) -> None:
    declaration, op = await _declare_with_safety_check(world, client_factory)
    staff = await signed_in(client_factory, world, "staff")
    watcher = await signed_in(client_factory, world, "watcher")
    commissioner = await signed_in(client_factory, world, "commissioner")
    r = await watcher.send_json("POST", f"/api/operations/{op['id']}/visits", _visit(world, "H2", "rescue"))
    assert r.status_code == 201, r.text
    listed = (await commissioner.get("/api/escalations")).json()
    assert [e["household_id"] for e in listed] == [str(world.households["H2"])]
    reads = await _audit_rows(
        sessionmaker,
        world,
        "action = 'escalation.read' AND actor_user_id = :u",
        u=world.accounts["commissioner"].user_id,
    )
    assert reads and reads[-1].mode == "disaster" and str(reads[-1].operation_id) == op["id"]
    assert reads[-1].object_ids == [listed[0]["id"]]
    await staff.send_json("POST", f"/api/disaster-declarations/{declaration}/lift", {"reason": "解除"})
    try:
        assert (await commissioner.get("/api/escalations")).json() == []  # H2 gave no consent
        r = await commissioner.send_json("POST", f"/api/escalations/{listed[0]['id']}/acknowledge", {})
        assert r.status_code == 404
        assert len(await _household_ids(commissioner)) == 1
    finally:
        await staff.send_json("POST", f"/api/operations/{op['id']}/close", {})


async def test_escalations_disappear_when_consent_is_withdrawn(world: World, client_factory, sessionmaker) -> None:
    staff = await signed_in(client_factory, world, "staff")
    r = await staff.send_json(
        "POST",
        "/api/operations",
        {
            "kind": "watch_round",
            "mode": "real",
            "name": "見守り",
            "start": True,
            "district_ids": [str(world.districts["D1"])],
        },
    )
    op = r.json()
    watcher = await signed_in(client_factory, world, "watcher")
    r = await watcher.send_json("POST", f"/api/operations/{op['id']}/visits", _visit(world, "H1", "emergency"))
    assert r.status_code == 201, r.text
    commissioner = await signed_in(client_factory, world, "commissioner")
    assert len((await commissioner.get("/api/escalations")).json()) == 1
    with as_tenant(world.tenant_id, role="staff"):
        async with sessionmaker() as db, db.begin():
            await db.execute(
                text("UPDATE consent SET withdrawn_on = current_date - 1 WHERE tenant_id = :t AND person_id = :p"),
                {"t": world.tenant_id, "p": world.persons["P1"]},
            )
    try:
        assert (await commissioner.get("/api/escalations")).json() == []
    finally:
        await staff.send_json("POST", f"/api/operations/{op['id']}/close", {})


async def test_the_live_feed_audits_the_households_it_tells_of(world: World, live_client_factory, sessionmaker) -> None:
    staff = await signed_in(live_client_factory, world, "staff")
    op = await start_operation_as(staff, world, mode="drill", name="訓練 SSE", districts=("D1",))
    coordinator = await signed_in(live_client_factory, world, "coordinator")
    async with coordinator.stream("GET", f"/api/events?operation_id={op['id']}") as resp:
        assert resp.status_code == 200
        await staff.send_json("POST", f"/api/operations/{op['id']}/visits", _visit(world, "H1", "safe"))
        events: list[dict] = []

        async def two() -> None:
            current: dict = {}
            async for line in resp.aiter_lines():
                if line == "" and "data" in current:
                    events.append(current)
                    current = {}
                    if len(events) == 2:
                        return
                elif line and not line.startswith(":"):
                    key, _, value = line.partition(":")
                    current[key] = value.lstrip(" ")

        await asyncio.wait_for(two(), 10)
    assert {json.loads(e["data"])["household_id"] for e in events} == {str(world.households["H1"])}
    rows = await _audit_rows(
        sessionmaker,
        world,
        "actor_user_id = :u AND details->>'via' = 'events'",
        u=world.accounts["coordinator"].user_id,
    )
    assert rows, "the stream's reads were not audited"
    assert all(r.mode == "drill" and str(r.operation_id) == op["id"] for r in rows)
    assert {i for r in rows for i in r.object_ids} == {str(world.households["H1"])}
    await staff.send_json("POST", f"/api/operations/{op['id']}/close", {})


# ---- tiles -------------------------------------------------------------------------------------------


async def test_low_zoom_clusters_of_few_households_sit_on_their_grid_point_not_on_a_home(
    world: World, client_factory
) -> None:
    staff = await signed_in(client_factory, world, "staff")
    seen = 0
    for z in (10, 11, 12):
        for x, y in {tile_of(lon, lat, z) for lon, lat in HOUSEHOLD_SPOTS.values()}:
            r = await staff.get(f"/api/tiles/households/{z}/{x}/{y}.mvt")
            if r.status_code == 204:
                continue
            layer = mapbox_vector_tile.decode(r.content, default_options={"y_coord_down": True})["households"]
            for f in layer["features"]:
                if f["properties"]["count"] < 5:
                    px, py = f["geometry"]["coordinates"]
                    # cells are 256 of the tile's 4096 units: a small cluster is at a cell's grid point
                    assert px % 256 == 0 and py % 256 == 0, (z, f)
                    seen += 1
    assert seen, "the world's households made no small cluster"


async def test_an_operation_map_tile_is_audited_with_its_operation_and_mode(
    world: World, client_factory, sessionmaker
) -> None:
    staff = await signed_in(client_factory, world, "staff")
    op = await start_operation_as(staff, world, mode="drill", name="訓練 地図", districts=("D1",))
    coordinator = await signed_in(client_factory, world, "coordinator")
    x, y = tile_of(*HOUSEHOLD_SPOTS["H1"], 14)
    r = await coordinator.get(f"/api/tiles/households/14/{x}/{y}.mvt", params={"operation_id": op["id"]})
    assert r.status_code == 200, r.text
    rows = await _audit_rows(
        sessionmaker, world, "actor_user_id = :u AND details->>'via' = 'tile'", u=world.accounts["coordinator"].user_id
    )
    assert [(r.mode, str(r.operation_id)) for r in rows] == [("drill", op["id"])]
    assert rows[0].object_ids == [str(world.households["H1"])]
    await staff.send_json("POST", f"/api/operations/{op['id']}/close", {})


async def test_a_tile_under_a_declaration_splits_its_audit_by_what_decided_each_household(
    world: World, client_factory, sessionmaker
) -> None:
    staff = await signed_in(client_factory, world, "staff")
    r = await staff.send_json(
        "POST",
        "/api/disaster-declarations",
        {"reason": "震度6強", "mode": "real", "district_ids": [str(world.districts["D1"])], "confirm": True},
    )
    declaration = r.json()["id"]
    try:
        coordinator = await signed_in(client_factory, world, "coordinator")
        for x, y in {tile_of(lon, lat, 14) for lon, lat in HOUSEHOLD_SPOTS.values()}:
            assert (await coordinator.get(f"/api/tiles/households/14/{x}/{y}.mvt")).status_code in (200, 204)
        # The staff member's own reads are never 'disaster': the declaration decides nothing for them.
        for x, y in {tile_of(lon, lat, 14) for lon, lat in HOUSEHOLD_SPOTS.values()}:
            await staff.get(f"/api/tiles/households/14/{x}/{y}.mvt")
    finally:
        await staff.send_json("POST", f"/api/disaster-declarations/{declaration}/lift", {"reason": "終了"})
    rows = await _audit_rows(
        sessionmaker, world, "actor_user_id = :u AND details->>'via' = 'tile'", u=world.accounts["coordinator"].user_id
    )
    by_mode: dict[str, set[str]] = {}
    for r in rows:
        by_mode.setdefault(r.mode, set()).update(r.object_ids)
    assert by_mode == {
        "disaster": {str(world.households[k]) for k in ("H1", "H2", "H4")},
        "normal": {str(world.households["H3"])},
    }
    staff_rows = await _audit_rows(
        sessionmaker, world, "actor_user_id = :u AND details->>'via' = 'tile'", u=world.accounts["staff"].user_id
    )
    assert staff_rows and {r.mode for r in staff_rows} == {"normal"}


async def test_an_operations_map_and_feed_are_only_for_those_who_take_part(
    world: World, client_factory, sessionmaker
) -> None:
    """The watcher may see H1 (linked, consented). In a round that holds H1 but assigns it to
    nobody, they take no part: its map shows them nothing, its feed and the operation are not found.
    In a round that assigns H1 to them, both answer."""
    staff = await signed_in(client_factory, world, "staff")
    ops = []
    for name in ("ほかの人の見守り", "私の見守り"):
        r = await staff.send_json(
            "POST",
            "/api/operations",
            {
                "kind": "watch_round",
                "mode": "real",
                "name": name,
                "start": True,
                "district_ids": [str(world.districts["D1"])],
            },
        )
        assert r.status_code == 201, r.text
        ops.append(r.json()["id"])
    with as_tenant(world.tenant_id, role="system"):
        async with sessionmaker() as db, db.begin():
            await db.execute(
                text("UPDATE operation_target SET watcher_ids = '{}' WHERE tenant_id = :t AND operation_id = :o"),
                {"t": world.tenant_id, "o": ops[0]},
            )
    watcher = await signed_in(client_factory, world, "watcher")
    x, y = tile_of(*HOUSEHOLD_SPOTS["H1"], 14)
    try:
        assert (
            await watcher.get(f"/api/tiles/households/14/{x}/{y}.mvt", params={"operation_id": ops[0]})
        ).status_code == 204
        assert (await watcher.get("/api/events", params={"operation_id": ops[0]})).status_code == 404
        assert (await watcher.get(f"/api/operations/{ops[0]}")).status_code == 404
        r = await watcher.get(f"/api/tiles/households/14/{x}/{y}.mvt", params={"operation_id": ops[1]})
        assert r.status_code == 200
        ids = {f["properties"]["id"] for f in mapbox_vector_tile.decode(r.content)["households"]["features"]}
        assert ids == {str(world.households["H1"])}
        assert (await watcher.get(f"/api/operations/{ops[1]}")).status_code == 200
    finally:
        for op in ops:
            await staff.send_json("POST", f"/api/operations/{op}/close", {})
