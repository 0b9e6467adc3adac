"""The disclosure matrix: each role × assignment × consent state × mode × each path out.

World (tests/helpers/world.py): district D1 holds H1 (P1, consented), H2 (P2, no consent),
H4 (P4, no consent); D2 holds H3 (P3, consented). The commissioner is scoped to D1; the watcher
is linked to H1 and H2 (so H4 is nobody's). The declaration in the disaster/drill modes covers D1;
in "disaster_op"/"drill_op" a safety check of that declaration is also running, which assigns the
watcher to H1 and H2 (their watch links).

Under a real declaration (49条の11③, PRODUCT.md §3) the area's 民生委員 and the coordinators see the
unconsented there; a watcher sees no more than in normal times unless they are assigned to the
household in a real operation of that declaration. A drill never widens anything.
"""

from __future__ import annotations

import csv
import io

import mapbox_vector_tile
import pytest
from sqlalchemy import text

from tests.conftest import as_tenant
from tests.helpers.disclosure import (
    EXPECTED,
    MODES,
    ROLES,
    declare_for_mode,
    lift_declared,
    seen_in_tiles,
    tile_of,
)
from tests.helpers.world import HOUSEHOLD_SPOTS, World, new_world, signed_in

# Who may see health data (support reasons, medical devices) of which visible person.
SENSITIVE: dict[tuple[str, str], set[str]] = {
    **{k: v for k, v in EXPECTED.items() if k[0] in ("admin", "staff", "commissioner", "watcher")},
    **{("coordinator", m): set() for m in ("normal", "drill", "drill_op")},
    **{("coordinator", m): {"P1", "P2", "P4"} for m in ("disaster", "disaster_op")},  # the declared area only
}


@pytest.fixture(scope="module")
async def world(sessionmaker) -> World:
    return await new_world(sessionmaker)


def _names(world: World, ids: set[str]) -> set[str]:
    by_id = {str(v): k for k, v in world.persons.items()}
    return {by_id[i] for i in ids if i in by_id}


async def _seen_through_each_path(c, world: World, role: str, mode: str) -> dict[str, set[str]]:
    seen: dict[str, set[str]] = {}
    resp = await c.get("/api/households", params={"limit": 500})
    assert resp.status_code == 200, resp.text
    seen["rest_list"] = _names(world, {p["id"] for h in resp.json()["items"] for p in h["people"]})
    detail: set[str] = set()
    for hid in world.households.values():
        r = await c.get(f"/api/households/{hid}")
        assert r.status_code in (200, 404)
        if r.status_code == 200:
            detail |= {p["id"] for p in r.json()["people"]}
    seen["rest_detail"] = _names(world, detail)
    person_detail: set[str] = set()
    for pid in world.persons.values():
        r = await c.get(f"/api/persons/{pid}")
        assert r.status_code in (200, 404)
        if r.status_code == 200:
            person_detail.add(r.json()["id"])
    seen["person_detail"] = _names(world, person_detail)
    r = await c.get("/api/persons", params={"q": "試験", "limit": 500})
    seen["search"] = _names(world, {p["id"] for p in r.json()["items"]})
    r = await c.get("/api/households/geojson")
    assert r.headers["content-type"].startswith("application/geo+json")
    seen["geojson"] = _names(world, {p["id"] for f in r.json()["features"] for p in f["properties"]["people"]})
    r = await c.get("/api/exports/households.csv")
    if role != "watcher":
        assert r.status_code == 200, r.text
        rows = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))
        seen["export_csv"] = _names(world, {row["個人ID"] for row in rows if row["個人ID"]})
        r = await c.get("/api/exports/households.geojson")
        seen["export_geojson"] = _names(
            world, {p["id"] for f in r.json()["features"] for p in f["properties"]["people"]}
        )
    else:
        assert r.status_code == 403
    seen["tiles"] = await seen_in_tiles(c, world, mode)
    r = await c.get("/api/registry/counts")
    counts = {row["district_id"]: row["people"] for row in r.json()}
    seen["count_total"] = {f"n={sum(counts.values())}"}
    return seen


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("role", ROLES)
async def test_disclosure_matrix(role: str, mode: str, world: World, client_factory) -> None:
    declaration = await declare_for_mode(world, client_factory, mode)
    try:
        c = await signed_in(client_factory, world, role)
        seen = await _seen_through_each_path(c, world, role, mode)
        expected = EXPECTED[(role, mode)]
        for path, got in seen.items():
            if path == "count_total":
                assert got == {f"n={len(expected)}"}, (role, mode, path, got)
            else:
                assert got == expected, (role, mode, path, got)
        # field-level: health data only where need-to-know
        resp = await c.get("/api/households", params={"limit": 500})
        with_health = {p["id"] for h in resp.json()["items"] for p in h["people"] if p.get("medical_devices")}
        assert _names(world, with_health) == SENSITIVE[(role, mode)], (role, mode)
        without = [p for h in resp.json()["items"] for p in h["people"] if str(p["id"]) not in with_health]
        assert all("support_reasons" not in p and "notes" not in p for p in without)
    finally:
        await lift_declared(world, client_factory, declaration)


