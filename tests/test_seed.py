"""The Kasama demo seed: tenant 08216, one account per role, stable printed passwords."""

from __future__ import annotations

import json
import stat

from sqlalchemy import select

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


async def test_demo_seed_without_a_credentials_file_issues_new_passwords(sessionmaker, tmp_path, client_factory) -> None:
    path = tmp_path / "c.json"
    old = {c.login: c.password for c in await seed_demo(sessionmaker, path)}
    path.unlink()
    new = {c.login: c.password for c in await seed_demo(sessionmaker, path)}
    assert all(old[k] != new[k] for k in old)
    assert (await client_factory().login("staff", new["staff"])).status_code == 200
    assert (await client_factory().login("staff", old["staff"])).status_code == 401
