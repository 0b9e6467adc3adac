"""The disclosure matrix (who sees whom, in each mode) and the ways to reach each mode through the
API, shared by the registry's and the tiles' disclosure tests. World: tests/helpers/world.py."""

from __future__ import annotations

import math

import mapbox_vector_tile

from tests.helpers.world import HOUSEHOLD_SPOTS, World, signed_in

MODES = ("normal", "disaster", "disaster_op", "drill", "drill_op")
EXPECTED: dict[tuple[str, str], set[str]] = {
    **{(r, m): {"P1", "P2", "P3", "P4"} for r in ("admin", "staff") for m in MODES},
    **{("coordinator", m): {"P1", "P3"} for m in ("normal", "drill", "drill_op")},
    **{("coordinator", m): {"P1", "P2", "P3", "P4"} for m in ("disaster", "disaster_op")},
    **{("commissioner", m): {"P1"} for m in ("normal", "drill", "drill_op")},
    **{("commissioner", m): {"P1", "P2", "P4"} for m in ("disaster", "disaster_op")},
    # A watcher: the consented household they are linked to; under a real declaration only the
    # households they are assigned to in its operation (H2 unconsented, yes; H4 nobody's, never).
    **{("watcher", m): {"P1"} for m in ("normal", "disaster", "drill", "drill_op")},
    ("watcher", "disaster_op"): {"P1", "P2"},
}
ROLES = ("admin", "staff", "coordinator", "commissioner", "watcher")


async def declare_for_mode(world: World, client_factory, mode: str) -> tuple[str | None, str | None]:
    """The declaration (and the safety check of it) a mode needs: (declaration id, operation id)."""
    if mode == "normal":
        return None, None
    staff = await signed_in(client_factory, world, "staff")
    resp = await staff.send_json(
        "POST",
        "/api/disaster-declarations",
        {
            "reason": "テスト用の宣言（地震）",
            "mode": "real" if mode.startswith("disaster") else "drill",
            "district_ids": [str(world.districts["D1"])],
            "confirm": True,
        },
    )
    assert resp.status_code == 201, resp.text
    declaration = resp.json()["id"]
    if not mode.endswith("_op"):
        return declaration, None
    resp = await staff.send_json("POST", f"/api/disaster-declarations/{declaration}/safety-check", {})
    assert resp.status_code == 201, resp.text
    return declaration, resp.json()["id"]


async def lift_declared(world: World, client_factory, declared: tuple[str | None, str | None]) -> None:
    declaration_id, operation_id = declared
    staff = await signed_in(client_factory, world, "staff")
    if operation_id is not None:
        resp = await staff.send_json("POST", f"/api/operations/{operation_id}/close", {})
        assert resp.status_code == 200, resp.text
    if declaration_id is None:
        return
    resp = await staff.send_json("POST", f"/api/disaster-declarations/{declaration_id}/lift", {"reason": "テスト終了"})
    assert resp.status_code == 200, resp.text


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 2**z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return x, y


async def seen_in_tiles(c, world: World, mode: str) -> set[str]:
    """Household ids in the z14 tiles covering the world, mapped to their (single) person. Checks
    each feature's attributes on the way: no names; the flags only where they hold (`disaster`
    for a household in D1 under the real declaration, never under a drill; none of the world's
    locations is approximate)."""
    tiles = {tile_of(lon, lat, 14) for lon, lat in HOUSEHOLD_SPOTS.values()}
    in_d1 = {str(world.households[k]) for k in ("H1", "H2", "H4")}
    ids: set[str] = set()
    for x, y in tiles:
        r = await c.get(f"/api/tiles/households/14/{x}/{y}.mvt")
        assert r.status_code in (200, 204), r.text
        assert "private" in r.headers["cache-control"]
        if r.status_code == 200:
            layer = mapbox_vector_tile.decode(r.content)["households"]
            for f in layer["features"]:
                props = f["properties"]
                expected = {"id", "district_id"} | (
                    {"disaster"} if mode.startswith("disaster") and props["id"] in in_d1 else set()
                )
                assert set(props) == expected, (mode, props)
                assert props.get("disaster", True) is True
                ids.add(props["id"])
    by_household = {str(v): f"P{k[1]}" for k, v in world.households.items()}
    return {by_household[i] for i in ids}
