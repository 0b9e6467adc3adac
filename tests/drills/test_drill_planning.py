"""The planning tool (`/api/drills/planning`): a simulated round on a small world where every time
is the walking model's arithmetic, redone here by hand.

District A: watcher WA walks to H1 (100 m north) then H2 (200 m north); H3 (150 m south, inside a
landslide zone, so an earthquake slows the walk there) is linked to WX (unavailable, primary) and
WB (backup, 200 m further south), so WB walks it. District B: H4 and H5, 100 m apart, no watcher.
"""

from __future__ import annotations

import uuid
from datetime import date

import pytest
from sqlalchemy import text

from server.drills.planning import NEW_WATCHER_CAPACITY
from server.drills.scenario import Bots
from server.drills.walking import DWELL_S
from server.registry.models import Consent, District, HazardZone, Household, Person, Watcher, WatchLink
from tests.conftest import as_tenant

LON0, LAT0 = 140.30, 36.38
M_LAT, M_LON = 110_966.0, 89_830.0  # metres per degree near 36.4°N
BOTS = Bots()  # the planning tool uses the bots' defaults
SPEED = BOTS.walk_kmh / 3.6
DELAY = 60 * BOTS.start_delay_minutes


def pt(north: float, east: float = 0.0) -> tuple[float, float]:
    return (LON0 + east / M_LON, LAT0 + north / M_LAT)


def ewkt(p: tuple[float, float]) -> str:
    return f"SRID=4326;POINT({p[0]} {p[1]})"


def box(a: tuple[float, float], b: tuple[float, float]) -> str:
    (x0, y0), (x1, y1) = a, b
    return f"SRID=4326;MULTIPOLYGON((({x0} {y0},{x1} {y0},{x1} {y1},{x0} {y1},{x0} {y0})))"


SPOTS = {
    "WA": pt(0),
    "H1": pt(100),
    "H2": pt(200),
    "H3": pt(-150),
    "WB": pt(-350),
    "WX": pt(-140),
    "H4": pt(0, 2000),
    "H5": pt(100, 2000),
}


@pytest.fixture
async def world(make_tenant, sessionmaker):
    tenant = await make_tenant()
    t = tenant.id
    ids = {k: uuid.uuid4() for k in (*SPOTS, "A", "B")}
    with as_tenant(t):
        async with sessionmaker() as db, db.begin():
            db.add_all(
                [
                    District(
                        tenant_id=t,
                        id=ids["A"],
                        code="A",
                        name="地区A",
                        level="branch",
                        geom=box(pt(-1000, -500), pt(1000, 500)),
                    ),
                    District(
                        tenant_id=t,
                        id=ids["B"],
                        code="B",
                        name="地区B",
                        level="branch",
                        geom=box(pt(-1000, 1500), pt(1000, 2500)),
                    ),
                ]
            )
            await db.flush()
            for k in ("H1", "H2", "H3", "H4", "H5"):
                db.add(
                    Household(
                        tenant_id=t,
                        id=ids[k],
                        address=f"茨城県笠間市計画{k}",
                        district_id=ids["A" if k in ("H1", "H2", "H3") else "B"],
                        location=ewkt(SPOTS[k]),
                    )
                )
            db.add(HazardZone(tenant_id=t, id=uuid.uuid4(), kind="landslide", geom=box(pt(-200, -50), pt(-100, 50))))
            await db.flush()
            for k in ("WA", "WB", "WX"):
                db.add(
                    Watcher(
                        tenant_id=t,
                        id=ids[k],
                        name=f"見守 {k}",
                        home=ewkt(SPOTS[k]),
                        district_id=ids["A"],
                        available=k != "WX",
                    )
                )
            await db.flush()
            for h, w, kind in (
                ("H1", "WA", "primary"),
                ("H2", "WA", "primary"),
                ("H3", "WX", "primary"),
                ("H3", "WB", "backup"),
            ):
                db.add(WatchLink(tenant_id=t, id=uuid.uuid4(), household_id=ids[h], watcher_id=ids[w], kind=kind))
            # The coordinator may see H1 only (the council's consent class).
            person = uuid.uuid4()
            db.add(Person(tenant_id=t, id=person, household_id=ids["H1"], name="住人 H1"))
            await db.flush()
            db.add(
                Consent(
                    tenant_id=t,
                    id=uuid.uuid4(),
                    person_id=person,
                    household_id=ids["H1"],
                    recipient_class="council",
                    dataset="roster",
                    consented_on=date(2026, 4, 1),
                    source="同意書",
                )
            )
    return tenant, ids


async def metres(sessionmaker, a: str, b: str) -> float:
    async with sessionmaker() as db:
        (pa, pb) = SPOTS[a], SPOTS[b]
        return float(
            (
                await db.execute(
                    text(
                        "SELECT ST_Distance(ST_SetSRID(ST_MakePoint(:x0, :y0), 4326)::geography,"
                        " ST_SetSRID(ST_MakePoint(:x1, :y1), 4326)::geography)"
                    ),
                    {"x0": pa[0], "y0": pa[1], "x1": pb[0], "y1": pb[1]},
                )
            ).scalar_one()
        )


