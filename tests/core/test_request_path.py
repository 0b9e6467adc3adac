"""The request path of docs/decisions/0007: authentication in one call inside the request's own
transaction (revocation still immediate), group commit of single visits (each request keeps its
own answer), the tile read audit written by the tile statement, and coalesced NOTIFY after commit."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import UTC, datetime
from typing import cast

import msgspec
import pytest
from sqlalchemy import QueuePool, delete

from server.accounts.models import UserSession
from server.core import context
from server.db.base import uuid7
from server.events.emit import emit
from server.events.hub import EventHub
from server.operations.group_commit import VisitBatcher
from server.operations.schemas import VisitIn
from server.services import services
from tests.conftest import as_tenant
from tests.helpers.db import age_sessions, fetch_rows, last_seen
from tests.helpers.disclosure import tile_of
from tests.helpers.operations import start_operation
from tests.helpers.world import HOUSEHOLD_SPOTS, World, new_world, signed_in


@pytest.fixture
async def world(sessionmaker) -> World:
    return await new_world(sessionmaker)


def _visit(world: World, household: str, outcome: str, **extra) -> dict:
    return {
        "client_id": str(uuid7()),
        "household_id": str(world.households[household]),
        "outcome": outcome,
        "device_time": datetime.now(UTC).isoformat(),
        **extra,
    }


def _ctx(world: World, role: str) -> context.RequestContext:
    acct = world.accounts[role]
    scope = None
    if role == "commissioner":
        scope = frozenset({world.districts["D1"]})
    return context.RequestContext(
        request_id=f"t-{role}",
        tenant_id=world.tenant_id,
        user_id=acct.user_id,
        user_login=acct.login,
        role=role,
        scope=scope,
    )


# --- authentication ------------------------------------------------------------------------------


async def test_a_revoked_session_is_refused_on_the_very_next_request(
    world: World, client_factory, sessionmaker
) -> None:
    first = await signed_in(client_factory, world, "staff")
    second = await signed_in(client_factory, world, "staff")
    assert (await first.get("/api/auth/me")).status_code == 200
    assert (await second.get("/api/auth/me")).status_code == 200
    # Revoked elsewhere (another worker, an admin, a password change): no cache may let it in.
    with as_tenant(world.tenant_id):
        async with sessionmaker() as db, db.begin():
            await db.execute(
                delete(UserSession).where(
                    UserSession.tenant_id == world.tenant_id, UserSession.user_id == world.accounts["staff"].user_id
                )
            )
    for c in (first, second):
        r = await c.get("/api/auth/me")
        assert r.status_code == 401 and r.json()["code"] == "session_expired"
        assert (
            await c.get(f"/api/tiles/households/14/{tile_of(*HOUSEHOLD_SPOTS['H1'], 14)[0]}/0.mvt")
        ).status_code == 401


async def test_signed_in_requests_see_their_own_stamp_and_scope(world: World, client_factory) -> None:
    commissioner = await signed_in(client_factory, world, "commissioner")
    me = (await commissioner.get("/api/auth/me")).json()
    assert me["role"] == "commissioner" and me["district_ids"] == [str(world.districts["D1"])]
    # The scope stamped by the one-call authentication limits what the commissioner sees (D1 only).
    listed = (await commissioner.get("/api/households")).json()
    items = listed["items"] if isinstance(listed, dict) else listed
    assert str(world.households["H3"]) not in {h["id"] for h in items}  # H3 is in D2


# --- group commit --------------------------------------------------------------------------------


async def test_one_flush_answers_each_request_on_its_own(world: World, client_factory, sessionmaker) -> None:
    op = await start_operation(client_factory, world, name="一括コミット")
    op_id = uuid.UUID(op["id"])
    staff = await signed_in(client_factory, world, "staff")
    earlier = _visit(world, "H2", "safe")
    assert (await staff.send_json("POST", f"/api/operations/{op['id']}/visits", earlier)).status_code == 201

    def v(body: dict) -> VisitIn:
        return msgspec.convert(body, VisitIn, strict=False)

    same_id = _visit(world, "H3", "safe")
    entries = [
        ("staff", v(_visit(world, "H1", "safe"))),  # accepted
        ("staff", v(earlier)),  # duplicate of a committed visit
        ("staff", v(dict(earlier, note="違う内容"))),  # conflict with it
        ("watcher", v(_visit(world, "H1", "injured"))),  # accepted (assigned), escalates
        ("watcher", v(_visit(world, "H4", "safe"))),  # not visible to the watcher
        ("vc_volunteer", v(_visit(world, "H1", "safe"))),  # a volunteer sees nobody outside a disaster
        ("staff", v(same_id)),  # accepted …
        ("staff", v(same_id)),  # … and its retry in the same flush
        ("commissioner", v(_visit(world, "H3", "safe"))),  # H3 is outside the scope
        ("staff", v(_visit(world, "H1", "not-an-outcome"))),  # invalid outcome
    ]
    batcher = VisitBatcher(sessionmaker)

    async def submit(role: str, visit: VisitIn):
        context.set_context(_ctx(world, role))
        return await batcher.submit(op_id, visit)

    outcomes = await asyncio.gather(*[submit(role, visit) for role, visit in entries])
    got = [(o.results[0].status, o.results[0].code) for o in outcomes]
    assert got == [
        ("accepted", None),
        ("duplicate", None),
        ("conflict", "visit_conflict"),
        ("accepted", None),
        ("invalid", "not_in_operation"),
        ("invalid", "not_in_operation"),
        ("accepted", None),
        ("duplicate", None),
        ("invalid", "not_in_operation"),
        ("invalid", "invalid_outcome"),
    ]
    assert outcomes[1].results[0].visit.id == uuid.UUID(
        (
            await fetch_rows(
                sessionmaker, world, "SELECT id::text FROM visit WHERE client_id = :c", c=earlier["client_id"]
            )
        )[0][0]
    )
    # Only the urgent visit's request carries its escalation (for its push), raised by its own user.
    assert [len(o.escalations) for o in outcomes] == [0, 0, 0, 1, 0, 0, 0, 0, 0, 0]
    assert outcomes[3].escalations[0].raised_by == world.accounts["watcher"].user_id
    new_ids = [str(entries[i][1].client_id) for i in (0, 3, 6)]
    rows = await fetch_rows(
        sessionmaker,
        world,
        "SELECT count(*), count(DISTINCT xmin::text) FROM visit WHERE client_id = ANY(CAST(:c AS uuid[]))",
        c=new_ids,
    )
    count, transactions = rows[0]
    assert count == 3 and transactions == 1  # three requests, one commit
    users = await fetch_rows(
        sessionmaker,
        world,
        "SELECT client_id::text, user_id FROM visit WHERE client_id = ANY(CAST(:c AS uuid[]))",
        c=new_ids,
    )
    assert dict(users)[new_ids[1]] == world.accounts["watcher"].user_id
    assert dict(users)[new_ids[0]] == world.accounts["staff"].user_id
    status = await fetch_rows(
        sessionmaker,
        world,
        "SELECT status FROM operation_target WHERE operation_id = :o AND household_id = :h",
        o=op["id"],
        h=world.households["H1"],
    )
    assert status[0][0] in ("safe", "injured")


async def test_two_flushes_in_flight_store_every_visit_once_and_never_regress_a_status(
    world: World, client_factory, sessionmaker
) -> None:
    """With two flushes in flight, visits of one household land in different, overlapping
    transactions in any order: each is stored once, and every household ends on its visit with the
    latest device time."""
    import random
    from datetime import timedelta

    op = await start_operation(client_factory, world, name="一括コミット")
    op_id = uuid.UUID(op["id"])
    base = datetime.now(UTC) - timedelta(minutes=30)
    outcomes = ["safe", "injured", "unknown", "rescue"]
    entries = []
    for h in ("H1", "H2", "H3", "H4"):
        for k in range(12):
            body = _visit(world, h, outcomes[(k + len(h)) % len(outcomes)])
            body["device_time"] = (base + timedelta(seconds=k)).isoformat()
            entries.append((h, k, msgspec.convert(body, VisitIn, strict=False)))
    random.Random(8216).shuffle(entries)
    batcher = VisitBatcher(sessionmaker, max_inflight=2)
    batcher.MAX_BATCH = 5  # many small flushes, two at a time

    async def submit(visit: VisitIn):
        context.set_context(_ctx(world, "staff"))
        await asyncio.sleep(0)
        return await batcher.submit(op_id, visit)

    results = await asyncio.gather(*[submit(v) for _, _, v in entries])
    assert [r.results[0].status for r in results] == ["accepted"] * len(entries)
    assert batcher.flushes >= 10 and batcher.largest_batch <= 5
    ids = [str(v.client_id) for _, _, v in entries]
    rows = await fetch_rows(
        sessionmaker,
        world,
        "SELECT count(*), count(DISTINCT client_id), count(DISTINCT xmin::text) FROM visit"
        " WHERE client_id = ANY(CAST(:c AS uuid[]))",
        c=ids,
    )
    assert rows[0][0] == rows[0][1] == len(entries) and rows[0][2] >= 10
    latest = {h: v.outcome for h, k, v in entries if k == 11}
    for h, outcome in latest.items():
        status = await fetch_rows(
            sessionmaker,
            world,
            "SELECT status FROM operation_target WHERE operation_id = :o AND household_id = :h",
            o=op["id"],
            h=world.households[h],
        )
        assert status[0][0] == outcome, (h, status, outcome)


async def test_concurrent_http_posts_of_distinct_visits_are_all_stored(
    world: World, client_factory, sessionmaker
) -> None:
    op = await start_operation(client_factory, world, name="一括コミット")
    staff = await signed_in(client_factory, world, "staff")
    watcher = await signed_in(client_factory, world, "watcher")
    committed = _visit(world, "H2", "safe")
    assert (await staff.send_json("POST", f"/api/operations/{op['id']}/visits", committed)).status_code == 201
    url = f"/api/operations/{op['id']}/visits"
    bodies = [(staff, _visit(world, h, "safe")) for h in ("H1", "H2", "H3", "H4") for _ in range(3)]
    extra = [(staff, committed), (staff, dict(committed, outcome="unknown")), (watcher, _visit(world, "H4", "safe"))]
    responses = await asyncio.gather(*[c.send_json("POST", url, b) for c, b in bodies + extra])
    codes = [r.status_code for r in responses]
    assert codes == [201] * 12 + [200, 409, 404], [r.text for r in responses if r.status_code >= 400]
    assert responses[-2].json()["code"] == "visit_conflict"
    assert responses[-3].json()["client_id"] == committed["client_id"]  # the original record, as a duplicate
    ids = [b["client_id"] for _, b in bodies]
    stored = await fetch_rows(
        sessionmaker, world, "SELECT count(*) FROM visit WHERE client_id = ANY(CAST(:c AS uuid[]))", c=ids
    )
    assert stored[0][0] == 12
    assert {r.json()["client_id"] for r in responses[:12]} == set(ids)


async def test_the_visit_route_authenticates_in_autocommit_and_keeps_the_sliding_deadline(
    world: World, client_factory, sessionmaker
) -> None:
    """The single-visit route authenticates in autocommit mode (one round trip; the batcher writes
    the visit). The session touch made by that call must still be stored."""
    from datetime import timedelta

    op = await start_operation(client_factory, world, name="一括コミット")
    staff = await signed_in(client_factory, world, "staff")
    long_ago = await age_sessions(sessionmaker, world, "staff")
    r = await staff.send_json("POST", f"/api/operations/{op['id']}/visits", _visit(world, "H1", "safe"))
    assert r.status_code == 201, r.text
    assert await last_seen(sessionmaker, world, "staff") > long_ago + timedelta(minutes=30)
    # A signed-out cookie is still refused on that route (the autocommit path finds no session).
    await staff.send_json("POST", "/api/auth/logout")
    r = await staff.send_json("POST", f"/api/operations/{op['id']}/visits", _visit(world, "H2", "safe"))
    assert r.status_code == 401


async def test_requests_survive_pooled_connections_the_database_dropped(
    world: World, client_factory, sessionmaker, app, database_url
) -> None:
    """No pre-ping on the request pools: the authentication call retries once on a fresh connection
    (both the request-session path and the autocommit path of the visit route), and the visit
    batcher retries its visits one by one. A database restart or an idle timeout must cost no request."""
    import asyncpg

    from tests.conftest import drop_dead_connections

    op = await start_operation(client_factory, world, name="一括コミット")
    staff = await signed_in(client_factory, world, "staff")
    url = f"/api/operations/{op['id']}/visits"
    assert (await staff.send_json("POST", url, _visit(world, "H1", "safe"))).status_code == 201
    assert (await staff.get("/api/auth/me")).status_code == 200
    dbname = database_url.rsplit("/", 1)[1].split("?")[0]
    # As the app's own role: a role may end its own backends (the owner may not end the app's).
    admin = await asyncpg.connect(database_url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        killed = await admin.fetchval(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = $1"
            " AND application_name IN ('tonari', 'tonari-batch') AND pid <> pg_backend_pid()",
            dbname,
        )
        assert killed >= 2
        await asyncio.sleep(0.2)
        try:
            r = await staff.send_json("POST", url, _visit(world, "H2", "safe"))  # the autocommit path first
            assert r.status_code == 201, r.text
            killed = await admin.fetchval(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = $1"
                " AND application_name = 'tonari' AND pid <> pg_backend_pid()",
                dbname,
            )
            assert killed >= 1
            await asyncio.sleep(0.2)
            assert (await staff.get("/api/auth/me")).status_code == 200  # then the request-session path
            r = await staff.send_json("POST", url, _visit(world, "H3", "safe"))
            assert r.status_code == 201, r.text
        finally:
            # Whatever is still dead in the pools must not reach the next test's direct sessions.
            await drop_dead_connections(app)
    finally:
        await admin.close()


async def test_a_driver_connection_returned_in_a_transaction_comes_back_rolled_back(app) -> None:
    """The driver pool resets nothing on a connection's return but an open transaction: a path
    that left its own open never hands it (or its stamp) to the next request."""
    pool = services(app).driver_pool
    conn = await pool.acquire()
    await conn.execute("BEGIN")
    await conn.execute("SELECT set_config('tonari.role', 'staff', true)")
    await pool.release(conn)
    again = await pool.acquire()
    try:
        assert not again.is_in_transaction()
        assert await again.fetchval("SELECT current_setting('tonari.role', true)") in (None, "")
        assert await again.fetchval("SELECT current_setting('application_name')") == "tonari"
    finally:
        await pool.release(again)
    assert pool.in_use() == 0


# --- tiles -------------------------------------------------------------------------------------


async def test_tile_requests_end_their_driver_transaction_whatever_the_answer(
    world: World, client_factory, sessionmaker, app
) -> None:
    """Tiles run on a driver transaction (server/db/driver.py) that the auth middleware ends after
    the response: 200, 204, 304, 404 and 403 all return the connection to the pool with no
    transaction left open, and a moved sliding deadline is still stored."""
    from datetime import timedelta

    engine, pool = services(app).engine, services(app).driver_pool
    staff = await signed_in(client_factory, world, "staff")
    volunteer = await signed_in(client_factory, world, "vc_volunteer")
    long_ago = await age_sessions(sessionmaker, world, "staff")
    x, y = tile_of(*HOUSEHOLD_SPOTS["H1"], 14)
    first = await staff.get(f"/api/tiles/households/14/{x}/{y}.mvt")
    assert first.status_code == 200 and first.content
    answers = [
        (
            await staff.get(f"/api/tiles/households/14/{x}/{y}.mvt", headers={"If-None-Match": first.headers["etag"]})
        ).status_code,
        (await staff.get("/api/tiles/households/14/0/0.mvt")).status_code,
        (await staff.get(f"/api/tiles/households/14/{2**14}/0.mvt")).status_code,
        (await staff.get(f"/api/tiles/districts/12/{x // 4}/{y // 4}.mvt")).status_code,
        (await volunteer.get(f"/api/tiles/households/14/{x}/{y}.mvt")).status_code,
    ]
    assert answers == [304, 204, 404, 200, 403]
    assert pool.in_use() == 0 and pool.opened() >= 1  # the tiles did use the driver pool
    assert cast(QueuePool, engine.sync_engine.pool).checkedout() == 0
    idle = await fetch_rows(
        sessionmaker,
        world,
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
        " AND application_name = 'tonari' AND state LIKE 'idle in transaction%'",
    )
    assert idle[0][0] == 0
    assert await last_seen(sessionmaker, world, "staff") > long_ago + timedelta(minutes=30)


async def test_a_tile_with_households_is_audited_by_its_own_statement(
    world: World, client_factory, sessionmaker
) -> None:
    staff = await signed_in(client_factory, world, "staff")
    x, y = tile_of(*HOUSEHOLD_SPOTS["H1"], 14)
    r = await staff.get(f"/api/tiles/households/14/{x}/{y}.mvt", headers={"X-Request-ID": "tile-audit-0001"})
    assert r.status_code == 200
    rows = await fetch_rows(
        sessionmaker,
        world,
        "SELECT action, object_type, object_ids, mode, actor_user_id, actor_login,"
        " details, request_id FROM audit_log WHERE request_id = 'tile-audit-0001'",
    )
    assert len(rows) == 1
    action, otype, ids, mode, actor, login, details, _ = rows[0]
    assert (action, otype, mode) == ("household.read", "household", "normal")
    assert actor == world.accounts["staff"].user_id and login == world.accounts["staff"].login
    assert str(world.households["H1"]) in ids and details == {"via": "tile", "count": len(ids), "tile": f"14/{x}/{y}"}
    # A tile without households writes nothing.
    r = await staff.get("/api/tiles/households/14/0/0.mvt", headers={"X-Request-ID": "tile-audit-0002"})
    assert r.status_code == 204
    assert await fetch_rows(sessionmaker, world, "SELECT 1 FROM audit_log WHERE request_id = 'tile-audit-0002'") == []


# --- NOTIFY after commit -----------------------------------------------------------------------


async def test_listeners_are_woken_after_commit_here_and_in_another_process(
    world: World, app, sessionmaker, settings
) -> None:
    here: EventHub = services(app).event_hub
    elsewhere = EventHub(settings.database_url)  # another worker: only the NOTIFY reaches it
    await elsewhere.start()
    try:
        await asyncio.sleep(0.5)  # its LISTEN is in place
        with as_tenant(world.tenant_id):
            async with sessionmaker() as db:
                await emit(db, "test.rolled_back", {})
                await db.rollback()  # nothing committed: nobody is woken
                assert not await _woken(here, world, 0.3)
                waiters = [
                    asyncio.create_task(_woken(here, world, 5)),
                    asyncio.create_task(_woken(elsewhere, world, 5)),
                ]
                await asyncio.sleep(0.05)
                started = time.perf_counter()
                for i in range(5):  # five commits: coalesced into one wake-up per tenant
                    await emit(db, "test.committed", {"i": i})
                    await db.commit()
        assert await asyncio.gather(*waiters) == [True, True]
        assert time.perf_counter() - started < 3
        last = await fetch_rows(sessionmaker, world, "SELECT count(*) FROM event WHERE kind = 'test.committed'")
        assert last[0][0] == 5
    finally:
        await elsewhere.stop()


async def _woken(hub: EventHub, world: World, timeout: float) -> bool:
    started = time.perf_counter()
    await hub.wait(world.tenant_id, timeout)
    return time.perf_counter() - started < timeout - 0.05