@pytest.mark.parametrize("mode", MODES)
async def test_vc_volunteers_see_no_registry(mode: str, world: World, client_factory) -> None:
    declaration = await declare_for_mode(world, client_factory, mode)
    try:
        c = await signed_in(client_factory, world, "vc_volunteer")
        for path in (
            "/api/households",
            "/api/persons",
            "/api/households/geojson",
            "/api/exports/households.csv",
            "/api/registry/counts",
            f"/api/households/{world.households['H1']}",
        ):
            r = await c.get(path)
            assert r.status_code == 403, (path, r.status_code)
    finally:
        await lift_declared(world, client_factory, declaration)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("role", ROLES)
async def test_rls_alone_enforces_the_same_matrix(
    role: str, mode: str, world: World, client_factory, sessionmaker
) -> None:
    """A query with no Python filter at all sees exactly what the policy allows."""
    declaration = await declare_for_mode(world, client_factory, mode)
    try:
        acct = world.accounts[role]
        scope = frozenset({world.districts["D1"]}) if role == "commissioner" else None
        with as_tenant(world.tenant_id, user_id=acct.user_id, role=role, scope=scope):
            async with sessionmaker() as db:
                person_ids = {str(r[0]) for r in await db.execute(text("SELECT id FROM person"))}
                household_ids = {str(r[0]) for r in await db.execute(text("SELECT id FROM household"))}
        expected = EXPECTED[(role, mode)]
        assert _names(world, person_ids) == expected
        assert len(household_ids) == len(expected)
    finally:
        await lift_declared(world, client_factory, declaration)


async def test_reads_are_audited_with_ids_and_the_mode_that_decided_each(world: World, client_factory) -> None:
    """One request, two audit rows: the households the declaration disclosed ('disaster', with their
    unconsented people) apart from the one the coordinator's consent reading decided ('normal')."""
    declaration = await declare_for_mode(world, client_factory, "disaster")
    try:
        c = await signed_in(client_factory, world, "coordinator")
        assert (await c.get("/api/households")).status_code == 200
    finally:
        await lift_declared(world, client_factory, declaration)
    staff = await signed_in(client_factory, world, "staff")
    entries = (
        await staff.get(
            "/api/audit",
            params={"actor_user_id": str(world.accounts["coordinator"].user_id), "action": "household.read"},
        )
    ).json()["items"]
    assert len(entries) >= 2, "the read was not audited"
    latest = {e["mode"]: e for e in entries[:2]}
    assert entries[0]["request_id"] == entries[1]["request_id"]
    assert set(latest) == {"disaster", "normal"}
    assert set(latest["disaster"]["object_ids"]) == {str(world.households[k]) for k in ("H1", "H2", "H4")}
    assert {str(world.persons["P2"]), str(world.persons["P4"])} <= set(latest["disaster"]["details"]["person_ids"])
    assert set(latest["normal"]["object_ids"]) == {str(world.households["H3"])}
    actions = [
        e["action"]
        for e in (await staff.get("/api/audit", params={"object_type": "disaster_declaration"})).json()["items"]
    ]
    assert "disaster.declare" in actions and "disaster.lift" in actions


async def test_a_drill_declaration_does_not_mark_other_reads_as_drill(world: World, client_factory) -> None:
    declaration = await declare_for_mode(world, client_factory, "drill")
    try:
        c = await signed_in(client_factory, world, "commissioner")
        assert (await c.get("/api/households")).status_code == 200
        x, y = tile_of(*HOUSEHOLD_SPOTS["H1"], 14)
        assert (await c.get(f"/api/tiles/households/14/{x}/{y}.mvt")).status_code == 200
    finally:
        await lift_declared(world, client_factory, declaration)
    staff = await signed_in(client_factory, world, "staff")
    entries = (
        await staff.get(
            "/api/audit",
            params={"actor_user_id": str(world.accounts["commissioner"].user_id), "action": "household.read"},
        )
    ).json()["items"]
    assert {e["details"]["via"] for e in entries[:2]} == {"rest", "tile"}
    assert all(e["mode"] == "normal" and e["operation_id"] is None for e in entries[:2])


async def test_lifting_ends_wider_disclosure_at_once(world: World, client_factory) -> None:
    declaration = await declare_for_mode(world, client_factory, "disaster")
    c = await signed_in(client_factory, world, "commissioner")
    r = await c.get(f"/api/persons/{world.persons['P2']}")
    assert r.status_code == 200 and r.json()["disclosed_under"] == "disaster"
    await lift_declared(world, client_factory, declaration)
    assert (await c.get(f"/api/persons/{world.persons['P2']}")).status_code == 404