def leg(m: float, slowed: bool = False) -> float:
    """The model's arithmetic: straight line × detour at walking speed, halved in a zone, + dwell."""
    return m * BOTS.detour / SPEED / (BOTS.hazard_slowdown if slowed else 1) + DWELL_S


async def login(client_factory, tenant, role: str):
    c = client_factory()
    acct = tenant.accounts[role]
    assert (await c.login(acct.login, acct.password)).status_code == 200
    return c


def by_code(body: dict) -> dict[str, dict]:
    return {d["code"]: d for d in body["districts"]}


async def test_today_times_are_the_walking_models_arithmetic(world, client_factory, sessionmaker):
    tenant, _ = world
    staff = await login(client_factory, tenant, "staff")
    r = await staff.get("/api/drills/planning/")
    assert r.status_code == 200, r.text
    body = r.json()
    h1 = DELAY + leg(await metres(sessionmaker, "WA", "H1"))
    h2 = h1 + leg(await metres(sessionmaker, "H1", "H2"))
    h3 = DELAY + leg(await metres(sessionmaker, "WB", "H3"), slowed=True)  # WB: WX is unavailable
    a = by_code(body)["A"]["today"]
    assert (a["households"], a["watchers"], a["unwatched"]) == (3, 2, 0)
    assert a["first_report_s"] == pytest.approx(h1, abs=0.1)
    assert a["confirmed_50_s"] == pytest.approx(sorted([h1, h2, h3])[1], abs=0.1)
    assert a["confirmed_100_s"] == pytest.approx(max(h1, h2, h3), abs=0.1)
    assert a["confirmed_100_s"] == pytest.approx(h3, abs=0.1)  # the slowed walk finishes last
    # A district without watchers is never confirmed by a round, and says so.
    b = by_code(body)["B"]["today"]
    assert (b["households"], b["watchers"], b["unwatched"]) == (2, 0, 2)
    assert b["first_report_s"] is None and b["confirmed_50_s"] is None and b["confirmed_100_s"] is None
    total = body["totals_today"]
    assert (total["households"], total["unwatched"], total["confirmed_100_s"]) == (5, 2, None)
    assert body["added_placed"] == 0 and body["placements"] == []
    # With nothing added, the second column is the first.
    assert by_code(body)["A"]["with_added"] == a


async def test_added_watchers_go_to_the_weakest_districts(world, client_factory, sessionmaker):
    tenant, ids = world
    staff = await login(client_factory, tenant, "staff")
    body = (await staff.get("/api/drills/planning/", params={"added": 2})).json()
    districts = by_code(body)
    # First B (households nobody visits): one watcher recruited next to them takes both.
    assert body["placements"][0] == {"district_id": str(ids["B"]), "households": 2}
    b = districts["B"]["with_added"]
    h45 = await metres(sessionmaker, "H4", "H5")
    assert b["unwatched"] == 0 and b["watchers"] == 1
    assert b["first_report_s"] == pytest.approx(DELAY + DWELL_S, abs=0.1)
    assert b["confirmed_100_s"] == pytest.approx(DELAY + DWELL_S + leg(h45), abs=0.1)
    # Then A, now the slowest: a watcher next to H3 (confirmed last) takes H3, and nothing it would
    # reach later than today; A's 100 % time falls to H2's.
    assert body["placements"][1] == {"district_id": str(ids["A"]), "households": 1}
    a_today, a_added = districts["A"]["today"], districts["A"]["with_added"]
    h2 = DELAY + leg(await metres(sessionmaker, "WA", "H1")) + leg(await metres(sessionmaker, "H1", "H2"))
    assert a_added["confirmed_100_s"] < a_today["confirmed_100_s"]
    assert a_added["confirmed_100_s"] == pytest.approx(h2, abs=0.1)
    assert a_added["watchers"] == 2  # WA and the new watcher; WB no longer walks
    assert (districts["A"]["added_watchers"], districts["B"]["added_watchers"]) == (1, 1)
    assert body["totals_with_added"]["unwatched"] == 0
    assert body["totals_with_added"]["confirmed_100_s"] == pytest.approx(max(h2, b["confirmed_100_s"]), abs=0.1)
    assert body["new_watcher_capacity"] == NEW_WATCHER_CAPACITY
    # Nothing was written: the plan is the same when asked again, and no watcher was added.
    again = (await staff.get("/api/drills/planning/", params={"added": 2})).json()
    assert again == body
    with as_tenant(tenant.id):
        async with sessionmaker() as db:
            n = (await db.execute(text("SELECT count(*) FROM watcher WHERE tenant_id = :t"), {"t": tenant.id})).scalar()
    assert n == 3


