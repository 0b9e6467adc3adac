"""Loads the Kasama demo registry (seed/data + the synthetic generator) into one tenant.

Runs once per tenant: if the tenant already has districts it does nothing, so a second
`make run` is fast and keeps whatever staff changed. Bulk inserts (no ORM objects) keep the
~3,000 people, their consents and plans to a couple of seconds.
"""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import date
from typing import Any, cast

import msgspec
from shapely.geometry import MultiPolygon, Polygon, shape
from sqlalchemy import CursorResult, func, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from seed.kasama import facts, hazards
from seed.kasama.people import DemoData, generate_demo
from server.accounts.models import User, UserDistrictScope
from server.registry.models import (
    Consent,
    District,
    EvacuationPlan,
    HazardZone,
    Household,
    Person,
    Shelter,
    Town,
    Watcher,
    WatchLink,
)
from server.registry.validation import REASSIGN_HOUSEHOLDS
from server.tenancy.models import Tenant
from server.watch.suggest import MAX_LIMIT as SUGGEST_MAX_LIMIT
from server.watch.suggest import suggest


def _ewkt(geom: Any) -> str:
    return f"SRID=4326;{geom.wkt}"


def _point(lon: float, lat: float) -> str:
    return f"SRID=4326;POINT({lon} {lat})"


def _multi(geometry: dict[str, Any]) -> str:
    g = shape(geometry)
    return _ewkt(g if isinstance(g, MultiPolygon) else MultiPolygon([cast(Polygon, g)]))


