"""Size caps on free texts and emergency contacts (#14 item 9): in the body types, in the columns,
and a database holding longer rows from before the caps still migrates without losing them."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from server.core.errors import problem_for_db_error
from tests.conftest import as_tenant
from tests.helpers.world import World, new_world, signed_in


@pytest.fixture
async def world(sessionmaker) -> World:
    return await new_world(sessionmaker)


def _fields(r) -> dict[str, str]:
    assert r.status_code == 400, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    return {e["field"]: e["code"] for e in r.json()["errors"]}


async def test_notes_and_emergency_contacts_are_capped_in_the_bodies(world, client_factory) -> None:
    staff = await signed_in(client_factory, world, "staff")
    hid = world.households["H1"]
    r = await staff.send_json("PATCH", f"/api/households/{hid}", {"version": 1, "notes": "メ" * 2001})
    assert _fields(r) == {"notes": "too_long"}
    contact = {"name": "見本 一郎", "phone": "090-1234-5678"}
    person = {"name": "試験 次郎", "emergency_contacts": [contact] * 11}
    assert _fields(await staff.send_json("POST", f"/api/households/{hid}/people", person)) == {
        "emergency_contacts": "too_long"
    }
    person = {"name": "試験 次郎", "communication_needs": "筆" * 501}
    assert _fields(await staff.send_json("POST", f"/api/households/{hid}/people", person)) == {
        "communication_needs": "too_long"
    }
    shelter = {"kind": "designated", "name": "公民館", "lon": 140.22, "lat": 36.36, "note": "備" * 2001}
    assert _fields(await staff.send_json("POST", "/api/shelters", shelter)) == {"note": "too_long"}
    # At the cap is fine.
    r = await staff.send_json("PATCH", f"/api/households/{hid}", {"version": 1, "notes": "メ" * 2000})
    assert r.status_code == 200, r.text


async def test_the_columns_refuse_what_the_bodies_would(world, sessionmaker) -> None:
    """Every other writer (an import, a script) meets the same caps, as a field a person can fix."""
    cases = [
        ("UPDATE household SET notes = repeat('x', 2001) WHERE tenant_id = :t", "notes"),
        (
            "UPDATE person SET emergency_contacts = (SELECT jsonb_agg('{}'::jsonb) FROM generate_series(1, 11))"
            " WHERE tenant_id = :t",
            "emergency_contacts",
        ),
        ("UPDATE person SET communication_needs = repeat('x', 501) WHERE tenant_id = :t", "communication_needs"),
    ]
    for sql, field in cases:
        with as_tenant(world.tenant_id):
            async with sessionmaker() as db:
                with pytest.raises(DBAPIError) as caught:
                    await db.execute(text(sql), {"t": world.tenant_id})
        problem = problem_for_db_error(caught.value)
        assert problem is not None and problem.http_status == 400
        assert [(e.field, e.code) for e in problem.errors] == [(field, "invalid")]


async def test_escalation_notes_stop_at_their_cap_instead_of_growing(world, client_factory, sessionmaker) -> None:
    staff = await signed_in(client_factory, world, "staff")
    r = await staff.send_json(
        "POST",
        "/api/operations",
        {
            "kind": "watch_round",
            "mode": "drill",
            "name": "訓練",
            "district_ids": [str(world.districts["D1"])],
            "start": True,
        },
    )
    op = r.json()["id"]
    visit = {
        "client_id": str(uuid.uuid4()),
        "household_id": str(world.households["H1"]),
        "outcome": "emergency",
        "device_time": datetime.now(UTC).isoformat(),
    }
    assert (await staff.send_json("POST", f"/api/operations/{op}/visits", visit)).status_code == 201
    esc = (await staff.get("/api/escalations", params={"operation_id": op})).json()[0]
    with as_tenant(world.tenant_id):
        async with sessionmaker() as db, db.begin():
            await db.execute(
                text("UPDATE escalation SET notes = repeat('x', 19999) WHERE tenant_id = :t AND id = :e"),
                {"t": world.tenant_id, "e": esc["id"]},
            )
    r = await staff.send_json("POST", f"/api/escalations/{esc['id']}/acknowledge", {"note": "確認しました"})
    assert _fields(r) == {"note": "too_long"}
    after = (await staff.get("/api/escalations", params={"operation_id": op})).json()[0]
    assert after["status"] == "open" and len(after["notes"]) == 19999  # nothing half-written
    assert (await staff.send_json("POST", f"/api/escalations/{esc['id']}/acknowledge", {})).status_code == 200


def test_a_database_with_longer_old_notes_still_migrates_and_keeps_them(databases) -> None:
    from server.db.migrate import upgrade
    from tests.conftest import asyncpg_dsn

    url = databases.make("caps")
    upgrade(url, "0010")
    tenant, household = uuid.uuid4(), uuid.uuid4()

    async def run(statements: list[str]) -> list[asyncpg.Record]:
        conn = await asyncpg.connect(asyncpg_dsn(url))
        try:
            async with conn.transaction():
                await conn.execute(
                    f"SELECT set_config('tonari.tenant_id', '{tenant}', true),"
                    " set_config('tonari.role', 'system', true)"
                )
                out: list[asyncpg.Record] = []
                for sql in statements:
                    out = await conn.fetch(sql)
                return out
        finally:
            await conn.close()

    asyncio.run(
        run(
            [
                f"INSERT INTO tenant (id, name, municipality_code) VALUES ('{tenant}', '旧データ社協', '99777')",
                f"INSERT INTO household (tenant_id, id, address, location, notes) VALUES ('{tenant}', '{household}', '笠間市1',"
                " ST_SetSRID(ST_MakePoint(140.2, 36.3), 4326), repeat('古', 3000))",
            ]
        )
    )
    upgrade(url)
    rows = asyncio.run(
        run(
            [
                "SELECT conname, convalidated FROM pg_constraint WHERE conname IN"
                " ('ck_household_notes_length', 'ck_person_notes_length')",
            ]
        )
    )
    assert {r["conname"]: r["convalidated"] for r in rows} == {
        "ck_household_notes_length": False,
        "ck_person_notes_length": True,
    }
    kept = asyncio.run(run([f"SELECT char_length(notes) AS n FROM household WHERE id = '{household}'"]))
    assert kept[0]["n"] == 3000
    with pytest.raises(asyncpg.CheckViolationError):
        asyncio.run(run([f"UPDATE household SET notes = repeat('新', 2001) WHERE id = '{household}'"]))
