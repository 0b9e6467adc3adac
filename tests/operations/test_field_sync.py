"""The field write path as phones really use it (issue #16): a fast clock never outranks a later
report, and concurrent pushes over the same households never deadlock.

World: tests/helpers/world.py (the watcher is assigned to H1 and H2)."""

from __future__ import annotations

import asyncio
import json
import random
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from server.db.base import uuid7
from tests.conftest import as_tenant
from tests.helpers.operations import many_households, start_operation
from tests.helpers.wait import until
from tests.helpers.world import World, new_world, signed_in


@pytest.fixture
async def world(sessionmaker) -> World:
    return await new_world(sessionmaker)


async def _operation(client_factory, world: World) -> dict:
    return await start_operation(client_factory, world)


def _visit(household_id: uuid.UUID, outcome: str, at: datetime) -> dict:
    return {
        "client_id": str(uuid7()),
        "household_id": str(household_id),
        "outcome": outcome,
        "device_time": at.isoformat(),
        **({"shelter_unknown": True} if outcome == "evacuated" else {}),
    }


async def _status(sessionmaker, world: World, op: dict, household: str) -> tuple[str, datetime | None]:
    with as_tenant(world.tenant_id):
        async with sessionmaker() as db:
            row = (
                await db.execute(
                    text(
                        "SELECT status, status_device_time FROM operation_target WHERE tenant_id = :t AND operation_id = :o"
                        " AND household_id = :h"
                    ),
                    {"t": world.tenant_id, "o": op["id"], "h": world.households[household]},
                )
            ).one()
    return row.status, row.status_device_time


async def test_a_phone_whose_clock_is_an_hour_fast_does_not_outrank_a_later_report(
    world: World, client_factory, sessionmaker
) -> None:
    op = await _operation(client_factory, world)
    fast, correct = (
        (await signed_in(client_factory, world, "watcher")),
        (await signed_in(client_factory, world, "staff")),
    )
    url = f"/api/operations/{op['id']}/visits"
    # The fast phone reports 無事 first (its clock says 55 minutes from now) …
    r = await fast.send_json(
        "POST", url, _visit(world.households["H1"], "safe", datetime.now(UTC) + timedelta(minutes=55))
    )
    assert r.status_code == 201, r.text
    raw = r.json()["device_time"]
    # … then a correct phone reports 要救助: it happened later, so it is the household's status.
    r = await correct.send_json("POST", url, _visit(world.households["H1"], "rescue", datetime.now(UTC)))
    assert r.status_code == 201, r.text
    status, _at = await _status(sessionmaker, world, op, "H1")
    assert status == "rescue"
    # The fast phone's own time is kept on its visit, for the record.
    assert datetime.fromisoformat(raw) > datetime.now(UTC) + timedelta(minutes=50)
    # A later reassuring report from the fast phone (its time clamped to receipt) cannot hide 要救助 …
    r = await fast.send_json(
        "POST", url, _visit(world.households["H1"], "safe", datetime.now(UTC) + timedelta(minutes=55))
    )
    assert r.status_code == 201, r.text
    assert (await _status(sessionmaker, world, op, "H1"))[0] == "rescue"
    # … but one from a phone whose time can be trusted clears it.
    r = await correct.send_json("POST", url, _visit(world.households["H1"], "safe", datetime.now(UTC)))
    assert r.status_code == 201, r.text
    assert (await _status(sessionmaker, world, op, "H1"))[0] == "safe"


