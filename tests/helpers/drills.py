"""What the drill tests share: a scenario whose injects each have an effect, and waiting on a run's
own rows (fired injects, the job queue) rather than on time."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

from sqlalchemy import text

from tests.conftest import as_tenant
from tests.helpers.world import World

EFFECTS = """
title: "【訓練】効果の試験"
hazard: {kind: earthquake}
area: {districts: [第一支部, 第二支部]}
start: "2027-01-15T10:00:00+09:00"
duration: "T+120:00"
injects:
  - at: "T+10:00"
    kind: household_report
    audience: coordinator
    district: 第二支部
    outcome: rescue
    message: {ja: "第二支部の世帯から要救助の通報", en: "A rescue call"}
  - at: "T+20:00"
    kind: road_closure
    line: [[140.21, 36.36], [140.24, 36.39]]
    message: {ja: "道路が通行止め"}
  - at: "T+30:00"
    kind: power_cut
    audience: watcher
    district: 第一支部
    minutes: 20
    message: {ja: "第一支部で停電"}
  - at: "T+40:00"
    kind: district_unreachable
    district: 第二支部
    message: {ja: "第二支部が孤立"}
"""


async def wait_for(predicate, what: str, timeout: float = 20.0) -> Any:
    """Poll the app's own state until `predicate()` returns something truthy."""
    deadline = time.monotonic() + timeout
    while True:
        found = await predicate()
        if found:
            return found
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.02)


async def fired_rows(sessionmaker, world: World, run_id: str) -> list[Any]:
    with as_tenant(world.tenant_id):
        async with sessionmaker() as db:
            return list(
                (
                    await db.execute(
                        text(
                            "SELECT f.seq, i.at_s, f.fired_at, f.due_at, f.sim_s, f.effect FROM drill_inject_fired f"
                            " JOIN drill_inject i USING (tenant_id, run_id, seq) WHERE f.tenant_id = :t AND f.run_id = :r"
                            " ORDER BY f.fired_at"
                        ),
                        {"t": world.tenant_id, "r": uuid.UUID(run_id)},
                    )
                ).all()
            )


async def no_job_due(sessionmaker, run_id: str) -> bool:
    """No job of this run's schedule is due or running (the job queue has looked at it)."""
    async with sessionmaker() as db:
        left = (
            await db.execute(
                text(
                    "SELECT count(*) FROM jobs.pgqueuer WHERE entrypoint = 'drill.advance' AND status IN ('queued', 'picked')"
                    " AND execute_after <= now() AND convert_from(payload, 'UTF8')::jsonb->>'run_id' = :r"
                ),
                {"r": run_id},
            )
        ).scalar_one()
    return left == 0


# Kasama's VC districts (synthetic boxes) for the VC scenario, and a district with one watched
# household for a safety-check drill.
VC_AREAS = {"友部地区": (140.24, 36.33, 140.30, 36.36), "岩間地区": (140.24, 36.28, 140.30, 36.33)}