async def load_kasama_registry(db: AsyncSession, tenant_id: uuid.UUID, *, seed: int = 8216) -> dict[str, int]:
    """Fill an empty tenant with the demo; returns counts (empty dict if it was already loaded)."""
    if (await db.execute(select(func.count()).select_from(District).where(District.tenant_id == tenant_id))).scalar():
        return {}
    await db.execute(
        update(Tenant).where(Tenant.id == tenant_id).values(boundary=_multi(facts.outline_feature()["geometry"]))
    )

    towns = [msgspec.to_builtins(t) for t in facts.load_towns()]
    await db.execute(
        insert(Town),
        [
            {
                "tenant_id": tenant_id,
                "id": uuid.uuid4(),
                "name": t["town"],
                "koaza": t.get("koaza") or "",
                "location": _point(t["lon"], t["lat"]),
            }
            for t in towns
        ],
    )

    district_ids: dict[str, uuid.UUID] = {}
    rows = [msgspec.to_builtins(d) for d in facts.load_districts()]
    for d in rows:
        district_ids[d["code"]] = uuid.uuid4()
    for level in ("area", "branch", "unit"):  # parents first
        batch = [d for d in rows if d["level"] == level]
        if batch:
            await db.execute(
                insert(District),
                [
                    {
                        "tenant_id": tenant_id,
                        "id": district_ids[d["code"]],
                        "code": d["code"],
                        "name": d["name"],
                        "kana": d.get("kana"),
                        "level": d["level"],
                        "parent_id": district_ids.get(d["parent_code"]) if d.get("parent_code") else None,
                        "geom": _multi(d["geometry"]),
                    }
                    for d in batch
                ],
            )

    shelter_ids: dict[str, uuid.UUID] = {}
    shelter_rows: list[dict[str, Any]] = []
    facilities: dict[tuple[str, str], dict[str, Any]] = {}  # (facility part of the 共通ID, name)
    for s in sorted(map(msgspec.to_builtins, facts.load_shelters()), key=lambda s: s["kind"] != "designated"):
        partner = facilities.get((s["source_id"][:11], s["name"]))
        if partner is not None:  # one facility, both designations (as the shelter import does)
            partner["designations"].append(s["kind"])
            partner["other_source_ids"].append(s["source_id"])
            partner["hazards"] = sorted(set(partner["hazards"]) | set(s["hazards"]))
            continue
        sid = uuid.uuid4()
        if s["kind"] == "designated":
            shelter_ids[s["source_id"]] = sid
        row = {
            "tenant_id": tenant_id,
            "id": sid,
            "source_id": s["source_id"],
            "kind": s["kind"],
            "designations": [s["kind"]],
            "other_source_ids": [],
            "name": s["name"],
            "address": s["address"],
            "location": _point(s["lon"], s["lat"]),
            "hazards": s["hazards"],
            "capacity": s.get("capacity"),
        }
        facilities[(s["source_id"][:11], s["name"])] = row
        shelter_rows.append(row)
    await db.execute(insert(Shelter), shelter_rows)

    demo: DemoData = generate_demo(seed=seed)
    watcher_ids = {w.key: uuid.uuid4() for w in demo.watchers}
    await db.execute(
        insert(Watcher),
        [
            {
                "tenant_id": tenant_id,
                "id": watcher_ids[w.key],
                "name": w.name,
                "kana": w.kana,
                "role": w.role,
                "phone": w.phone,
                "home": _point(w.lon, w.lat),
                "capacity": w.capacity,
                "district_id": district_ids.get(w.district_code),
            }
            for w in demo.watchers
        ],
    )

    households, people, consents, plans = [], [], [], []
    for h in demo.households:
        hid = uuid.uuid4()
        households.append(
            {
                "tenant_id": tenant_id,
                "id": hid,
                "address": h.address,
                "town": h.town,
                "location": _point(h.lon, h.lat),
                "district_id": district_ids.get(h.district_code),
            }
        )
        for p in h.people:
            pid = uuid.uuid4()
            people.append(
                {
                    "tenant_id": tenant_id,
                    "id": pid,
                    "household_id": hid,
                    "name": p.name,
                    "kana": p.kana,
                    "birth_date": p.birth_date,
                    "sex": p.sex,
                    "phone": p.phone,
                    "support_reasons": list(p.support_reasons),
                    "care_level": p.care_level,
                    "mobility": p.mobility,
                    "medical_devices": list(p.medical_devices),
                    "communication_needs": p.communication_needs,
                    "emergency_contacts": [
                        {"name": c.name, "phone": c.phone, "relationship": c.relationship} for c in p.emergency_contacts
                    ],
                    "notes": p.notes,
                }
            )
            for c in p.consents:
                consents.append(
                    {
                        "tenant_id": tenant_id,
                        "id": uuid.uuid4(),
                        "person_id": pid,
                        "household_id": hid,
                        "recipient_class": c.recipient_class,
                        "dataset": c.dataset,
                        "consented_on": c.consented_on,
                        "source": c.source,
                        "withdrawn_on": c.withdrawn_on,
                    }
                )
            if p.plan is not None:
                plans.append(
                    {
                        "tenant_id": tenant_id,
                        "id": uuid.uuid4(),
                        "person_id": pid,
                        "destination_shelter_id": shelter_ids.get(p.plan.shelter_source_id),
                        "route_notes": p.plan.route_notes,
                        "supporters": [
                            {
                                "name": s.name,
                                "phone": s.phone,
                                "relationship": s.relationship,
                                "role": s.role,
                                "watcher_id": str(watcher_ids[s.watcher_key]) if s.watcher_key in watcher_ids else None,
                                "consented_on": s.consented_on.isoformat() if s.consented_on else None,
                                "withdrawn_on": s.withdrawn_on.isoformat() if s.withdrawn_on else None,
                            }
                            for s in p.plan.supporters
                        ],
                    }
                )
    for table, batch in ((Household, households), (Person, people), (Consent, consents), (EvacuationPlan, plans)):
        # One multi-row INSERT per chunk, not an executemany (one statement per row): consent's
        # summary trigger is per statement, so it runs once per chunk instead of once per row
        # (the seed took ~2 min on that alone). COPY is not an option: RLS forbids it.
        per = max(1, BIND_PARAMS_MAX // max(1, len(batch[0]))) if batch else 1
        for i in range(0, len(batch), per):
            await db.execute(insert(table).values(batch[i : i + per]))
    await db.execute(REASSIGN_HOUSEHOLDS, {"tenant": tenant_id, "only": None})
    links = await build_watch_network(db, tenant_id)
    zones = await _load_hazard_zones(db, tenant_id)
    await _link_demo_accounts(db, tenant_id, district_ids)
    return {
        "households": len(households),
        "people": len(people),
        "consents": len(consents),
        "plans": len(plans),
        "watchers": len(demo.watchers),
        "watch links": links,
        "hazard zones": zones,
        "districts": len(district_ids),
        "shelters": len(shelter_rows),
    }


# Bind parameters in one statement (PostgreSQL's protocol allows 32,767).
BIND_PARAMS_MAX = 30_000

NETWORK_SINCE = date(2026, 4, 1)  # the demo's network dates from the start of the fiscal year
NETWORK_ROUNDS = 4
PENDING_PER_BRANCH = 4  # households per branch that keep their backup as a suggestion not yet accepted


async def build_watch_network(db: AsyncSession, tenant_id: uuid.UUID) -> int:
    """Link watchers to households the way a council does: accept the coverage screen's
    suggestions (`server.watch.suggest`: a PostGIS nearest-neighbour walk per household, a greedy
    pass over the candidate rows only) batch after batch until they run dry. Households with
    nobody within their district's walking radius stay unwatched: those are the pockets. A few
    households keep their second watcher as a pending suggestion (work in progress, as in any
    council), so the suggestion screen has something to offer on first start."""
    made = 0
    pending: set[uuid.UUID] = set()
    for round_ in range(NETWORK_ROUNDS):
        batch = await suggest(db, limit=SUGGEST_MAX_LIMIT)
        if round_ == 0:
            per_household = Counter(s.household_id for s in batch.suggestions)
            pairs = [h for h in batch.household_ids if per_household[h] >= 2]
            districts = dict(
                (
                    await db.execute(
                        select(Household.id, Household.district_id).where(
                            Household.tenant_id == tenant_id, Household.id.in_(pairs)
                        )
                    )
                ).all()
            )
            per_district: dict[uuid.UUID | None, list[uuid.UUID]] = {}
            for h in pairs:
                per_district.setdefault(districts.get(h), []).append(h)
            pending = {h for hs in per_district.values() for h in hs[:PENDING_PER_BRANCH]}
        accepted = [s for s in batch.suggestions if not (s.household_id in pending and s.kind == "backup")]
        accepted = [s for s in accepted if s.household_id not in pending or round_ == 0]
        if not accepted:
            break
        await db.execute(
            insert(WatchLink),
            [
                {
                    "tenant_id": tenant_id,
                    "id": uuid.uuid4(),
                    "household_id": s.household_id,
                    "watcher_id": s.watcher_id,
                    "kind": s.kind,
                    "since": NETWORK_SINCE,
                    "distance_m": s.distance_m,
                }
                for s in accepted
            ],
        )
        made += len(accepted)
    return made


# The landslide zones: around the largest clusters of unwatched households (hill hamlets), drawn in
# a metric CRS (JGD2011 plane IX, Ibaraki) and stored in lon/lat.
_LANDSLIDE_ZONES = text(
    """
    WITH lonely AS (
        SELECT h.id, h.town, ST_Transform(h.location, 6677) AS p
        FROM household h
        WHERE h.tenant_id = :t AND NOT EXISTS (
            SELECT 1 FROM watch_link l WHERE l.tenant_id = :t AND l.household_id = h.id AND l.ended_at IS NULL)
    ),
    clustered AS (
        SELECT id, town, p, ST_ClusterDBSCAN(p, eps => 400, minpoints => 3) OVER () AS c FROM lonely
    ),
    pockets AS (
        SELECT c, min(town) AS town, count(*) AS n, ST_Collect(p) AS g
        FROM clustered WHERE c IS NOT NULL GROUP BY c
        ORDER BY count(*) DESC, min(town) LIMIT :zones
    )
    INSERT INTO hazard_zone (tenant_id, id, kind, level, name, source, geom)
    SELECT :t, gen_random_uuid(), 'landslide', '警戒区域（急傾斜地・架空）',
           town || ' 土砂災害警戒区域（架空・デモ用 ' || row_number() OVER (ORDER BY n DESC, town) || '）', :source,
           ST_Multi(ST_Transform(ST_Buffer(ST_ConvexHull(g), 150, 'quad_segs=6'), 4326))
    FROM pockets
    """
)
LANDSLIDE_ZONES = 5


async def _load_hazard_zones(db: AsyncSession, tenant_id: uuid.UUID) -> int:
    floods = hazards.flood_zones()
    await db.execute(
        insert(HazardZone),
        [
            {
                "tenant_id": tenant_id,
                "id": uuid.uuid4(),
                "kind": z.kind,
                "level": z.level,
                "name": z.name,
                "source": z.source,
                "geom": _multi(z.geometry),
            }
            for z in floods
        ],
    )
    slides = await db.execute(_LANDSLIDE_ZONES, {"t": tenant_id, "zones": LANDSLIDE_ZONES, "source": hazards.SOURCE})
    return len(floods) + (cast(CursorResult[Any], slides).rowcount or 0)


async def _link_demo_accounts(db: AsyncSession, tenant_id: uuid.UUID, district_ids: dict[str, uuid.UUID]) -> None:
    """Give the demo commissioner a branch and the demo watcher the profile of a watcher of that
    branch with a full round (the most watched households that consented to watchers, who are the
    ones a watcher sees), so signing in shows something real."""
    users = {u.login: u for u in (await db.execute(select(User).where(User.tenant_id == tenant_id))).scalars()}
    branch = district_ids.get("08216-A1-B01")
    commissioner, watcher = users.get("commissioner"), users.get("watcher")
    if commissioner is not None and branch is not None:
        await db.execute(
            insert(UserDistrictScope).values(tenant_id=tenant_id, user_id=commissioner.id, district_id=branch)
        )
        await db.execute(
            text(
                "UPDATE watcher SET user_id = :u WHERE tenant_id = :t AND id = ("
                " SELECT id FROM watcher WHERE tenant_id = :t AND role = 'commissioner' AND district_id = :d AND user_id IS NULL"
                " ORDER BY id LIMIT 1)"
            ),
            {"u": commissioner.id, "t": tenant_id, "d": branch},
        )
    if watcher is not None and branch is not None:
        await db.execute(
            text(
                "UPDATE watcher SET user_id = :u WHERE tenant_id = :t AND id = ("
                " SELECT w.id FROM watcher w WHERE w.tenant_id = :t AND w.role = 'watcher' AND w.district_id = :d"
                "   AND w.user_id IS NULL"
                " ORDER BY (SELECT count(*) FROM watch_link l JOIN household h ON h.tenant_id = l.tenant_id"
                "           AND h.id = l.household_id"
                "           WHERE l.tenant_id = :t AND l.watcher_id = w.id AND l.ended_at IS NULL"
                "           AND h.roster_consent_watcher @> current_date) DESC, w.name, w.id LIMIT 1)"
            ),
            {"u": watcher.id, "t": tenant_id, "d": branch},
        )