async def test_no_gain_means_fewer_placed_than_asked(world, client_factory):
    tenant, _ = world
    staff = await login(client_factory, tenant, "staff")
    body = (await staff.get("/api/drills/planning/", params={"added": 50})).json()
    # Each watcher takes at least one household it reaches sooner; five households bound the gains.
    assert 2 <= body["added_placed"] < 50
    assert body["added_requested"] == 50
    assert sum(p["households"] for p in body["placements"]) >= body["added_placed"]


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("admin", 200),
        ("staff", 200),
        ("coordinator", 200),
        ("commissioner", 403),
        ("watcher", 403),
        ("vc_volunteer", 403),
    ],
)
async def test_role_matrix(world, client_factory, role, status):
    tenant, _ = world
    c = await login(client_factory, tenant, role)
    assert (await c.get("/api/drills/planning/")).status_code == status


async def test_signed_out_is_refused(client):
    assert (await client.get("/api/drills/planning/")).status_code == 401


async def test_coordinator_plans_over_the_households_it_may_see(world, client_factory):
    tenant, ids = world
    coordinator = await login(client_factory, tenant, "coordinator")
    r = await coordinator.get("/api/drills/planning/", params={"added": 1})
    assert r.status_code == 200, r.text
    body = r.json()
    assert by_code(body)["A"]["today"]["households"] == 1  # H1 only: consent-bound, like coverage
    assert body["totals_today"]["households"] == 1
    for h in ("H1", "H2", "H3", "H4", "H5"):  # counts, never a household
        assert str(ids[h]) not in r.text


@pytest.mark.parametrize(
    "params",
    [{"hazard": "meteor"}, {"added": "-1"}, {"added": str(10_000)}, {"added": "two"}],
)
async def test_bad_input_is_a_problem(world, client_factory, params):
    tenant, _ = world
    staff = await login(client_factory, tenant, "staff")
    r = await staff.get("/api/drills/planning/", params=params)
    assert r.status_code == 400, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["code"]


async def test_a_flood_slows_in_flood_zones_only(world, client_factory, sessionmaker):
    """The hazard picks the zones that slow a walk (the bots' table): a landslide zone does not
    slow a flood round."""
    tenant, _ = world
    staff = await login(client_factory, tenant, "staff")
    body = (await staff.get("/api/drills/planning/", params={"hazard": "flood"})).json()
    h3 = DELAY + leg(await metres(sessionmaker, "WB", "H3"))
    h2 = DELAY + leg(await metres(sessionmaker, "WA", "H1")) + leg(await metres(sessionmaker, "H1", "H2"))
    assert by_code(body)["A"]["today"]["confirmed_100_s"] == pytest.approx(max(h2, h3), abs=0.1)


async def test_a_recruit_counts_neighbours_the_whole_radius_east_west_up_north(
    make_tenant, sessionmaker, client_factory
):
    """At 45°N (northern Hokkaido) a degree of longitude is ~79 km: two unwatched households 290 m
    apart east-west are neighbours within the default 300 m, and the recruit goes next to them (it
    takes both), not to a lone household elsewhere — even one that sorts first by id."""
    tenant = await make_tenant()
    t = tenant.id
    lat = 45.0
    m_lon = 111_320.0 * 0.7071  # ≈ metres per degree of longitude at 45°N (the test needs no more)
    lone = uuid.UUID(int=1)  # first by id: picked if the pair were not counted as neighbours
    pair = [uuid.uuid4(), uuid.uuid4()]
    district = uuid.uuid4()
    with as_tenant(t):
        async with sessionmaker() as db, db.begin():
            db.add(
                District(
                    tenant_id=t,
                    id=district,
                    code="N",
                    name="北の地区",
                    level="branch",
                    geom=f"SRID=4326;MULTIPOLYGON(((141 {lat - 0.1},141.2 {lat - 0.1},141.2 {lat + 0.1},141 {lat + 0.1},141 {lat - 0.1})))",
                )
            )
            await db.flush()
            for hid, east in ((lone, 5000.0), (pair[0], 0.0), (pair[1], 290.0)):
                db.add(
                    Household(
                        tenant_id=t,
                        id=hid,
                        address="北海道架空町",
                        district_id=district,
                        location=f"SRID=4326;POINT({141.05 + east / m_lon} {lat})",
                    )
                )
    async with sessionmaker() as db:
        apart = (
            await db.execute(
                text(
                    "SELECT ST_Distance(ST_SetSRID(ST_MakePoint(:x0, :y), 4326)::geography,"
                    " ST_SetSRID(ST_MakePoint(:x1, :y), 4326)::geography)"
                ),
                {"x0": 141.05, "x1": 141.05 + 290.0 / m_lon, "y": lat},
            )
        ).scalar_one()
    assert 250 < apart < 300  # neighbours by the rule's own measure
    staff = await login(client_factory, tenant, "staff")
    body = (await staff.get("/api/drills/planning/", params={"added": 1})).json()
    assert body["placements"] == [{"district_id": str(district), "households": 2}]
    assert by_code(body)["N"]["with_added"]["unwatched"] == 1
