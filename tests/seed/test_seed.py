"""The Kasama demo seed: tenant 08216, one account per role, stable printed passwords."""

from __future__ import annotations

import asyncio
import json
import stat

import asyncpg

from sqlalchemy import select, text

from seed.demo import DEMO_ACCOUNTS, seed_demo
from server.accounts.models import User
from server.tenancy.models import Tenant
from tests.conftest import asyncpg_dsn, as_app, as_tenant


async def test_demo_seed_is_idempotent_and_keeps_passwords(sessionmaker, tmp_path, client) -> None:
    creds_path = tmp_path / "demo-credentials.json"
    first = await seed_demo(sessionmaker, creds_path)
    second = await seed_demo(sessionmaker, creds_path)
    assert [c.__dict__ for c in first] == [c.__dict__ for c in second]
    assert stat.S_IMODE(creds_path.stat().st_mode) == 0o600
    stored = json.loads(creds_path.read_text())
    assert {r["role"] for r in stored} == {"admin", "staff", "coordinator", "commissioner", "watcher", "vc_volunteer"}
    assert all(set(r) == {"login", "password", "role"} for r in stored)

    async with sessionmaker() as db:
        tenant = (await db.execute(select(Tenant).where(Tenant.municipality_code == "08216"))).scalar_one()
    assert tenant.name == "笠間市社会福祉協議会" and tenant.time_zone == "Asia/Tokyo"
    with as_tenant(tenant.id):
        async with sessionmaker() as db:
            users = (await db.execute(select(User))).scalars().all()
    assert sorted(u.login for u in users) == sorted(login for login, _, _ in DEMO_ACCOUNTS)

    watcher = next(r for r in stored if r["role"] == "watcher")
    resp = await client.login(watcher["login"], watcher["password"])
    assert resp.status_code == 200 and resp.json()["tenant"]["name"] == "笠間市社会福祉協議会"

    # The demo registry: ~2,500 households / ~3,000 people, all placed in a branch district,
    # 30 + 8 real shelters; the demo watcher watches a few households nearby.
    with as_tenant(tenant.id):
        async with sessionmaker() as db:
            counts = dict((await db.execute(text(
                "SELECT 'households', count(*) FROM household UNION ALL SELECT 'people', count(*) FROM person"
                " UNION ALL SELECT 'unplaced', count(*) FROM household WHERE district_id IS NULL"
                " UNION ALL SELECT 'designated', count(*) FROM shelter WHERE kind = 'designated'"
                " UNION ALL SELECT 'emergency', count(*) FROM shelter WHERE kind = 'emergency_site'"
                " UNION ALL SELECT 'branches', count(*) FROM district WHERE level = 'branch'"
                " UNION ALL SELECT 'outside', count(*) FROM household h, tenant t"
                "   WHERE t.id = h.tenant_id AND NOT ST_Covers(t.boundary, h.location)"))).all())
    assert counts["households"] == 2500 and 2800 <= counts["people"] <= 3300
    assert counts["unplaced"] == 0 and counts["outside"] == 0
    assert counts["designated"] == 30 and counts["emergency"] == 8
    assert counts["branches"] >= 10
    mine = (await client.get("/api/households", params={"limit": 50})).json()
    assert 1 <= mine["total"] <= 5  # assigned households that consented to watchers


async def test_demo_seed_without_a_credentials_file_issues_new_passwords(sessionmaker, tmp_path, client_factory) -> None:
    path = tmp_path / "c.json"
    old = {c.login: c.password for c in await seed_demo(sessionmaker, path)}
    path.unlink()
    new = {c.login: c.password for c in await seed_demo(sessionmaker, path)}
    assert all(old[k] != new[k] for k in old)
    assert (await client_factory().login("staff", new["staff"])).status_code == 200
    assert (await client_factory().login("staff", old["staff"])).status_code == 401


def test_the_prefecture_loads_once_into_a_database_of_its_own_and_keeps_its_passwords(
        databases, tmp_path, monkeypatch) -> None:
    """seed/prefecture.py (what the benches run against): migrated as the owner, loaded through the
    app's role, accounts wired as the benches expect; a second run loads nothing and keeps the passwords."""
    from seed import prefecture

    owner = databases.make("prefecture")
    monkeypatch.setenv("TONARI_MIGRATE_DATABASE_URL", owner)
    url, creds = as_app(owner), tmp_path / "prefecture-credentials.json"
    first = prefecture.run(url, households=400, watchers=120, credentials=creds, quiet=True)
    assert first["loaded"] and first["households"] == 400 and first["people"] >= 400 and first["consents"] > 0
    assert stat.S_IMODE(creds.stat().st_mode) == 0o600
    accounts = json.loads(creds.read_text())["accounts"]
    assert {k: v["login"] for k, v in accounts.items()} == {k: login for k, login, _, _ in prefecture.ACCOUNTS}

    second = prefecture.run(url, households=400, watchers=120, credentials=creds, quiet=True)
    assert not second["loaded"] and second["households"] == 400
    assert json.loads(creds.read_text())["accounts"] == accounts

    async def facts() -> dict[str, int]:
        conn = await asyncpg.connect(asyncpg_dsn(owner))
        try:
            tenant = await conn.fetchval("SELECT id FROM tenant WHERE municipality_code = $1", prefecture.MUNICIPALITY_CODE)
            async with conn.transaction():
                await conn.execute("SELECT set_config('tonari.tenant_id', $1, true), set_config('tonari.role', 'system', true)",
                                   str(tenant))
                return dict(await conn.fetchrow(  # type: ignore[arg-type]  # counts: always one row
                    """SELECT (SELECT count(*) FROM household WHERE district_id IS NULL) AS unplaced,
                              (SELECT count(*) FROM user_district_scope s JOIN app_user u ON u.id = s.user_id
                                WHERE u.login = 'bench-commissioner') AS commissioner_branches,
                              (SELECT count(*) FROM watch_link l JOIN watcher w ON w.id = l.watcher_id
                                JOIN app_user u ON u.id = w.user_id WHERE u.login = 'bench-watcher') AS watched"""))
        finally:
            await conn.close()

    loaded = asyncio.run(facts())
    assert loaded["unplaced"] == 0 and loaded["commissioner_branches"] >= 1 and loaded["watched"] == 5
