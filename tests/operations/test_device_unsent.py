"""Devices report what they still hold per operation; staff closing an operation see who (#17).
World: tests/helpers/world.py."""

from __future__ import annotations

import uuid

import pytest

from tests.helpers.operations import start_operation
from tests.helpers.world import World, new_world, signed_in


@pytest.fixture
async def world(sessionmaker) -> World:
    return await new_world(sessionmaker)


async def _operation(client_factory, world: World) -> dict:
    return await start_operation(client_factory, world, mode="drill", name="訓練", districts=("D1",))


async def test_staff_see_which_devices_still_hold_records_before_closing(world: World, client_factory) -> None:
    op = await _operation(client_factory, world)
    url = f"/api/operations/{op['id']}/unsent-devices"
    staff = await signed_in(client_factory, world, "staff")
    assert (await staff.get(url)).json() == []

    watcher = await signed_in(client_factory, world, "watcher")
    r = await watcher.send_json(
        "PUT", "/api/devices/unsent", {"operations": [{"operation_id": op["id"], "waiting": 2, "refused": 1}]}
    )
    assert r.status_code == 200, r.text
    got = (await staff.get(url)).json()
    assert [(d["user_id"], d["display_name"], d["waiting"], d["refused"]) for d in got] == [
        (str(world.accounts["watcher"].user_id), "テスト watcher", 2, 1)
    ]

    # A newer report replaces the older one; an empty one says the device holds nothing now.
    await watcher.send_json(
        "PUT", "/api/devices/unsent", {"operations": [{"operation_id": op["id"], "waiting": 0, "refused": 1}]}
    )
    assert [(d["waiting"], d["refused"]) for d in (await staff.get(url)).json()] == [(0, 1)]
    await watcher.send_json("PUT", "/api/devices/unsent", {"operations": []})
    assert (await staff.get(url)).json() == []

    # Only staff ask (they close operations); field users only report about themselves.
    assert (await watcher.get(url)).status_code == 403


async def test_bad_reports_are_refused_whole(world: World, client_factory) -> None:
    op = await _operation(client_factory, world)
    watcher = await signed_in(client_factory, world, "watcher")
    await watcher.send_json(
        "PUT", "/api/devices/unsent", {"operations": [{"operation_id": op["id"], "waiting": 3, "refused": 0}]}
    )
    bad = await watcher.send_json(
        "PUT",
        "/api/devices/unsent",
        {
            "operations": [
                {"operation_id": op["id"], "waiting": 0, "refused": 0},
                {"operation_id": str(uuid.uuid4()), "waiting": 1, "refused": 0},
            ]
        },
    )
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "operations[1].operation_id"
    negative = await watcher.send_json(
        "PUT", "/api/devices/unsent", {"operations": [{"operation_id": op["id"], "waiting": -1, "refused": 0}]}
    )
    assert negative.status_code == 400
    staff = await signed_in(client_factory, world, "staff")
    # Nothing half-written: the earlier report stands.
    assert [d["waiting"] for d in (await staff.get(f"/api/operations/{op['id']}/unsent-devices")).json()] == [3]
