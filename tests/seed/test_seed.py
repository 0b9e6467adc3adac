"""The Kasama demo seed: tenant 08216, one account per role, stable printed passwords."""

from __future__ import annotations

import argparse
import asyncio
import json
import stat
from datetime import UTC, datetime, timedelta

import asyncpg
from sqlalchemy import select, text

from seed.demo import DEMO_ACCOUNTS, seed_demo
from server.accounts.models import User
from server.tenancy.models import Tenant
from tests.conftest import as_app, as_tenant, asyncpg_dsn


async def test_demo_seed_is_idempotent_and_keeps_passwords(sessionmaker, tmp_path, client) -> None:
    creds_path = tmp_path / "demo-credentials.json"
    first = await seed_demo(sessionmaker, creds_path)
    second = await seed_demo(sessionmaker, creds_path)
    assert [c.__dict__ for c in first] == [c.__dict__ for c in second]
    assert stat.S_IMODE(creds_path.stat().st_mode) == 0o600
    stored = json.loads(creds_path.read_text())
    assert {r["role"] for r in stored} == {
        "admin",
        "staff",
        "coordinator",
        "commissioner",
        "watcher",
        "vc_volunteer",
        "vc_desk",
    }
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
    # the 38 rows of the shelter data as 30 facilities; the demo watcher watches a few households nearby.
    with as_tenant(tenant.id):
        async with sessionmaker() as db:
            counts = dict(
                (
                    await db.execute(
                        text(
                            "SELECT 'households', count(*) FROM household UNION ALL SELECT 'people', count(*) FROM person"
                            " UNION ALL SELECT 'unplaced', count(*) FROM household WHERE district_id IS NULL"
                            " UNION ALL SELECT 'designated', count(*) FROM shelter WHERE kind = 'designated'"
                            " UNION ALL SELECT 'emergency', count(*) FROM shelter WHERE kind = 'emergency_site'"
                            " UNION ALL SELECT 'both', count(*) FROM shelter"
                            "   WHERE designations @> ARRAY['designated', 'emergency_site'] AND hazards <> '{}'"
                            " UNION ALL SELECT 'branches', count(*) FROM district WHERE level = 'branch'"
                            " UNION ALL SELECT 'outside', count(*) FROM household h, tenant t"
                            "   WHERE t.id = h.tenant_id AND NOT ST_Covers(t.boundary, h.location)"
                        )
                    )
                ).all()
            )
    assert counts["households"] == 2500 and 2800 <= counts["people"] <= 3300
    assert counts["unplaced"] == 0 and counts["outside"] == 0
    # 30 指定避難所, 8 of them also 指定緊急避難場所 (one facility each, with the site's hazard flags)
    assert counts["designated"] == 30 and counts["emergency"] == 0 and counts["both"] == 8
    assert counts["branches"] >= 10
    mine = (await client.get("/api/households", params={"limit": 50})).json()
    assert 1 <= mine["total"] <= 5  # assigned households that consented to watchers


