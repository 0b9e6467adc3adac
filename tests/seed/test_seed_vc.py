"""The Kasama demo's volunteer centre (#18): a lent helper's login (`vcdesk`, role `vc_desk`) and an
open drill centre it can work in on first start, written once."""

from __future__ import annotations

from sqlalchemy import select, text

from seed.demo import seed_demo
from seed.vc import CENTRE_NAME, NEEDS, STOCK
from server.tenancy.models import Tenant
from tests.conftest import as_tenant


async def test_the_demo_has_a_desk_helper_and_an_open_drill_centre_to_work_in(
    sessionmaker, tmp_path, client_factory
) -> None:
    creds = {c.login: c for c in await seed_demo(sessionmaker, tmp_path / "c.json")}
    assert creds["vcdesk"].role == "vc_desk"
    await seed_demo(sessionmaker, tmp_path / "c.json")  # a second `make run` opens no second centre

    desk = client_factory()
    assert (await desk.login("vcdesk", creds["vcdesk"].password)).status_code == 200
    centres = [c for c in (await desk.get("/api/vc/centres/")).json() if c["name"] == CENTRE_NAME]
    assert len(centres) == 1
    [centre] = centres
    assert (centre["mode"], centre["status"], centre["label"]) == ("drill", "active", "【訓練】")
    base = f"/api/vc/centres/{centre['operation_id']}"
    board = (await desk.get(f"{base}/needs")).json()
    assert sorted(n["state"] for n in board) == sorted(state for state, *_ in NEEDS)
    assert all(n["label"] == "【訓練】" and n["household_id"] is None for n in board)
    ledger = {e["code"]: e["stock"] for e in (await desk.get(f"{base}/equipment")).json()}
    assert ledger == STOCK
    # The helper works the desk and nothing of the registry.
    assert (await desk.get("/api/households")).status_code == 403

    # The demo volunteer's phone has a centre (a drill, marked so) before any team is formed.
    phone = client_factory()
    assert (await phone.login("volunteer", creds["volunteer"].password)).status_code == 200
    me = (await phone.get("/api/vc/me")).json()
    assert (me["operation_id"], me["label"]) == (centre["operation_id"], "【訓練】")
    assert me["team"] is None and me["dispatch"] is None

    async with sessionmaker() as db:
        tenant = (await db.execute(select(Tenant).where(Tenant.municipality_code == "08216"))).scalar_one()
    with as_tenant(tenant.id):
        async with sessionmaker() as db:
            [scoped, outside] = (
                await db.execute(
                    text(
                        """SELECT (SELECT all_districts FROM app_user WHERE login = 'vcdesk'),
                          (SELECT count(*) FROM vc_need n, tenant t
                            WHERE t.id = n.tenant_id AND NOT ST_Covers(t.boundary, n.location))"""
                    )
                )
            ).one()
    assert scoped is False and outside == 0
