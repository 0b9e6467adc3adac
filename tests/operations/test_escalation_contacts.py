"""Escalation cards say who they are about (#17): the household's address and the names and phones
of the people the viewer may see, on the console queue and on the 民生委員's `/api/escalations`,
never more than the disclosure rule allows. World: tests/helpers/world.py."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from server.db.base import uuid7
from server.registry.models import Person
from tests.conftest import as_tenant
from tests.helpers.operations import start_operation_as
from tests.helpers.world import World, new_world, signed_in


@pytest.fixture
async def world(sessionmaker) -> World:
    return await new_world(sessionmaker)


async def _rescue_at(client_factory, world: World, household: str) -> dict:
    staff = await signed_in(client_factory, world, "staff")
    op = await start_operation_as(staff, world, coordinators=("coordinator",))
    v = await staff.send_json(
        "POST",
        f"/api/operations/{op['id']}/visits",
        {
            "client_id": str(uuid7()),
            "household_id": str(world.households[household]),
            "outcome": "rescue",
            "device_time": datetime.now(UTC).isoformat(),
        },
    )
    assert v.status_code == 201, v.text
    return op


async def test_cards_name_the_visible_people_and_the_address(world: World, client_factory, sessionmaker) -> None:
    # A second person in H1 who gave no consent: the household is visible (P1 consented), she is not.
    with as_tenant(world.tenant_id):
        async with sessionmaker() as db, db.begin():
            db.add(
                Person(
                    tenant_id=world.tenant_id,
                    id=uuid.uuid4(),
                    household_id=world.households["H1"],
                    name="非同意 花子",
                    kana="ヒドウイ ハナコ",
                    phone="0296-00-9999",
                )
            )
    op = await _rescue_at(client_factory, world, "H1")
    want_people = [{"name": "試験 H1太郎", "phone": "0296-72-0000"}]

    coord = await signed_in(client_factory, world, "coordinator")
    queue = (await coord.get(f"/api/console/operations/{op['id']}/escalations")).json()
    assert len(queue) == 1
    assert queue[0]["address"] == "茨城県笠間市テスト町H1" and queue[0]["people"] == want_people

    comm = await signed_in(client_factory, world, "commissioner")  # the district's 民生委員 (D1)
    mine = (await comm.get(f"/api/escalations?operation_id={op['id']}&status=open")).json()
    assert len(mine) == 1 and mine[0]["address"] == "茨城県笠間市テスト町H1" and mine[0]["people"] == want_people
    ack = await comm.send_json("POST", f"/api/escalations/{mine[0]['id']}/acknowledge", {})
    assert ack.status_code == 200 and ack.json()["people"] == want_people

    staff = await signed_in(client_factory, world, "staff")  # registry keepers see everyone
    names = {p["name"] for p in (await staff.get(f"/api/escalations?operation_id={op['id']}")).json()[0]["people"]}
    assert names == {"試験 H1太郎", "非同意 花子"}