async def test_concurrent_pushes_over_the_same_households_never_deadlock(
    world: World, client_factory, sessionmaker
) -> None:
    """A reconnect storm: many phones push queues that touch the same households in different orders,
    all at once. Every push is answered 200 and every visit stored (the status updates lock the
    targets in one global order)."""
    households = await many_households(sessionmaker, world, 40)
    op = await _operation(client_factory, world)
    staff_clients = [await signed_in(client_factory, world, "staff") for _ in range(12)]
    rng = random.Random(16)
    pushes = []
    for _ in staff_clients:
        order = households[:]
        rng.shuffle(order)
        at = datetime.now(UTC)
        pushes.append(
            [
                {
                    "type": "visit",
                    "operation_id": op["id"],
                    **_visit(hid, rng.choice(["safe", "injured"]), at - timedelta(seconds=i)),
                }
                for i, hid in enumerate(order)
            ]
        )
    responses = await asyncio.gather(
        *[c.send_json("POST", "/api/sync/push", {"mutations": m}) for c, m in zip(staff_clients, pushes, strict=True)]
    )
    assert [r.status_code for r in responses] == [200] * len(pushes), [
        r.text[:300] for r in responses if r.status_code != 200
    ]
    assert all(item["status"] == "accepted" for r in responses for item in r.json()["results"])
    with as_tenant(world.tenant_id):
        async with sessionmaker() as db:
            stored = (
                await db.execute(
                    text("SELECT count(*) FROM visit WHERE tenant_id = :t AND operation_id = :o"),
                    {"t": world.tenant_id, "o": op["id"]},
                )
            ).scalar_one()
    assert stored == sum(len(m) for m in pushes)


async def test_one_bad_item_never_fails_the_others(world: World, client_factory, sessionmaker) -> None:
    """Whatever an item holds — NUL, a lone surrogate, a year-1 clock with an offset, null, a
    number, a string — it is answered `invalid` with a code, and every good item of the push is stored."""
    op = await _operation(client_factory, world)
    watcher = await signed_in(client_factory, world, "watcher")
    now = datetime.now(UTC)

    def item(**over: object) -> dict:
        return {"type": "visit", "operation_id": op["id"], **_visit(world.households["H1"], "safe", now), **over}

    good = [item(), item(note="玄関で確認")]
    body = (
        '{"mutations": ['
        + ", ".join(
            [
                json.dumps(good[0], ensure_ascii=False),
                json.dumps(item(note="NUL\u0000here")),  # escaped as \\u0000
                json.dumps(item(note="lone \ud800 surrogate")),  # escaped as \\ud800
                json.dumps(item(device_time="0001-01-01T00:00:00+09:00")),
                "null",
                "42",
                '"visit"',
                json.dumps(good[1], ensure_ascii=False),
            ]
        )
        + "]}"
    )
    r = await watcher.post(
        "/api/sync/push",
        content=body.encode(),
        headers={"Content-Type": "application/json", "X-CSRF-Token": await watcher.ensure_csrf()},
    )
    assert r.status_code == 200, r.text
    results = r.json()["results"]
    assert [x["status"] for x in results] == [
        "accepted",
        "invalid",
        "invalid",
        "invalid",
        "invalid",
        "invalid",
        "invalid",
        "accepted",
    ]
    assert [x.get("code") for x in results[1:4]] == ["invalid_character", "invalid_character", "bad_device_time"]
    assert all(x["message"]["ja"] and x["message"]["en"] for x in results[1:7])
    with as_tenant(world.tenant_id):
        async with sessionmaker() as db:
            stored = {
                str(r[0])
                for r in await db.execute(
                    text("SELECT client_id FROM visit WHERE tenant_id = :t AND operation_id = :o"),
                    {"t": world.tenant_id, "o": op["id"]},
                )
            }
    assert stored == {g["client_id"] for g in good}


async def _pull_all(client, cursor: str | None = None) -> tuple[list[dict], str, int]:
    """Pull until `more` is false: every assignment seen, the last cursor, the number of pulls."""
    seen: list[dict] = []
    pulls = 0
    while True:
        r = await client.get("/api/sync/pull", params={"cursor": cursor} if cursor else {})
        assert r.status_code == 200, r.text
        page = r.json()
        pulls += 1
        seen.extend(page["assignments"])
        cursor = page["cursor"]
        if not page["more"]:
            return seen, cursor, pulls


