"""Who reads what of watchers, operations and disaster declarations (issue #14, item 9;
docs/decisions/0005-disclosure.md, addendum #14). World: tests/helpers/world.py (D1, D2; the
commissioner scoped to D1; the watcher's profile in D1, assigned to H1 and H2)."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import text

from server.accounts.models import UserDistrictScope
from server.registry.models import Watcher
from tests.conftest import as_tenant
from tests.helpers.world import World, new_world, signed_in


@pytest.fixture
async def world(sessionmaker) -> World:
    return await new_world(sessionmaker)


async def _add_watchers(sessionmaker, world: World) -> dict[str, uuid.UUID]:
    """A watcher in D2 (over capacity: capacity 0 with one link) and one with no district."""
    ids = {"W2": uuid.uuid4(), "W0": uuid.uuid4()}
    with as_tenant(world.tenant_id, role="system"):
        async with sessionmaker() as db, db.begin():
            db.add_all(
                [
                    Watcher(
                        tenant_id=world.tenant_id,
                        id=ids["W2"],
                        name="第二 見守",
                        phone="0296-11-2222",
                        capacity=0,
                        home="SRID=4326;POINT(140.275 36.375)",
                        district_id=world.districts["D2"],
                    ),
                    Watcher(
                        tenant_id=world.tenant_id,
                        id=ids["W0"],
                        name="無所属 見守",
                        phone="0296-33-4444",
                        home="SRID=4326;POINT(140.26 36.36)",
                    ),
                ]
            )
            await db.flush()
            await db.execute(
                text("INSERT INTO watch_link (tenant_id, id, household_id, watcher_id) VALUES (:t, :id, :h, :w)"),
                {"t": world.tenant_id, "id": uuid.uuid4(), "h": world.households["H3"], "w": ids["W2"]},
            )
    return ids


async def _scope(sessionmaker, world: World, role: str, district: str) -> None:
    with as_tenant(world.tenant_id, role="system"):
        async with sessionmaker() as db, db.begin():
            db.add(
                UserDistrictScope(
                    tenant_id=world.tenant_id,
                    user_id=world.accounts[role].user_id,
                    district_id=world.districts[district],
                )
            )
            # Scoped, not whole-tenant: the whole-tenant flag wins over scope rows (migration 0011).
            await db.execute(
                text("UPDATE app_user SET all_districts = false WHERE tenant_id = :t AND id = :u"),
                {"t": world.tenant_id, "u": world.accounts[role].user_id},
            )


# ---- watchers ------------------------------------------------------------------------------------


async def test_watchers_are_listed_within_the_viewers_scope_and_homes_only_to_staff(
    world: World, client_factory, sessionmaker
) -> None:
    ids = await _add_watchers(sessionmaker, world)
    await _scope(sessionmaker, world, "coordinator", "D2")

    staff = await signed_in(client_factory, world, "staff")
    every = {w["name"]: w for w in (await staff.get("/api/watchers")).json()}
    assert set(every) == {"テスト 見守り", "第二 見守", "無所属 見守"}
    assert all(w["lon"] is not None and w["lat"] is not None for w in every.values())

    # The 民生委員 of D1: D1's watchers only, with name and phone to call them, never their home.
    commissioner = await signed_in(client_factory, world, "commissioner")
    mine = (await commissioner.get("/api/watchers")).json()
    assert [(w["name"], w["load"], w["lon"], w["lat"]) for w in mine] == [("テスト 見守り", 2, None, None)]
    # … and asking for another district by id changes nothing.
    assert (await commissioner.get("/api/watchers", params={"district_id": str(world.districts["D2"])})).json() == []

    coordinator = await signed_in(client_factory, world, "coordinator")
    theirs = (await coordinator.get("/api/watchers")).json()
    assert [(w["name"], w["phone"], w["lon"]) for w in theirs] == [("第二 見守", "0296-11-2222", None)]

    watcher = await signed_in(client_factory, world, "watcher")
    assert (await watcher.get("/api/watchers")).status_code == 403
    me = (await watcher.get("/api/watchers/me")).json()
    assert me["name"] == "テスト 見守り" and me["lon"] == pytest.approx(140.215)  # their own home
    volunteer = await signed_in(client_factory, world, "vc_volunteer")
    assert (await volunteer.get("/api/watchers")).status_code == 403

    # Coverage counts watchers, and lists the over-capacity ones, within the same scope.
    cov = (await staff.get("/api/watch/coverage")).json()
    assert cov["totals"]["watchers"] == 3 and [o["watcher_id"] for o in cov["over_capacity"]] == [str(ids["W2"])]
    cov = (await commissioner.get("/api/watch/coverage")).json()
    assert cov["totals"]["watchers"] == 1 and cov["over_capacity"] == []
    cov = (await coordinator.get("/api/watch/coverage")).json()
    assert cov["totals"]["watchers"] == 1 and [o["watcher_id"] for o in cov["over_capacity"]] == [str(ids["W2"])]


# ---- operations ----------------------------------------------------------------------------------


async def _op(staff, name: str, districts: list[uuid.UUID], start: bool = True, **extra: object) -> dict:
    r = await staff.send_json(
        "POST",
        "/api/operations",
        {
            "kind": "safety_check",
            "mode": "real",
            "name": name,
            "start": start,
            "district_ids": [str(d) for d in districts],
            **extra,
        },
    )
    assert r.status_code == 201, r.text
    return r.json()


async def test_operations_are_read_only_by_those_who_take_part(world: World, client_factory, sessionmaker) -> None:
    await _scope(sessionmaker, world, "coordinator", "D1")
    staff = await signed_in(client_factory, world, "staff")
    both = await _op(staff, "全域", [world.districts["D1"], world.districts["D2"]])  # the watcher's H1/H2 are in it
    d2 = await _op(staff, "第二支部だけ", [world.districts["D2"]])  # nobody of D1 takes part
    named = await _op(
        staff,
        "第二支部（調整役指名）",
        [world.districts["D2"]],
        start=False,
        coordinator_ids=[str(world.accounts["coordinator"].user_id)],
    )
    all_ids = {both["id"], d2["id"], named["id"]}
    assert {o["id"] for o in (await staff.get("/api/operations")).json()} == all_ids

    expected = {
        "watcher": {both["id"]},  # assigned households in `both` only
        "commissioner": {both["id"]},  # scoped to D1
        "coordinator": {both["id"], named["id"]},  # scoped to D1, and named in `named`
    }
    for role, readable in expected.items():
        c = await signed_in(client_factory, world, role)
        assert {o["id"] for o in (await c.get("/api/operations")).json()} == readable, role
        assert {o["id"] for o in (await c.get("/api/sync/pull")).json()["operations"]} <= readable, role
        for op_id in all_ids - readable:
            for path in ("", "/my-households"):
                r = await c.get(f"/api/operations/{op_id}{path}")
                assert r.status_code == 404 and r.json()["code"] == "not_found", (role, path)
            if role != "watcher":
                for path in ("/progress",):
                    assert (await c.get(f"/api/operations/{op_id}{path}")).status_code == 404, (role, path)
                for path in ("summary", "history", "timeline", "escalations", "households"):
                    assert (await c.get(f"/api/console/operations/{op_id}/{path}")).status_code == 404, (role, path)
        for op_id in readable:
            assert (await c.get(f"/api/operations/{op_id}")).status_code == 200, role

    volunteer = await signed_in(client_factory, world, "vc_volunteer")
    assert (await volunteer.get("/api/operations")).status_code == 403
    for op_id in all_ids:
        assert (await volunteer.get(f"/api/operations/{op_id}")).status_code == 404


# ---- disaster declarations -----------------------------------------------------------------------


async def test_declaration_reasons_are_for_staff_and_coordinators(world: World, client_factory) -> None:
    staff = await signed_in(client_factory, world, "staff")
    reason = "訓練用：第一支部の河川氾濫想定"
    decl = await staff.send_json(
        "POST",
        "/api/disaster-declarations",
        {"reason": reason, "mode": "drill", "district_ids": [str(world.districts["D1"])]},
    )
    assert decl.status_code == 201, decl.text
    for role in ("staff", "admin", "coordinator"):
        c = staff if role == "staff" else await signed_in(client_factory, world, role)
        listed = await c.get("/api/disaster-declarations")
        assert listed.status_code == 200 and [d["reason"] for d in listed.json()] == [reason], role
    for role in ("commissioner", "watcher", "vc_volunteer"):
        c = await signed_in(client_factory, world, role)
        r = await c.get("/api/disaster-declarations", params={"active": "true"})
        assert r.status_code == 403 and reason not in r.text, role

    # The safety check started from it is read by its watchers: its default name carries no reason.
    op = (await staff.send_json("POST", f"/api/disaster-declarations/{decl.json()['id']}/safety-check", {})).json()
    watcher = await signed_in(client_factory, world, "watcher")
    seen = (await watcher.get(f"/api/operations/{op['id']}")).json()
    assert seen["name"].startswith("安否確認（") and "河川" not in seen["name"]
