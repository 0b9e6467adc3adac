"""The live feed: SSE from the durable event table, resumable with Last-Event-ID, filtered per viewer."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime

import pytest

from server.db.base import uuid7
from tests.helpers.operations import start_operation_as
from tests.helpers.world import World, new_world, signed_in


@pytest.fixture
async def world(sessionmaker) -> World:
    return await new_world(sessionmaker)


async def _read_events(response, want: int, timeout: float = 10.0) -> list[dict]:
    """Parse SSE frames until `want` events (not comments) arrived."""
    events: list[dict] = []
    current: dict = {}
    lines = response.aiter_lines()

    async def collect() -> None:
        nonlocal current
        async for line in lines:
            if line == "":
                if "data" in current:
                    events.append(current)
                    if len(events) >= want:
                        return
                current = {}
            elif line.startswith(":"):
                continue
            else:
                key, _, value = line.partition(":")
                current[key] = value.lstrip(" ")

    await asyncio.wait_for(collect(), timeout)
    return events


def _visit(world: World, household: str, outcome: str) -> dict:
    return {
        "client_id": str(uuid7()),
        "household_id": str(world.households[household]),
        "outcome": outcome,
        "device_time": datetime.now(UTC).isoformat(),
    }


async def test_a_reconnecting_client_gets_every_missed_event_exactly_once(world: World, live_client_factory) -> None:
    staff = await signed_in(live_client_factory, world, "staff")
    op = await start_operation_as(staff, world, name="SSEテスト", districts=("D1",))
    coordinator = await signed_in(live_client_factory, world, "coordinator")
    url = f"/api/events?operation_id={op['id']}"
    async with coordinator.stream("GET", url) as resp:
        assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/event-stream")
        await staff.send_json("POST", f"/api/operations/{op['id']}/visits", _visit(world, "H1", "safe"))
        first = await _read_events(resp, 2)  # visit.recorded + target.status
    kinds = [e["event"] for e in first]
    assert kinds == ["visit.recorded", "target.status"]
    last_id = first[-1]["id"]
    # While the coordinator is away: two more visits (one urgent, which also escalates).
    await staff.send_json("POST", f"/api/operations/{op['id']}/visits", _visit(world, "H1", "injured"))
    await staff.send_json("POST", f"/api/operations/{op['id']}/visits", _visit(world, "H2", "safe"))  # hidden from them
    await staff.send_json("POST", f"/api/operations/{op['id']}/visits", _visit(world, "H1", "safe"))
    async with coordinator.stream("GET", url, headers={"Last-Event-ID": last_id}) as resp:
        missed = await _read_events(resp, 5)
    ids = [int(e["id"]) for e in missed]
    assert ids == sorted(ids) and len(set(ids)) == len(ids) and min(ids) > int(last_id)
    assert [e["event"] for e in missed] == [
        "visit.recorded",
        "target.status",
        "escalation.created",
        "visit.recorded",
        "target.status",
    ]
    payloads = [json.loads(e["data"]) for e in missed]
    assert [p.get("outcome") for p in payloads if p["kind"] == "visit.recorded"] == ["injured", "safe"]
    assert {p["household_id"] for p in payloads} == {str(world.households["H1"])}  # H2 gave no consent


async def test_events_are_filtered_to_what_the_viewer_may_see(world: World, live_client_factory) -> None:
    staff = await signed_in(live_client_factory, world, "staff")
    op = await start_operation_as(staff, world, mode="drill", name="訓練")
    # H3 (D2) is outside the commissioner's scope; H1 is inside and consented.
    await staff.send_json("POST", f"/api/operations/{op['id']}/visits", _visit(world, "H3", "rescue"))
    await staff.send_json("POST", f"/api/operations/{op['id']}/visits", _visit(world, "H1", "safe"))
    commissioner = await signed_in(live_client_factory, world, "commissioner")
    async with commissioner.stream("GET", f"/api/events?operation_id={op['id']}&last_event_id=0") as resp:
        seen = await _read_events(resp, 3)  # operation.started, then H1's visit.recorded and target.status
    payloads = [json.loads(e["data"]) for e in seen]
    assert payloads[0]["kind"] == "operation.started" and payloads[0]["name"].startswith("【訓練】")
    assert {p["household_id"] for p in payloads[1:]} == {str(world.households["H1"])}
    assert all(p["drill"] is True for p in payloads)
    vc = await signed_in(live_client_factory, world, "vc_volunteer")
    assert (await vc.get("/api/events")).status_code == 403


async def test_event_ids_commit_in_order_within_a_tenant(world: World, sessionmaker) -> None:
    """Streams resume from `id > last_event_id`, so a transaction that commits later must never
    hold a lower id than one already visible: the earlier-started but later-committed event gets
    the higher id, and a second writer waits for the first one's commit."""
    from sqlalchemy import text

    from server.events.emit import emit
    from tests.conftest import as_tenant

    with as_tenant(world.tenant_id):
        async with sessionmaker() as slow, sessionmaker() as fast:
            await slow.begin()
            await emit(slow, "test.order", {"who": "slow"})  # queued first ...
            await fast.begin()
            await emit(fast, "test.order", {"who": "fast"})
            await fast.commit()  # ... but committed second
            await slow.commit()
        async with sessionmaker() as db:
            rows = (
                (
                    await db.execute(
                        text(
                            "SELECT payload->>'who' FROM event WHERE tenant_id = :t AND kind = 'test.order' ORDER BY id"
                        ),
                        {"t": world.tenant_id},
                    )
                )
                .scalars()
                .all()
            )
    assert rows == ["fast", "slow"]

    # While one writer is committing its events, another writer of the same tenant waits for it.
    with as_tenant(world.tenant_id):
        async with sessionmaker() as holder, sessionmaker() as other:
            await holder.begin()
            await holder.execute(
                text("SELECT pg_advisory_xact_lock(hashtextextended('tonari_events:' || :t, 0))"),
                {"t": str(world.tenant_id)},
            )
            await other.begin()
            await emit(other, "test.order", {"who": "blocked"})
            commit = asyncio.create_task(other.commit())
            await asyncio.sleep(0.3)
            assert not commit.done()  # waiting for the lock, so it cannot overtake
            await holder.commit()
            await asyncio.wait_for(commit, 5)


async def test_a_rolled_back_transaction_writes_no_events(world: World, sessionmaker) -> None:
    from sqlalchemy import text

    from server.events.emit import emit
    from tests.conftest import as_tenant

    with as_tenant(world.tenant_id):
        async with sessionmaker() as db:
            await db.begin()
            await emit(db, "test.rollback", {})
            await db.rollback()
            await db.begin()
            await db.commit()  # a later commit of the same session must not resurrect them
        async with sessionmaker() as db:
            n = (
                await db.execute(
                    text("SELECT count(*) FROM event WHERE tenant_id = :t AND kind = 'test.rollback'"),
                    {"t": world.tenant_id},
                )
            ).scalar()
    assert n == 0