async def drill_world(sessionmaker, roles: tuple[str, ...] = ("staff", "vc_desk", "watcher")):
    """A council with the two VC districts, the given sign-in roles, and (with a watcher) one
    household in 友部地区 that the watcher watches. Returns (tenant id, accounts, ids)."""
    import secrets

    from shapely.geometry import MultiPolygon, box

    from server.accounts.provision import ensure_tenant, ensure_user
    from server.registry.models import District, Household, Watcher, WatchLink
    from tests.conftest import Account, tenant_code

    tag = secrets.token_hex(3)
    ids: dict[str, uuid.UUID] = {}
    async with sessionmaker() as db:
        async with db.begin():
            tenant = await ensure_tenant(db, f"訓練VC社協 {tag}", tenant_code())
        accounts: dict[str, Account] = {}
        with as_tenant(tenant.id, role="system"):
            async with db.begin():
                for role in roles:
                    pw = secrets.token_urlsafe(10)
                    login = f"dv-{role}-{tag}"
                    user, _ = await ensure_user(db, tenant, login, role, f"テスト {role}", pw, all_districts=True)
                    accounts[role] = Account(tenant.id, user.id, login, pw, role)
                for name, bounds in VC_AREAS.items():
                    ids[name] = uuid.uuid4()
                    db.add(
                        District(
                            tenant_id=tenant.id,
                            id=ids[name],
                            code=f"{name}-{tag}",
                            name=name,
                            kana="テスト",
                            level="area",
                            geom=f"SRID=4326;{MultiPolygon([box(*bounds)]).wkt}",
                        )
                    )
                await db.flush()
                if "watcher" in accounts:
                    ids["watcher"] = uuid.uuid4()
                    ids["household"] = uuid.uuid4()
                    db.add(
                        Watcher(
                            tenant_id=tenant.id,
                            id=ids["watcher"],
                            user_id=accounts["watcher"].user_id,
                            name="テスト 見守り",
                            home="SRID=4326;POINT(140.27 36.345)",
                            district_id=ids["友部地区"],
                        )
                    )
                    db.add(
                        Household(
                            tenant_id=tenant.id,
                            id=ids["household"],
                            address="茨城県笠間市テスト1",
                            district_id=ids["友部地区"],
                            location="SRID=4326;POINT(140.271 36.346)",
                        )
                    )
                    await db.flush()
                    db.add(
                        WatchLink(
                            tenant_id=tenant.id,
                            id=uuid.uuid4(),
                            household_id=ids["household"],
                            watcher_id=ids["watcher"],
                        )
                    )
    return tenant.id, accounts, ids


# A short VC day the bots finish in seconds at max speed: two needs, six volunteers, teams of three.
# A short safety check on the drill world's council: it opens no volunteer centre (the other side
# of a comparison or a link test).
SAFETY_CHECK_NO_CENTRE = """
title: "【訓練】安否確認（センターなし）"
hazard: {kind: earthquake}
area: {districts: [友部地区]}
start: "2027-01-15T10:00:00+09:00"
duration: "T+30:00"
injects:
  - at: "T+1:00"
    kind: announcement
    message: {ja: "開始"}
"""

SMALL_VC_DAY = """
title: "【訓練】小さな災害VC訓練"
exercise: vc
hazard: {kind: flood, river: 涸沼川, level: 5}
area: {districts: [友部地区]}
start: "2027-07-12T08:30:00+09:00"
duration: "T+180:00"
vc:
  centre: 比較用センター（訓練）
  district: 友部地区
  equipment: {shovel: 10, deck_brush: 5}
roles:
  - role: vc_staff
    played_by: bots
    bots: {start_delay_minutes: 1, desk_minutes: 5, survey_minutes: 10, team_size: 3, enrol_uninsured: true}
  - role: vc_volunteer
    played_by: bots
    bots: {work_minutes: 30, done_share: 1.0, near_miss_share: 0.0}
injects:
  - at: "T+5:00"
    kind: need_phoned_in
    audience: vc_staff
    district: 友部地区
    count: 2
    need: {work_types: [mud_out], damage_kinds: [flood_below_floor], equipment: [shovel], people: 3}
    message: {ja: "泥出しの依頼が2件"}
  - at: "T+10:00"
    kind: volunteer_walk_in
    audience: vc_staff
    count: 6
    uninsured: 1
    message: {ja: "6人が来所"}
expectations:
  - kind: vc_dispatch_within
    role: vc_staff
    minutes: 120
    text: {ja: "受付から2時間以内に送り出した", en: "Dispatched within 2 hours"}
  - kind: vc_needs_closed_by
    role: vc_staff
    percent: 100
    by: "T+180:00"
    text: {ja: "その日のうちに全ニーズを完了した", en: "Every need closed within the day"}
"""


