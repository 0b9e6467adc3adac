"""Operations and visits through the API, as the operations, field and request-path tests make them."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from server.db.base import uuid7
from server.registry.models import Household
from tests.conftest import as_tenant
from tests.helpers.world import World, signed_in


async def start_operation_as(
    staff,
    world: World,
    kind: str = "safety_check",
    mode: str = "real",
    districts=("D1", "D2"),
    name: str = "地震後の安否確認",
    coordinators: tuple[str, ...] = (),
) -> dict:
    """An operation over the world's districts, started through the API by a signed-in staff client
    (`coordinators`: roles of the world's accounts named its coordinators)."""
    r = await staff.send_json(
        "POST",
        "/api/operations",
        {
            "kind": kind,
            "mode": mode,
            "name": name,
            "start": True,
            "district_ids": [str(world.districts[d]) for d in districts],
            **({"coordinator_ids": [str(world.accounts[c].user_id) for c in coordinators]} if coordinators else {}),
        },
    )
    assert r.status_code == 201, r.text
    return r.json()


async def start_operation(client_factory, world: World, **options: Any) -> dict:
    """The same, by a staff member signed in for it."""
    return await start_operation_as(await signed_in(client_factory, world, "staff"), world, **options)


def visit_body(world: World, household: str, outcome: str, at: datetime | None = None, **extra) -> dict:
    return {
        "client_id": str(uuid7()),
        "household_id": str(world.households[household]),
        "outcome": outcome,
        "device_time": (at or datetime.now(UTC)).isoformat(),
        **extra,
    }


async def many_households(sessionmaker: Any, world: World, n: int) -> list[uuid.UUID]:
    """`n` households in D1, placed in a small grid, for tests that need many targets."""
    ids = [uuid.uuid4() for _ in range(n)]
    with as_tenant(world.tenant_id, role="system"):
        async with sessionmaker() as db, db.begin():
            db.add_all(
                [
                    Household(
                        tenant_id=world.tenant_id,
                        id=hid,
                        address=f"茨城県笠間市テスト町{i}",
                        district_id=world.districts["D1"],
                        location=f"SRID=4326;POINT({140.205 + i * 0.0005} {36.355 + (i % 7) * 0.0005})",
                    )
                    for i, hid in enumerate(ids)
                ]
            )
    return ids