async def test_real_declaration_needs_explicit_confirmation_and_a_reason(world: World, client_factory) -> None:
    staff = await signed_in(client_factory, world, "staff")
    r = await staff.send_json(
        "POST", "/api/disaster-declarations", {"reason": "地震発生", "district_ids": [str(world.districts["D1"])]}
    )
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "confirm"
    r = await staff.send_json(
        "POST",
        "/api/disaster-declarations",
        {"reason": "", "confirm": True, "district_ids": [str(world.districts["D1"])]},
    )
    assert r.status_code == 400
    coordinator = await signed_in(client_factory, world, "coordinator")
    r = await coordinator.send_json(
        "POST",
        "/api/disaster-declarations",
        {"reason": "地震発生", "confirm": True, "district_ids": [str(world.districts["D1"])]},
    )
    assert r.status_code == 403


async def test_support_reason_filter_is_need_to_know(world: World, client_factory) -> None:
    coordinator = await signed_in(client_factory, world, "coordinator")
    r = await coordinator.get("/api/households", params={"support_reason": "care_level_3_5"})
    assert r.status_code == 403
    staff = await signed_in(client_factory, world, "staff")
    r = await staff.get("/api/households", params={"support_reason": "care_level_3_5", "limit": 500})
    assert r.status_code == 200 and r.json()["total"] >= 4
    r = await staff.get(
        "/api/households", params={"support_reason": "elderly_alone", "district_id": str(world.districts["D1"])}
    )
    assert r.json()["total"] == 0


async def test_tiles_cache_per_user_and_cluster_at_low_zoom(world: World, client_factory) -> None:
    staff = await signed_in(client_factory, world, "staff")
    x, y = tile_of(*HOUSEHOLD_SPOTS["H1"], 14)
    first = await staff.get(f"/api/tiles/households/14/{x}/{y}.mvt")
    assert first.status_code == 200 and first.headers["content-type"] == "application/vnd.mapbox-vector-tile"
    etag = first.headers["etag"]
    again = await staff.get(f"/api/tiles/households/14/{x}/{y}.mvt", headers={"If-None-Match": etag})
    assert again.status_code == 304
    other = await signed_in(client_factory, world, "admin")  # sees the same points, but is another user
    r = await other.get(f"/api/tiles/households/14/{x}/{y}.mvt", headers={"If-None-Match": etag})
    assert r.status_code == 200 and r.headers["etag"] != etag
    zx, zy = tile_of(*HOUSEHOLD_SPOTS["H1"], 10)
    low = await staff.get(f"/api/tiles/households/10/{zx}/{zy}.mvt")
    features = mapbox_vector_tile.decode(low.content)["households"]["features"]
    assert features and all(set(f["properties"]) == {"count"} for f in features)
    assert sum(f["properties"]["count"] for f in features) >= 4
    for layer in ("districts", "shelters", "hazard-zones"):
        r = await staff.get(f"/api/tiles/{layer}/14/{x}/{y}.mvt")
        assert r.status_code in (200, 204)
    districts = mapbox_vector_tile.decode((await staff.get(f"/api/tiles/districts/14/{x}/{y}.mvt")).content)
    assert {f["properties"]["name"] for f in districts["districts"]["features"]} >= {"第一支部"}
    assert (await staff.get("/api/tiles/nope/14/1/1.mvt")).status_code == 404
    assert (await staff.get("/api/tiles/households/3/99/1.mvt")).status_code == 404
    vc = await signed_in(client_factory, world, "vc_volunteer")
    assert (await vc.get(f"/api/tiles/households/14/{x}/{y}.mvt")).status_code == 403


async def test_tiles_use_the_spatial_index_under_row_level_security(world: World, sessionmaker) -> None:
    """RLS evaluates its policy before non-leakproof quals, which would make every tile scan every
    household. The cluster set-up marks PostGIS's && LEAKPROOF (scripts/pg.sh); this checks it."""
    acct = world.accounts["commissioner"]
    with as_tenant(
        world.tenant_id, user_id=acct.user_id, role="commissioner", scope=frozenset({world.districts["D1"]})
    ):
        async with sessionmaker() as db:
            leakproof = (
                await db.execute(
                    text("SELECT proleakproof FROM pg_proc WHERE proname = 'geometry_overlaps' AND pronargs = 2")
                )
            ).scalar()
            await db.execute(text("SET LOCAL enable_seqscan = off"))
            plan = "\n".join(
                r[0]
                for r in await db.execute(
                    text("EXPLAIN SELECT id FROM household WHERE location_3857 && ST_TileEnvelope(14, 14571, 6388)")
                )
            )
    assert leakproof, "run: ALTER FUNCTION geometry_overlaps(geometry, geometry) LEAKPROOF (as a superuser)"
    assert "Index Cond" in plan and "location_3857 &&" in plan, plan
