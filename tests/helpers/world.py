"""A small registry world for disclosure tests: two districts, four households, every role."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass, field
from datetime import date

from shapely.geometry import MultiPolygon, box

from server.accounts.models import UserDistrictScope
from server.accounts.provision import ensure_tenant, ensure_user
from server.registry.models import Consent, District, Household, Person, Watcher, WatchLink
from tests.conftest import Account, as_tenant, tenant_code

D1_BOX = box(140.20, 36.35, 140.25, 36.40)
D2_BOX = box(140.25, 36.35, 140.30, 36.40)
ALL_CLASSES = ("commissioner", "council", "watcher")
HOUSEHOLD_SPOTS = {"H1": (140.21, 36.36), "H2": (140.22, 36.37), "H4": (140.23, 36.38), "H3": (140.27, 36.37)}


@dataclass
class World:
    tenant_id: uuid.UUID
    accounts: dict[str, Account]
    districts: dict[str, uuid.UUID]
    households: dict[str, uuid.UUID]
    persons: dict[str, uuid.UUID]
    extra: dict[str, object] = field(default_factory=dict)


def ewkt(geom) -> str:
    return f"SRID=4326;{geom.wkt}"


async def build_world(sessionmaker, code: str) -> World:
    tag = secrets.token_hex(3)
    async with sessionmaker() as db:
        async with db.begin():
            tenant = await ensure_tenant(db, f"開示テスト社協 {tag}", code)
        accounts: dict[str, Account] = {}
        with as_tenant(tenant.id, role="system"):
            async with db.begin():
                for role in ("admin", "staff", "coordinator", "commissioner", "watcher", "vc_volunteer"):
                    login = f"w-{role}-{tag}"
                    pw = secrets.token_urlsafe(10)
                    user, _ = await ensure_user(
                        db, tenant, login, role, f"テスト {role}", pw, all_districts=role != "commissioner"
                    )
                    accounts[role] = Account(tenant.id, user.id, login, pw, role)
                t = tenant.id
                d1, d2 = uuid.uuid4(), uuid.uuid4()
                db.add_all(
                    [
                        District(
                            tenant_id=t,
                            id=d1,
                            code=f"D1-{tag}",
                            name="第一支部",
                            kana="ダイイチシブ",
                            level="branch",
                            geom=ewkt(MultiPolygon([D1_BOX])),
                        ),
                        District(
                            tenant_id=t,
                            id=d2,
                            code=f"D2-{tag}",
                            name="第二支部",
                            kana="ダイニシブ",
                            level="branch",
                            geom=ewkt(MultiPolygon([D2_BOX])),
                        ),
                    ]
                )
                await db.flush()
                db.add(UserDistrictScope(tenant_id=t, user_id=accounts["commissioner"].user_id, district_id=d1))
                spots = HOUSEHOLD_SPOTS
                households = {k: uuid.uuid4() for k in spots}
                for key, (lon, lat) in spots.items():
                    db.add(
                        Household(
                            tenant_id=t,
                            id=households[key],
                            address=f"茨城県笠間市テスト町{key}",
                            district_id=d1 if key != "H3" else d2,
                            location=f"SRID=4326;POINT({lon} {lat})",
                            notes=f"世帯メモ{key}",
                        )
                    )
                await db.flush()
                persons = {f"P{k[1]}": uuid.uuid4() for k in households}
                for key, hid in households.items():
                    pid = persons[f"P{key[1]}"]
                    db.add(
                        Person(
                            tenant_id=t,
                            id=pid,
                            household_id=hid,
                            name=f"試験 {key}太郎",
                            kana="シケン タロウ",
                            birth_date=date(1940, 1, 1),
                            sex="male",
                            phone="0296-72-0000",
                            support_reasons=["care_level_3_5"],
                            medical_devices=["home_oxygen"],
                            notes="機微",
                        )
                    )
                await db.flush()
                for key in ("P1", "P3"):  # P2 and P4 gave no consent
                    hid = households[f"H{key[1]}"]
                    for cls in ALL_CLASSES:
                        for ds in ("roster", "plan"):
                            db.add(
                                Consent(
                                    tenant_id=t,
                                    id=uuid.uuid4(),
                                    person_id=persons[key],
                                    household_id=hid,
                                    recipient_class=cls,
                                    dataset=ds,
                                    consented_on=date(2026, 4, 1),
                                    source="同意書",
                                )
                            )
                wid = uuid.uuid4()
                db.add(
                    Watcher(
                        tenant_id=t,
                        id=wid,
                        user_id=accounts["watcher"].user_id,
                        name="テスト 見守り",
                        home="SRID=4326;POINT(140.215 36.365)",
                        district_id=d1,
                    )
                )
                await db.flush()
                for key in ("H1", "H2"):
                    db.add(WatchLink(tenant_id=t, id=uuid.uuid4(), household_id=households[key], watcher_id=wid))
    return World(tenant.id, accounts, {"D1": d1, "D2": d2}, households, persons)


async def new_world(sessionmaker) -> World:
    """A world under a tenant code unique in this run."""
    return await build_world(sessionmaker, tenant_code())


async def signed_in(client_factory, world: World, role: str):
    """An API client signed in as the world's account for `role`."""
    c = client_factory()
    acct = world.accounts[role]
    resp = await c.login(acct.login, acct.password)
    assert resp.status_code == 200, resp.text
    return c