async def test_the_demo_shows_a_council_s_watch_network_hazard_zones_and_a_past_drill(
    sessionmaker, tmp_path, client
) -> None:
    """PRODUCT.md §6: ~1,200 watchers linked from the suggestions, most households with two within
    walking distance at a load ≤ 5, a few per cent left in pockets, synthetic flood zones over
    友部 and 岩間 households and landslide zones on the hills, and one closed drill with visits."""
    creds = {c.login: c.password for c in await seed_demo(sessionmaker, tmp_path / "c.json")}
    async with sessionmaker() as db:
        tenant = (await db.execute(select(Tenant).where(Tenant.municipality_code == "08216"))).scalar_one()
    with as_tenant(tenant.id):
        async with sessionmaker() as db:
            f = (
                await db.execute(
                    text(
                        """SELECT (SELECT count(*) FROM watcher WHERE role = 'watcher') AS watchers,
                          (SELECT count(*) FROM watcher WHERE role = 'commissioner') AS commissioners,
                          (SELECT count(*) FROM watch_link WHERE ended_at IS NULL) AS links,
                          (SELECT count(*) FROM watch_link WHERE ended_at IS NULL AND distance_m > 300) AS far_links,
                          (SELECT max(n) FROM (SELECT count(*) AS n FROM watch_link WHERE ended_at IS NULL
                                               GROUP BY watcher_id) x) AS max_load,
                          (SELECT count(*) FROM watch_link l JOIN watcher w ON w.id = l.watcher_id
                            WHERE l.ended_at IS NULL AND w.role <> 'watcher') AS commissioner_links,
                          (SELECT count(*) FROM household h WHERE (SELECT count(*) FROM watch_link l
                            WHERE l.household_id = h.id AND l.ended_at IS NULL AND l.kind = 'primary') > 1)
                            AS two_primaries"""
                    )
                )
            ).one()
            zones = (
                await db.execute(
                    text(
                        """SELECT z.kind, z.name, z.source,
                          count(h.id) FILTER (WHERE a.code = '08216-A2') AS tomobe,
                          count(h.id) FILTER (WHERE a.code = '08216-A3') AS iwama,
                          count(h.id) FILTER (WHERE NOT EXISTS (SELECT 1 FROM watch_link l
                            WHERE l.household_id = h.id AND l.ended_at IS NULL)) AS unwatched
                   FROM hazard_zone z
                   LEFT JOIN household h ON ST_Intersects(z.geom, h.location)
                   LEFT JOIN district b ON b.id = h.district_id
                   LEFT JOIN district a ON a.id = b.parent_id
                   GROUP BY z.id, z.kind, z.name, z.source ORDER BY z.kind, z.name"""
                    )
                )
            ).all()
            drill = (
                await db.execute(
                    text(
                        """SELECT o.id, o.mode, o.status, o.kind, o.started_at, o.closed_at,
                          (SELECT count(*) FROM operation_target t WHERE t.operation_id = o.id) AS targets,
                          (SELECT count(*) FROM operation_target t WHERE t.operation_id = o.id
                            AND t.status <> 'unreached') AS reached,
                          (SELECT count(DISTINCT household_id) FROM visit v WHERE v.operation_id = o.id) AS visited,
                          (SELECT count(*) FROM visit v WHERE v.operation_id = o.id AND v.mode = 'drill'
                            AND v.device_time BETWEEN o.started_at AND o.closed_at) AS visits_in_hours,
                          (SELECT count(*) FROM visit v WHERE v.operation_id = o.id) AS visits,
                          (SELECT extract(epoch FROM max(device_time) - min(device_time)) / 3600 FROM visit v
                            WHERE v.operation_id = o.id) AS span_h,
                          (SELECT count(*) FROM escalation e WHERE e.operation_id = o.id) AS escalations,
                          (SELECT count(*) FROM escalation e WHERE e.operation_id = o.id AND e.status = 'resolved'
                            AND e.resolved_at > e.acknowledged_at AND e.resolved_at <= o.closed_at) AS resolved
                   FROM operation o WHERE o.kind <> 'vc'"""  # the demo's open VC: tests/seed/test_seed_vc.py
                    )
                )
            ).all()
    assert f.watchers == 1200 and f.commissioners == 150
    assert f.far_links == 0 and f.max_load <= 5 and f.commissioner_links == 0 and f.two_primaries == 0

    # The coverage screen's own figures.
    assert (await client.login("staff", creds["staff"])).status_code == 200
    totals = (await client.get("/api/watch/coverage")).json()["totals"]
    assert totals["households"] == 2500
    assert totals["with_2_plus"] / 2500 >= 0.85, totals
    assert 0.02 <= totals["with_0"] / 2500 <= 0.08, totals  # a few per cent left unwatched …
    pockets = (await client.get("/api/watch/coverage/pockets.geojson")).json()["features"]
    assert len(pockets) >= 3  # … in pockets the coverage screen shows
    pending = (await client.get("/api/watch/suggestions", params={"limit": 200})).json()
    assert len(pending) >= 20  # and a few second watchers are still suggestions to accept

    floods = [z for z in zones if z.kind == "flood"]
    slides = [z for z in zones if z.kind == "landslide"]
    assert all("架空" in z.name and "架空" in z.source for z in zones)
    assert sum(z.tomobe for z in floods) >= 30 and sum(z.iwama for z in floods) >= 20
    assert len(slides) >= 3 and all(z.unwatched >= 3 for z in slides)  # on the remote hill hamlets

    assert len(drill) == 1
    d = drill[0]
    assert (d.mode, d.status, d.kind) == ("drill", "closed", "safety_check")
    assert d.closed_at <= datetime.now(UTC) - timedelta(days=7)
    assert d.targets == 2500 and 0.85 * d.targets <= d.reached == d.visited < d.targets
    assert d.visits == d.visits_in_hours > d.visited and d.span_h >= 3  # spread over its hours
    assert d.escalations >= 5 and d.resolved == d.escalations