async def test_pull_pages_a_large_round_and_never_skips_a_late_commit(
    world: World, client_factory, sessionmaker
) -> None:
    """2,500 targets arrive in pages (more: true until the last); a change whose transaction
    committed after a pull, a minute after it was made (far past any time overlap), still arrives."""
    from server.operations import pull

    households = await many_households(sessionmaker, world, 2500)
    op = await _operation(client_factory, world)
    staff = await signed_in(client_factory, world, "staff")
    seen, cursor, pulls = await _pull_all(staff)
    mine = {a["household_id"] for a in seen if a["operation_id"] == op["id"]}
    assert mine == {str(h) for h in households} | {str(world.households[k]) for k in ("H1", "H2", "H3", "H4")}
    assert pulls >= 3  # 2,504 targets at ASSIGNMENTS_PER_PAGE a page
    assert pull.ASSIGNMENTS_PER_PAGE < 2504
    # A slow transaction: a phone's upload changes a status, then stalls; its change is stamped a
    # minute ago (as a statement run a minute before its commit would be) …
    target = households[7]
    with as_tenant(world.tenant_id, user_id=world.accounts["staff"].user_id, role="staff"):
        async with sessionmaker() as db:
            from server.events.emit import emit

            await db.execute(
                text(
                    "UPDATE operation_target SET status = 'rescue', updated_at = now() - interval '1 minute'"
                    " WHERE tenant_id = :t AND operation_id = :o AND household_id = :h"
                ),
                {"t": world.tenant_id, "o": op["id"], "h": target},
            )
            await emit(
                db,
                "target.status",
                {"status": "rescue"},
                operation_id=uuid.UUID(op["id"]),
                household_id=target,
                mode="real",
            )
            # … meanwhile another visit commits and the device pulls it …
            other = await signed_in(client_factory, world, "staff")
            r = await other.send_json(
                "POST", f"/api/operations/{op['id']}/visits", _visit(households[1], "safe", datetime.now(UTC))
            )
            assert r.status_code == 201
            meanwhile, cursor, _ = await _pull_all(staff, cursor)
            assert {a["household_id"] for a in meanwhile} == {str(households[1])}
            await db.commit()  # … and the slow upload commits after that pull
    later, cursor, _ = await _pull_all(staff, cursor)
    assert {(a["household_id"], a["status"]) for a in later} == {(str(target), "rescue")}
    # a cursor from before event cursors starts over; a made-up one is refused
    again, _, _ = await _pull_all(staff, datetime.now(UTC).isoformat())
    assert len({a["household_id"] for a in again if a["operation_id"] == op["id"]}) == 2504
    assert (await staff.get("/api/sync/pull", params={"cursor": "yesterday"})).status_code == 400


async def _counts(sessionmaker, world: World, op: dict, sql: str) -> int:
    with as_tenant(world.tenant_id):
        async with sessionmaker() as db:
            return int((await db.execute(text(sql), {"t": world.tenant_id, "o": op["id"]})).scalar_one())