async def add_walks(
    db,
    tenant,
    walks: list[tuple[tuple[float, float], list[tuple[float, float]]]],
    *,
    login_prefix: str,
    address_prefix: str,
    district_of,
    hidden=(),
    consent_classes: tuple[str, ...] = ("watcher",),
) -> tuple[dict[str, Any], dict[tuple[int, int], uuid.UUID]]:
    """One watcher account per walk (home, households) in the caller's transaction: each household
    with one person, linked to its watcher and consented for `consent_classes`, but for those in
    `hidden` ((walk, household) pairs). `district_of(lon, lat)` places homes and households.
    Returns the accounts (watcher0, watcher1, …) and the households by (walk, k)."""
    import secrets
    from datetime import date

    from server.accounts.provision import ensure_user
    from server.registry.models import Consent, Household, Person, Watcher, WatchLink
    from tests.conftest import Account

    t = tenant.id
    accounts: dict[str, Any] = {}
    households: dict[tuple[int, int], uuid.UUID] = {}
    for w, (home, spots) in enumerate(walks):
        pw = secrets.token_urlsafe(10)
        login = f"{login_prefix}{w}"
        user, _ = await ensure_user(db, tenant, login, "watcher", f"見守り{w}", pw, all_districts=True)
        accounts[f"watcher{w}"] = Account(t, user.id, login, pw, "watcher")
        wid = uuid.uuid4()
        db.add(
            Watcher(
                tenant_id=t,
                id=wid,
                user_id=user.id,
                name=f"テスト 見守り{w}",
                home=f"SRID=4326;POINT({home[0]} {home[1]})",
                district_id=district_of(*home),
            )
        )
        for k, (lon, lat) in enumerate(spots):
            hid = households[(w, k)] = uuid.uuid4()
            db.add(
                Household(
                    tenant_id=t,
                    id=hid,
                    address=f"{address_prefix}{w}-{k}",
                    district_id=district_of(lon, lat),
                    location=f"SRID=4326;POINT({lon} {lat})",
                )
            )
            await db.flush()
            pid = uuid.uuid4()
            db.add(
                Person(
                    tenant_id=t,
                    id=pid,
                    household_id=hid,
                    name=f"試験 {w}{k}",
                    kana="シケン",
                    birth_date=date(1940, 1, 1),
                    sex="female",
                    support_reasons=["elderly_alone"],
                )
            )
            await db.flush()
            if (w, k) not in hidden:
                for cls in consent_classes:
                    db.add(
                        Consent(
                            tenant_id=t,
                            id=uuid.uuid4(),
                            person_id=pid,
                            household_id=hid,
                            recipient_class=cls,
                            dataset="roster",
                            consented_on=date(2026, 4, 1),
                            source="同意書",
                        )
                    )
            db.add(WatchLink(tenant_id=t, id=uuid.uuid4(), household_id=hid, watcher_id=wid))
        await db.flush()
    return accounts, households


async def bot_world(sessionmaker, walks: list[tuple[tuple[float, float], list[tuple[float, float]]]], hidden=()):
    """A council with one district (まとめ地区, 140.20–140.30 × 36.35–36.40), a staff account, and one
    watcher account per walk (home, households): each household linked to its watcher and consented
    for watchers, but for those in `hidden` ((walk, household) pairs). Returns (tenant id, accounts, ids)
    with ids["households"][(walk, k)] and ids["district"]."""
    import secrets

    from shapely.geometry import MultiPolygon, box

    from server.accounts.provision import ensure_tenant, ensure_user
    from server.registry.models import District
    from tests.conftest import Account, tenant_code

    tag = secrets.token_hex(3)
    async with sessionmaker() as db:
        async with db.begin():
            tenant = await ensure_tenant(db, f"まとめ試験社協 {tag}", tenant_code())
        t = tenant.id
        accounts: dict[str, Account] = {}
        ids: dict[str, Any] = {"district": uuid.uuid4(), "households": {}}
        with as_tenant(t, role="system"):
            async with db.begin():
                pw = secrets.token_urlsafe(10)
                user, _ = await ensure_user(
                    db, tenant, f"m-staff-{tag}", "staff", "テスト staff", pw, all_districts=True
                )
                accounts["staff"] = Account(t, user.id, f"m-staff-{tag}", pw, "staff")
                db.add(
                    District(
                        tenant_id=t,
                        id=ids["district"],
                        code=f"M-{tag}",
                        name="まとめ地区",
                        kana="テスト",
                        level="area",
                        geom=f"SRID=4326;{MultiPolygon([box(140.20, 36.35, 140.30, 36.40)]).wkt}",
                    )
                )
                await db.flush()
                walkers, ids["households"] = await add_walks(
                    db,
                    tenant,
                    walks,
                    login_prefix=f"m-watcher-{tag}-",
                    address_prefix="茨城県笠間市まとめ",
                    district_of=lambda lon, lat: ids["district"],
                    hidden=hidden,
                )
                accounts.update(walkers)
    return t, accounts, ids
