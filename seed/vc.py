"""The Kasama demo's volunteer centre: an open 設置運営訓練 (a drill 災害VC, 【訓練】) that the demo's
desk logins (`staff`, `coordinator`, the lent helper `vcdesk`) can work in on first start.

A drill, not a real centre: the demo has no disaster, and a drill's figures never count in real
ones (PRODUCT.md §3, §6). It is written through the VC domain's own functions (the rules, the
normalised phone and kana, the audit rows), as the demo's staff account: equipment on the shelf,
a handful of needs from synthetic requesters (names from `kasama/names.py`, random phone digits,
a real town name with a random 番地) in the first states of the board, and the demo volunteer's
login linked to a volunteer there so `/vc/me` has a centre to show. Idempotent: a second
run finds the centre by name and adds nothing. Deterministic apart from the day it opens.
"""

from __future__ import annotations

import random
import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from seed.kasama.facts import LocalMetric, load_shelters, load_towns
from seed.kasama.names import GIVEN_NAMES, SURNAMES
from server.core import context
from server.operations.models import Operation
from server.vc.dispatch import add_stock
from server.vc.needs import create_centre, set_need_state, take_need
from server.vc.reception import register_volunteer
from server.vc.schemas import CentreIn, EquipmentIn, NeedIn, VolunteerIn

CENTRE_NAME = "笠間市災害ボランティアセンター 設置運営訓練（デモ）"
BASE_SHELTER = "友部公民館"  # the centre's base: where distances for matching are measured from
STOCK = {"shovel": 40, "wheelbarrow": 10, "sandbags": 300, "pressure_washer": 2, "deck_brush": 20, "crowbar": 6}
# Towns near the base (友部 area) where the demo's requesters live.
TOWNS = ("中央三丁目", "旭町", "美原二丁目", "平町", "大田町", "鯉淵", "随分附", "東平一丁目")
# (state, damage kinds, work types, equipment, flags, people, truck): the board's first columns.
NEEDS: tuple[tuple[str, list[str], list[str], list[str], list[str], int, bool], ...] = (
    ("received", ["flood_above_floor"], ["mud_out", "carry_out"], ["shovel", "wheelbarrow"], ["elderly"], 4, True),
    ("received", ["flood_below_floor"], ["mud_out"], ["shovel"], [], 2, False),
    ("survey", ["sediment"], ["sediment_removal"], ["shovel", "sandbags"], ["lives_alone"], 5, True),
    ("survey", ["house_damage"], ["tidying"], [], ["needs_care"], 3, False),
    ("waiting", ["flood_above_floor"], ["carry_out", "cleaning"], ["pressure_washer"], [], 4, True),
    ("waiting", ["flood_below_floor"], ["mud_out", "cleaning"], ["deck_brush"], ["elderly", "lives_alone"], 3, False),
    ("waiting", ["sediment"], ["sediment_removal"], ["shovel", "wheelbarrow"], [], 6, True),
)


async def load_demo_centre(
    db: AsyncSession, tenant_id: uuid.UUID, staff_id: uuid.UUID, volunteer_user_id: uuid.UUID
) -> dict[str, int]:
    """Open the demo's drill centre with stock and needs (nothing when it is there already)."""
    existing = (
        await db.execute(
            select(Operation.id).where(
                Operation.tenant_id == tenant_id, Operation.kind == "vc", Operation.name == CENTRE_NAME
            )
        )
    ).scalar()
    if existing is not None:
        return {}
    context.update(user_id=staff_id, role="staff")
    base = next(s for s in load_shelters() if s.name == BASE_SHELTER)
    c = await create_centre(db, CentreIn(mode="drill", name=CENTRE_NAME, lon=base.lon, lat=base.lat))
    for code, quantity in STOCK.items():
        await add_stock(db, c, EquipmentIn(code=code, quantity=quantity))
    rnd = random.Random("8216/vc")
    towns = {t.town: t for t in load_towns() if not t.koaza}
    for i, (state, damage, work, equipment, flags, people, truck) in enumerate(NEEDS):
        (surname, surname_kana), (given, given_kana) = rnd.choice(SURNAMES), rnd.choice(GIVEN_NAMES)
        town = towns[TOWNS[i % len(TOWNS)]]
        metric = LocalMetric(town.lat, town.lon)
        lon, lat = metric.to_lonlat(rnd.uniform(-250, 250), rnd.uniform(-250, 250))
        need = await take_need(
            db,
            c,
            NeedIn(
                requester_name=f"{surname} {given}",
                requester_kana=f"{surname_kana} {given_kana}",
                phone=f"0296-{rnd.randint(70, 79)}-{rnd.randint(0, 9999):04d}",
                address=f"茨城県笠間市{town.town}{rnd.randint(1, 2500)}",
                lon=round(lon, 6),
                lat=round(lat, 6),
                damage_kinds=damage,
                work_types=work,
                equipment=equipment,
                flags=flags,
                people_needed=people,
                hours_estimated=float(rnd.choice((2, 3, 4, 6))),
                needs_truck=truck,
            ),
        )
        if state != "received":
            await set_need_state(db, c, need, state)
    # The demo volunteer's login is a volunteer here (pre-registered, not yet checked in), so the
    # phone view has a centre to show; a login may be a volunteer at several centres (migration 0026).
    await register_volunteer(
        db,
        c,
        VolunteerIn(
            name="デモ 災害VCボランティア",
            age_band="age_30_49",
            prefecture="08",
            insurance="enrolled",
            insured_where="笠間市社会福祉協議会",
            user_id=volunteer_user_id,
            check_in=False,
        ),
        c.today(),
    )
    await db.flush()
    return {"centre": 1, "needs": len(NEEDS), "equipment kinds": len(STOCK), "volunteers": 1}