async def test_pushes_share_the_group_commit_and_a_large_push_is_a_flush_of_its_own(
    world: World, client_factory, sessionmaker, app
) -> None:
    """Item 1: the PWA's path (`POST /api/sync/push`) goes through the process's group commit.
    Small pushes and single visits queued together commit in one transaction, each answered with its
    own results; a 1,000-item push is a flush of its own. Every guarantee holds: the results of each
    request, the status, the escalation of a 要救助, the audit rows and events, and a repeat answers
    `duplicate` with the original visit (same content) or `conflict` (different content)."""
    from server.services import services

    households = await many_households(sessionmaker, world, 1010)
    op = await _operation(client_factory, world)
    batcher = services(app).visit_batcher
    clients = [await signed_in(client_factory, world, "staff") for _ in range(7)]
    now = datetime.now(UTC)
    small = [
        [
            {"type": "visit", "operation_id": op["id"], **_visit(hid, "safe", now)}
            for hid in households[i * 5 : i * 5 + n]
        ]
        for i, n in enumerate([1, 1, 5, 3, 1])
    ]
    small[2][0] = {"type": "visit", "operation_id": op["id"], **_visit(households[10], "rescue", now)}
    large = [{"type": "visit", "operation_id": op["id"], **_visit(hid, "safe", now)} for hid in households[10:1010]]
    large[0] = {"type": "visit", "operation_id": op["id"], **_visit(households[1009], "injured", now)}  # one later …
    single = _visit(world.households["H1"], "safe", now)
    flushes = batcher.flushes
    batcher.set_inflight(0)  # hold every request in the queue until all are there
    try:
        tasks = [
            asyncio.ensure_future(c.send_json("POST", "/api/sync/push", {"mutations": m}))
            for c, m in zip(clients, small, strict=False)
        ]
        tasks.append(asyncio.ensure_future(clients[5].send_json("POST", f"/api/operations/{op['id']}/visits", single)))
        await until(lambda: batcher.queued == len(tasks))  # the app's own signal: all wait for a flush
        tasks.append(asyncio.ensure_future(clients[6].send_json("POST", "/api/sync/push", {"mutations": large})))
        await until(lambda: batcher.queued == len(tasks))
    finally:
        batcher.set_inflight(batcher.MAX_INFLIGHT)
    answers = await asyncio.gather(*tasks)
    assert [a.status_code for a in answers] == [200] * len(small) + [201, 200], [a.text[:200] for a in answers]
    # Two transactions: the six small requests together, the large push alone.
    assert batcher.flushes - flushes == 2
    assert batcher.largest_group >= 6 and batcher.largest_batch >= 1000
    for a, m in zip(answers, [*small, None, large], strict=True):
        if m is None:
            continue
        results = a.json()["results"]
        assert [r["client_id"] for r in results] == [x["client_id"] for x in m]
        assert {r["status"] for r in results} == {"accepted"}, a.text[:300]
        assert a.json()["counts"] == {"accepted": len(m)}
    stored = await _counts(
        sessionmaker, world, op, "SELECT count(*) FROM visit WHERE tenant_id = :t AND operation_id = :o"
    )
    assert stored == sum(len(m) for m in small) + 1 + len(large)
    audited = await _counts(
        sessionmaker,
        world,
        op,
        "SELECT coalesce(sum(cardinality(object_ids)), 0) FROM audit_log"
        " WHERE tenant_id = :t AND operation_id = :o AND action = 'visit.create'",
    )
    assert audited == stored
    events = await _counts(
        sessionmaker,
        world,
        op,
        "SELECT count(*) FROM event WHERE tenant_id = :t AND operation_id = :o AND kind = 'visit.recorded'",
    )
    assert events == stored
    escalations = await _counts(
        sessionmaker, world, op, "SELECT count(*) FROM escalation WHERE tenant_id = :t AND operation_id = :o"
    )
    assert escalations == 2  # the 要救助 of a grouped push and the 負傷 of the large one
    with as_tenant(world.tenant_id):
        async with sessionmaker() as db:
            status = (
                await db.execute(
                    text(
                        "SELECT status FROM operation_target WHERE tenant_id = :t"
                        " AND operation_id = :o AND household_id = :h"
                    ),
                    {"t": world.tenant_id, "o": op["id"], "h": households[10]},
                )
            ).scalar_one()
    assert status == "rescue"
    # A phone that lost the answer sends the same push again: the original visits come back.
    again = await clients[2].send_json("POST", "/api/sync/push", {"mutations": small[2]})
    assert again.status_code == 200
    first = {r["client_id"]: r["visit"]["id"] for r in answers[2].json()["results"]}
    assert [r["status"] for r in again.json()["results"]] == ["duplicate"] * len(small[2])
    assert {r["client_id"]: r["visit"]["id"] for r in again.json()["results"]} == first
    # The same client id with different content is a conflict, never an overwrite.
    changed = [{**small[0][0], "outcome": "injured"}]
    r = await clients[0].send_json("POST", "/api/sync/push", {"mutations": changed})
    assert [x["status"] for x in r.json()["results"]] == ["conflict"]
    assert r.json()["results"][0]["code"] == "visit_conflict"