async def test_demo_seed_without_a_credentials_file_issues_new_passwords(
    sessionmaker, tmp_path, client_factory
) -> None:
    path = tmp_path / "c.json"
    old = {c.login: c.password for c in await seed_demo(sessionmaker, path)}
    path.unlink()
    new = {c.login: c.password for c in await seed_demo(sessionmaker, path)}
    assert all(old[k] != new[k] for k in old)
    assert (await client_factory().login("staff", new["staff"])).status_code == 200
    assert (await client_factory().login("staff", old["staff"])).status_code == 401


def test_the_prefecture_loads_once_into_a_database_of_its_own_and_keeps_its_passwords(
    databases, tmp_path, monkeypatch
) -> None:
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
            tenant = await conn.fetchval(
                "SELECT id FROM tenant WHERE municipality_code = $1", prefecture.MUNICIPALITY_CODE
            )
            async with conn.transaction():
                await conn.execute(
                    "SELECT set_config('tonari.tenant_id', $1, true), set_config('tonari.role', 'system', true)",
                    str(tenant),
                )
                return dict(
                    await conn.fetchrow(  # type: ignore[arg-type]  # counts: always one row
                        """SELECT (SELECT count(*) FROM household WHERE district_id IS NULL) AS unplaced,
                              (SELECT count(*) FROM user_district_scope s JOIN app_user u ON u.id = s.user_id
                                WHERE u.login = 'bench-commissioner') AS commissioner_branches,
                              (SELECT count(*) FROM watch_link l JOIN watcher w ON w.id = l.watcher_id
                                JOIN app_user u ON u.id = w.user_id WHERE u.login = 'bench-watcher') AS watched"""
                    )
                )
        finally:
            await conn.close()

    loaded = asyncio.run(facts())
    assert loaded["unplaced"] == 0 and loaded["commissioner_branches"] >= 1 and loaded["watched"] == 5


def test_analyze_after_the_seed_gives_the_planner_the_loaded_sizes(databases, monkeypatch) -> None:
    """`make run` runs `server.cli analyze` as the owner after the demo's bulk load: the first
    screens are planned for the rows that are there, not for the empty tables of the migration."""
    owner = databases.make("analyze")
    monkeypatch.setenv("TONARI_MIGRATE_DATABASE_URL", owner)

    async def last_analyze(load: bool = False) -> object:
        conn = await asyncpg.connect(asyncpg_dsn(owner))
        try:
            if load:  # a bulk load into a table of the owner's, as the seed's
                await conn.execute("CREATE TABLE household AS SELECT g AS id FROM generate_series(1, 2500) g")
            return await conn.fetchval("SELECT last_analyze FROM pg_stat_user_tables WHERE relname = 'household'")
        finally:
            await conn.close()

    assert asyncio.run(last_analyze(load=True)) is None
    from server.cli import cmd_analyze

    cmd_analyze(argparse.Namespace())
    assert asyncio.run(last_analyze()) is not None
