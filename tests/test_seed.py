"""The Kasama demo seed: tenant 08216, one account per role, stable printed passwords."""

from __future__ import annotations

import json
import stat

from sqlalchemy import select, text

from seed.demo import DEMO_ACCOUNTS, seed_demo
from server.accounts.models import User
from server.tenancy.models import Tenant
from tests.conftest import as_tenant


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
