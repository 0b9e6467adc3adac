"""The tile statement's own disclosure filter, on a connection where row-level security does not apply.

server/maps/tiles/sql.py gates its explicit copy of the rule on row_security_active('household') (the policy
already applied it). These tests take RLS away (the owner without FORCE bypasses it, inside a
transaction that is rolled back) and check that the tile SQL alone still yields the disclosure
matrix, and that it leaks when the filter is removed, so the check cannot pass vacuously. Only the
owner role may do that (the app's role cannot touch RLS), so these tests sign in as the owner.
"""

from __future__ import annotations

import pytest
from sqlalchemy import text

from server.maps.tiles.sql import tile_sql
from tests.conftest import as_tenant
from tests.helpers.disclosure import EXPECTED, MODES, ROLES, declare_for_mode, lift_declared, tile_of
from tests.helpers.world import HOUSEHOLD_SPOTS, World, new_world

_UNFILTERED = text(
    "SELECT NULL, array_agg(h.id) FROM household h"
    " WHERE h.tenant_id = :tenant AND h.location_3857 && ST_TileEnvelope(:z, :x, :y)"
)


@pytest.fixture(scope="module")
async def world(sessionmaker) -> World:
    return await new_world(sessionmaker)


async def _tile_people_without_rls(world: World, owner_sessionmaker, role: str, statement) -> tuple[set[str], bool]:
    acct = world.accounts[role]
    scope = frozenset({world.districts["D1"]}) if role == "commissioner" else None
    tiles = {tile_of(lon, lat, 14) for lon, lat in HOUSEHOLD_SPOTS.values()}
    ids: set[str] = set()
    with as_tenant(world.tenant_id, user_id=acct.user_id, role=role, scope=scope):
        async with owner_sessionmaker() as db:
            try:
                await db.execute(text("ALTER TABLE household NO FORCE ROW LEVEL SECURITY"))
                active = bool((await db.execute(text("SELECT row_security_active('household'::regclass)"))).scalar())
                for x, y in tiles:
                    row = (await db.execute(statement, {"tenant": world.tenant_id, "z": 14, "x": x, "y": y})).one()
                    ids |= {str(i) for i in (row[1] or [])}
            finally:
                await db.rollback()
    by_household = {str(v): f"P{k[1]}" for k, v in world.households.items()}
    return {by_household[i] for i in ids}, active


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("role", ROLES)
async def test_tile_sql_enforces_the_matrix_where_rls_does_not_apply(
    role: str, mode: str, world: World, client_factory, owner_sessionmaker
) -> None:
    declaration = await declare_for_mode(world, client_factory, mode)
    try:
        seen, active = await _tile_people_without_rls(world, owner_sessionmaker, role, tile_sql("households", 14))
    finally:
        await lift_declared(world, client_factory, declaration)
    assert active is False  # the policy really was out of the way
    assert seen == EXPECTED[(role, mode)]


async def test_without_rls_and_without_the_filter_the_tile_would_leak(world: World, owner_sessionmaker) -> None:
    seen, active = await _tile_people_without_rls(world, owner_sessionmaker, "commissioner", _UNFILTERED)
    assert active is False
    assert seen == {"P1", "P2", "P3", "P4"}
