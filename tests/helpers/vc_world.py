"""A small council for the 災害VC tests: a boundary, one district, one town, every role (and the
VC desk role), and helpers to drive the VC API."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass, field
from typing import Any

from shapely.geometry import MultiPolygon, box
from sqlalchemy import text

from server.accounts.provision import ensure_tenant, ensure_user
from server.registry.models import District, Household, Town
from tests.conftest import Account, as_tenant, tenant_code

AREA = box(140.20, 36.35, 140.30, 36.40)
BASE = (140.25, 36.375)  # the centre's base
TOWN = ("テスト町", (140.26, 36.36))
ROLES = (
    "admin",
    "staff",
    "coordinator",
    "commissioner",
    "watcher",
    "vc_desk",
    "vc_volunteer",
    "vc_volunteer2",
)


@dataclass
class VcWorld:
    tenant_id: uuid.UUID
    code: str
    accounts: dict[str, Account]
    district_id: uuid.UUID
    household_id: uuid.UUID
    clients: dict[str, Any] = field(default_factory=dict)


async def new_vc_world(sessionmaker) -> VcWorld:
    code = tenant_code()
    tag = secrets.token_hex(3)
    async with sessionmaker() as db:
        async with db.begin():
            tenant = await ensure_tenant(db, f"VCテスト社協 {tag}", code)
            await db.execute(
                text("UPDATE tenant SET boundary = ST_GeomFromText(:g, 4326) WHERE id = :t"),
                {"g": MultiPolygon([AREA]).wkt, "t": tenant.id},
            )
        accounts: dict[str, Account] = {}
        with as_tenant(tenant.id, role="system"):
            async with db.begin():
                for role in ROLES:
                    real_role = role.rstrip("2")
                    login = f"vc-{role}-{tag}"
                    pw = secrets.token_urlsafe(10)
                    user, _ = await ensure_user(db, tenant, login, real_role, f"テスト {role}", pw, all_districts=True)
                    accounts[role] = Account(tenant.id, user.id, login, pw, real_role)
                district = uuid.uuid4()
                db.add(
                    District(
                        tenant_id=tenant.id,
                        id=district,
                        code=f"VC-{tag}",
                        name="第一支部",
                        kana="ダイイチシブ",
                        level="branch",
                        geom=f"SRID=4326;{MultiPolygon([AREA]).wkt}",
                    )
                )
                db.add(
                    Town(
                        tenant_id=tenant.id,
                        id=uuid.uuid4(),
                        name=TOWN[0],
                        location=f"SRID=4326;POINT({TOWN[1][0]} {TOWN[1][1]})",
                    )
                )
                household = uuid.uuid4()
                await db.flush()
                db.add(
                    Household(
                        tenant_id=tenant.id,
                        id=household,
                        address="笠間市テスト町1",
                        district_id=district,
                        location="SRID=4326;POINT(140.22 36.36)",
                    )
                )
    return VcWorld(tenant.id, code, accounts, district, household)


async def client_for(client_factory, world: VcWorld, role: str):
    if role not in world.clients:
        c = client_factory()
        acct = world.accounts[role]
        r = await c.login(acct.login, acct.password)
        assert r.status_code == 200, r.text
        world.clients[role] = c
    return world.clients[role]


async def open_centre(client_factory, world: VcWorld, mode: str = "real", stock: dict[str, int] | None = None) -> str:
    staff = await client_for(client_factory, world, "staff")
    r = await staff.send_json(
        "POST",
        "/api/vc/centres",
        {"mode": mode, "name": "笠間市災害ボランティアセンター", "lon": BASE[0], "lat": BASE[1]},
    )
    assert r.status_code == 201, r.text
    op = r.json()["operation_id"]
    for code, n in (stock or {}).items():
        s = await staff.send_json("POST", f"/api/vc/centres/{op}/equipment", {"code": code, "quantity": n})
        assert s.status_code == 200, s.text
    return op


KANA = [
    "サトウ ハナコ",
    "スズキ イチロウ",
    "タカハシ ジロウ",
    "タナカ サブロウ",
    "ワタナベ ミキ",
    "イトウ ケン",
    "ヤマモト ユイ",
    "ナカムラ ショウ",
    "コバヤシ アヤ",
    "カトウ リク",
    "ヨシダ メイ",
    "ヤマダ タロウ",
    "ササキ ソラ",
    "ヤマグチ レン",
    "マツモト ヒナ",
    "イノウエ ダイキ",
    "キムラ ユナ",
    "ハヤシ コウ",
    "シミズ マオ",
    "ヤマザキ ジン",
    "モリ アオイ",
]


def need_body(i: int, **extra: Any) -> dict[str, Any]:
    """Need i: its own phone, kana and house (needs ≥ ~800 m apart)."""
    return {
        "requester_name": f"依頼者{i}",
        "requester_kana": KANA[i],
        "phone": f"0296-70-{1000 + i}",
        "address": f"笠間市テスト{i}番地",
        "lon": 140.205 + (i % 10) * 0.009,
        "lat": 36.355 + (i // 10) * 0.02,
        "people_needed": 3 + i % 4,
        "damage_kinds": ["flood_above_floor"],
        "work_types": ["mud_out", "carry_out"] if i % 2 else ["cleaning"],
        **extra,
    }


def volunteer_body(i: int, **extra: Any) -> dict[str, Any]:
    return {
        "name": f"ボランティア{i}",
        "kana": "ボランティア",
        "age_band": "age_30_49",
        "prefecture": "45",
        "insurance": "enrolled",
        "insured_where": "笠間市社協",
        **extra,
    }


async def rows(sessionmaker, world: VcWorld, sql: str, **params: Any) -> list[Any]:
    with as_tenant(world.tenant_id):
        async with sessionmaker() as db:
            return list((await db.execute(text(sql), params)).all())
