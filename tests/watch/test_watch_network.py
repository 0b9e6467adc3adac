"""The watch network (向こう三軒両隣): suggestions, links, coverage and pockets through the API.

Each test builds its own small tenant at known distances. Places are given as (group, metres
north, metres east) around a Kasama point; groups lie 0.05° of longitude (≈4.5 km) apart so
they never interact. Distances are then checked against PostGIS' own geography distances.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from shapely.geometry import Point, shape
from sqlalchemy import text

from server.registry.models import Consent, District, HazardZone, Household, Person, Watcher, WatchLink
from server.watch.suggest import Candidate, allocate, suggestion_sql
from tests.conftest import as_tenant

KASAMA_BOX = "SRID=4326;MULTIPOLYGON(((140.16 36.26,140.80 36.26,140.80 36.45,140.16 36.45,140.16 36.26)))"
LON0, LAT0 = 140.20, 36.30
M_PER_DEG_LAT = 110_966.0  # at 36.3°N on GRS80
M_PER_DEG_LON = 89_830.0


def pt(group: int, north: float = 0.0, east: float = 0.0) -> tuple[float, float]:
    return (LON0 + group * 0.05 + east / M_PER_DEG_LON, LAT0 + north / M_PER_DEG_LAT)


def ewkt_point(p: tuple[float, float]) -> str:
    return f"SRID=4326;POINT({p[0]} {p[1]})"


def box_wkt(lon0: float, lat0: float, lon1: float, lat1: float) -> str:
    return f"SRID=4326;MULTIPOLYGON((({lon0} {lat0},{lon1} {lat0},{lon1} {lat1},{lon0} {lat1},{lon0} {lat0})))"


def around(p: tuple[float, float], metres: float) -> str:
    dlon, dlat = metres / M_PER_DEG_LON, metres / M_PER_DEG_LAT
    return box_wkt(p[0] - dlon, p[1] - dlat, p[0] + dlon, p[1] + dlat)


@dataclass
class World:
    """Rows to insert, by test key, and their ids once saved."""

    tenant_id: uuid.UUID
    ids: dict[str, uuid.UUID] = field(default_factory=dict)
    spots: dict[str, tuple[float, float]] = field(default_factory=dict)
    rows: list[Any] = field(default_factory=list)
    accounts: dict[str, Any] = field(default_factory=dict)  # the tenant's sign-ins, by role

    def _id(self, key: str) -> uuid.UUID:
        assert key not in self.ids, key
        self.ids[key] = uuid.uuid4()
        return self.ids[key]

    def district(
        self, key: str, geom: str, radius: int = 300, parent: str | None = None, level: str = "branch"
    ) -> None:
        self.rows.append(
            District(
                tenant_id=self.tenant_id,
                id=self._id(key),
                code=key,
                name=f"地区{key}",
                level=level,
                parent_id=self.ids[parent] if parent else None,
                walking_radius_m=radius,
                geom=geom,
            )
        )

    def household(self, key: str, p: tuple[float, float], district: str | None = "D") -> None:
        self.spots[key] = p
        self.rows.append(
            Household(
                tenant_id=self.tenant_id,
                id=self._id(key),
                address=f"茨城県笠間市見守{key}",
                district_id=self.ids[district] if district else None,
                location=ewkt_point(p),
            )
        )

    def watcher(
        self,
        key: str,
        p: tuple[float, float],
        capacity: int = 5,
        available: bool = True,
        role: str = "watcher",
        household: str | None = None,
        district: str | None = "D",
    ) -> None:
        self.spots[key] = p
        self.rows.append(
            Watcher(
                tenant_id=self.tenant_id,
                id=self._id(key),
                name=f"見守 {key}",
                role=role,
                home=ewkt_point(p),
                capacity=capacity,
                available=available,
                household_id=self.ids[household] if household else None,
                district_id=self.ids[district] if district else None,
            )
        )

    def link(self, household: str, watcher: str, kind: str = "primary") -> None:
        self.rows.append(
            WatchLink(
                tenant_id=self.tenant_id,
                id=uuid.uuid4(),
                household_id=self.ids[household],
                watcher_id=self.ids[watcher],
                kind=kind,
            )
        )

    def hazard(self, geom: str) -> None:
        self.rows.append(HazardZone(tenant_id=self.tenant_id, id=uuid.uuid4(), kind="flood", geom=geom))

    def consent(self, household: str, recipient_class: str) -> None:
        pid = uuid.uuid4()
        self.rows.append(
            Person(tenant_id=self.tenant_id, id=pid, household_id=self.ids[household], name=f"住人 {household}")
        )
        self.rows.append(
            Consent(
                tenant_id=self.tenant_id,
                id=uuid.uuid4(),
                person_id=pid,
                household_id=self.ids[household],
                recipient_class=recipient_class,
                dataset="roster",
                consented_on=date(2026, 4, 1),
                source="同意書",
            )
        )

    async def save(self, sessionmaker) -> None:
        order = (District, Household, Person, Consent, Watcher, WatchLink, HazardZone)
        with as_tenant(self.tenant_id):
            async with sessionmaker() as db, db.begin():
                for model in order:
                    db.add_all([r for r in self.rows if isinstance(r, model)])
                    await db.flush()
        self.rows.clear()

    def key(self, some_id: str | uuid.UUID) -> str:
        return {str(v): k for k, v in self.ids.items()}[str(some_id)]


@pytest.fixture
async def world(make_tenant, sessionmaker):
    tenant = await make_tenant(("admin", "staff", "coordinator", "commissioner", "watcher", "vc_volunteer"))
    with as_tenant(tenant.id):
        async with sessionmaker() as db, db.begin():
            await db.execute(
                text("UPDATE tenant SET boundary = ST_GeomFromEWKT(:b) WHERE id = :t"),
                {"b": KASAMA_BOX, "t": tenant.id},
            )
    w = World(tenant.id)
    w.accounts = tenant.accounts
    w.district("D", KASAMA_BOX)  # the default district, walking radius 300 m
    return w


@pytest.fixture
def login(client_factory):
    async def make(w: World, role: str):
        c = client_factory()
        acct = w.accounts[role]
        assert (await c.login(acct.login, acct.password)).status_code == 200
        return c

    return make


def by_household(w: World, body: list[dict[str, Any]]) -> dict[str, list[tuple[str, str, int]]]:
    out: dict[str, list[tuple[str, str, int]]] = {}
    for s in body:
        out.setdefault(w.key(s["household_id"]), []).append((s["kind"], w.key(s["watcher_id"]), s["distance_m"]))
    return out


# ---- suggestions ---------------------------------------------------------------------------------


def suggestion_world(w: World) -> None:
    # G0: the nearest two eligible watchers; self, 民生委員 and unavailable ones are skipped.
    w.household("H_basic", pt(0))
    w.watcher("W_self", pt(0, 10), household="H_basic")
    w.watcher("W_comm", pt(0, 30), role="commissioner", capacity=5)
    w.watcher("W_unavail", pt(0, 40), available=False)
    w.watcher("W_near", pt(0, 100))
    w.watcher("W_mid", pt(0, 200))
    w.watcher("W_far", pt(0, 400))
    # G1: capacity. W_cap1 takes one household of the batch; W_full is already full.
    w.household("H_a", pt(1, 50))
    w.household("H_b", pt(1, -80))
    w.household("H_c", pt(1, 150))
    w.household("H_x", pt(1, 500))
    w.watcher("W_cap1", pt(1, 0), capacity=1)
    w.watcher("W_full", pt(1, 20), capacity=1)
    w.watcher("W_big", pt(1, 250), capacity=5)
    # G2: covered twice → skipped; covered once → one backup, never the watcher it already has.
    w.household("H_two", pt(2, 0))
    w.household("H_one", pt(2, 120))
    w.watcher("W_2a", pt(2, 50))
    w.watcher("W_2b", pt(2, -50))
    w.watcher("W_2c", pt(2, 200))
    # G3: a district with a 150 m walking radius.
    w.district("D_small", around(pt(3), 60), radius=150)
    w.household("H_small", pt(3), district="D_small")
    w.household("H_wide", pt(3, 400))
    w.watcher("W_3", pt(3, 200))
    w.consent("H_basic", "council")  # the coordinator may see H_basic only


async def _suggestion_world(w: World, sessionmaker) -> None:
    suggestion_world(w)
    await w.save(sessionmaker)
    w.link("H_x", "W_full")  # W_full: capacity 1, load 1
    w.link("H_two", "W_2a")
    w.link("H_two", "W_2b", "backup")
    w.link("H_one", "W_2a")
    await w.save(sessionmaker)


async def test_suggestions_pick_the_nearest_eligible_within_radius(world, login, sessionmaker) -> None:
    w = world
    await _suggestion_world(w, sessionmaker)
    staff = await login(w, "staff")
    r = await staff.get("/api/watch/suggestions")
    assert r.status_code == 200, r.text
    assert r.headers["cache-control"] == "private, no-store"
    got = by_household(w, r.json())

    # The nearest two, primary first; self (10 m), 民生委員 (30 m), unavailable (40 m), 400 m: never.
    assert [(k, wid) for k, wid, _ in got["H_basic"]] == [("primary", "W_near"), ("backup", "W_mid")]
    assert [d for *_, d in got["H_basic"]] == [pytest.approx(100, abs=2), pytest.approx(200, abs=2)]
    # Capacity: W_cap1 (capacity 1) goes to the nearest household only; W_full (30 m from H_a) never.
    assert got["H_a"] == [
        ("primary", "W_cap1", pytest.approx(50, abs=2)),
        ("backup", "W_big", pytest.approx(200, abs=2)),
    ]
    assert "H_b" not in got  # W_cap1 taken, W_big 330 m away
    assert got["H_c"] == [("primary", "W_big", pytest.approx(100, abs=2))]
    assert got["H_x"] == [("backup", "W_big", pytest.approx(250, abs=2))]  # it has a primary already
    proposed = [wid for rows in got.values() for _, wid, _ in rows]
    assert proposed.count("W_cap1") == 1
    assert not {"W_self", "W_comm", "W_unavail", "W_far", "W_full"} & set(proposed)
    # Covered twice: nothing; covered once: one backup, not the watcher it already has.
    assert "H_two" not in got
    assert got["H_one"] == [("backup", "W_2c", pytest.approx(80, abs=2))]
    # A district's own walking radius: W_3 is 200 m from both; H_small's radius is 150 m.
    assert "H_small" not in got
    assert got["H_wide"] == [("primary", "W_3", pytest.approx(200, abs=2))]
    assert set(got) == {"H_basic", "H_a", "H_c", "H_x", "H_one", "H_wide"}
    assert r.headers["x-truncated"] == "false"
    assert r.headers["x-households-considered"] == "8"  # every household with fewer than 2 links
    assert r.headers["x-households-without-candidates"] == "1"  # H_small

    # Scoped by household and by district.
    one = await staff.get("/api/watch/suggestions", params={"household_id": str(w.ids["H_basic"])})
    assert {x["household_id"] for x in one.json()} == {str(w.ids["H_basic"])} and len(one.json()) == 2
    small = await staff.get("/api/watch/suggestions", params={"district_id": str(w.ids["D_small"])})
    assert small.json() == [] and small.headers["x-households-considered"] == "1"
    trunc = await staff.get("/api/watch/suggestions", params={"limit": 1})
    assert trunc.headers["x-truncated"] == "true" and len({x["household_id"] for x in trunc.json()}) <= 1
    both = await staff.get(
        "/api/watch/suggestions", params={"household_id": str(w.ids["H_a"]), "district_id": str(w.ids["D"])}
    )
    assert both.status_code == 400
    assert (await staff.get("/api/watch/suggestions", params={"district_id": str(uuid.uuid4())})).status_code == 404

    # Reads are audited as household reads.
    audit = (await staff.get("/api/audit", params={"action": "household.read"})).json()["items"]
    assert any(a["details"].get("via") == "watch.suggestions" for a in audit)


async def test_suggestions_follow_the_disclosure_rule_and_roles(world, login, sessionmaker) -> None:
    w = world
    await _suggestion_world(w, sessionmaker)
    coordinator = await login(w, "coordinator")
    r = await coordinator.get("/api/watch/suggestions")
    assert r.status_code == 200
    assert {w.key(x["household_id"]) for x in r.json()} == {"H_basic"}  # consented for 社協 only
    commissioner = await login(w, "commissioner")
    assert (await commissioner.get("/api/watch/suggestions")).json() == []  # nobody consented for 民生委員
    for role in ("watcher", "vc_volunteer"):
        c = await login(w, role)
        assert (await c.get("/api/watch/suggestions")).status_code == 403


async def test_after_linking_a_household_is_no_longer_suggested(world, login, sessionmaker) -> None:
    w = world
    await _suggestion_world(w, sessionmaker)
    staff = await login(w, "staff")
    for s in (await staff.get("/api/watch/suggestions", params={"household_id": str(w.ids["H_basic"])})).json():
        r = await staff.send_json(
            "POST",
            "/api/watch/links",
            {**{k: s[k] for k in ("household_id", "watcher_id", "kind")}, "via": "suggestion"},
        )
        assert r.status_code == 201, r.text
    assert (await staff.get("/api/watch/suggestions", params={"household_id": str(w.ids["H_basic"])})).json() == []
    # W_cap1 fills up once accepted: H_b (80 m from it) still gets nobody, H_a now only a backup.
    r = await staff.send_json(
        "POST", "/api/watch/links", {"household_id": str(w.ids["H_a"]), "watcher_id": str(w.ids["W_cap1"])}
    )
    assert r.status_code == 201
    got = by_household(w, (await staff.get("/api/watch/suggestions")).json())
    assert got["H_a"] == [("backup", "W_big", pytest.approx(200, abs=2))]
    assert "H_b" not in got


def test_allocation_gives_everyone_one_before_anyone_two() -> None:
    a, b, w1, w2 = (uuid.UUID(int=i) for i in range(1, 5))
    rows = [
        Candidate(a, 0, False, w1, 10.0, 1),
        Candidate(a, 0, False, w2, 15.0, 1),
        Candidate(b, 0, False, w2, 20.0, 1),
    ]
    out = allocate(rows)
    assert [(s.household_id, s.kind, s.watcher_id) for s in out] == [(a, "primary", w1), (b, "primary", w2)]
    # With room for both, A gets its backup too; nobody exceeds remaining capacity.
    rows = [
        Candidate(a, 0, False, w1, 10.0, 1),
        Candidate(a, 0, False, w2, 15.0, 2),
        Candidate(b, 0, False, w2, 20.0, 2),
        Candidate(b, 1, True, None, None, None),
    ]
    out = allocate(rows[:3])
    assert [(s.household_id, s.kind, s.watcher_id, s.distance_m) for s in out] == [
        (a, "primary", w1, 10),
        (a, "backup", w2, 15),
        (b, "primary", w2, 20),
    ]


async def test_the_suggestion_query_walks_the_gist_index(world, sessionmaker) -> None:
    """KNN ordering is the one spatial access path RLS leaves to the GiST index: keep it that way.

    A handful of test rows would never tempt the planner to the index by cost (the bench copy
    with 30,000 watchers does, see server.watch.suggest), so plain scans and sorts are priced out
    here: what is checked is that the query shape lets the index serve the ordering at all.
    """
    w = world
    await _suggestion_world(w, sessionmaker)
    with as_tenant(w.tenant_id, role="staff"):
        async with sessionmaker() as db, db.begin():
            await db.execute(text("SET LOCAL enable_seqscan = off"))
            await db.execute(text("SET LOCAL enable_sort = off"))
            plan = "\n".join(
                (
                    await db.execute(
                        text("EXPLAIN " + suggestion_sql(district=True)),
                        {"tenant": w.tenant_id, "district": w.ids["D"], "limit_plus_one": 11, "k": 8, "scan": 64},
                    )
                ).scalars()
            )
    assert "Index Scan using idx_watcher_home on watcher" in plan, plan
    assert "Order By: (home <-> n.location)" in plan


# ---- links ---------------------------------------------------------------------------------------


async def test_links_create_refuse_change_and_end(world, login, sessionmaker) -> None:
    w = world
    w.household("H1", pt(0))
    w.household("H2", pt(0, 300))
    w.watcher("W_self", pt(0, 10), household="H1")
    w.watcher("W1", pt(0, 100), capacity=1)
    w.watcher("W2", pt(0, 200))
    w.watcher("W3", pt(0, 150))
    w.watcher("W_off", pt(0, 50), available=False)
    await w.save(sessionmaker)
    staff = await login(w, "staff")
    ids = {k: str(v) for k, v in w.ids.items()}

    async def post(body: dict[str, Any]):
        return await staff.send_json("POST", "/api/watch/links", body)

    r = await post({"household_id": ids["H1"], "watcher_id": ids["W1"], "kind": "primary", "via": "suggestion"})
    assert r.status_code == 201, r.text
    l1 = r.json()
    assert l1["kind"] == "primary" and l1["ended_at"] is None and l1["distance_m"] == pytest.approx(100, abs=2)
    assert l1["since"] == datetime.now(ZoneInfo("Asia/Tokyo")).date().isoformat()  # the tenant's day, not UTC's

    dup = await post({"household_id": ids["H1"], "watcher_id": ids["W1"], "kind": "backup"})
    assert dup.status_code == 409 and dup.json()["reason"] == "duplicate"
    own = await post({"household_id": ids["H1"], "watcher_id": ids["W_self"], "kind": "backup"})
    assert own.status_code == 400 and own.json()["errors"][0]["field"] == "watcher_id"
    full = await post({"household_id": ids["H2"], "watcher_id": ids["W1"], "kind": "primary"})
    assert full.status_code == 409 and full.json()["reason"] == "over_capacity"
    assert full.json()["load"] == 1 and full.json()["capacity"] == 1
    off = await post({"household_id": ids["H2"], "watcher_id": ids["W_off"]})
    assert off.status_code == 409 and off.json()["reason"] == "unavailable"
    forced = await post({"household_id": ids["H2"], "watcher_id": ids["W1"], "kind": "primary", "override": True})
    assert forced.status_code == 201, forced.text
    second_primary = await post({"household_id": ids["H1"], "watcher_id": ids["W2"], "kind": "primary"})
    assert second_primary.status_code == 409 and second_primary.json()["reason"] == "primary_exists"
    r = await post({"household_id": ids["H1"], "watcher_id": ids["W2"], "kind": "backup"})
    assert r.status_code == 201
    l2 = r.json()
    assert (await post({"household_id": str(uuid.uuid4()), "watcher_id": ids["W2"]})).status_code == 404
    assert (await post({"household_id": ids["H1"], "watcher_id": str(uuid.uuid4())})).status_code == 404

    listed = (await staff.get("/api/watch/links", params={"household_id": ids["H1"]})).json()
    assert {(x["watcher_id"], x["kind"]) for x in listed} == {(ids["W1"], "primary"), (ids["W2"], "backup")}
    assert (
        len((await staff.get("/api/watch/links", params={"watcher_id": ids["W1"]})).json()) == 2
    )  # H1 and H2 (override)

    # Promote the backup: the primary becomes the backup.
    r = await staff.send_json("PATCH", f"/api/watch/links/{l2['id']}", {"kind": "primary"})
    assert r.status_code == 200 and r.json()["kind"] == "primary" and r.json()["id"] == l2["id"]
    listed = (await staff.get("/api/watch/links", params={"household_id": ids["H1"]})).json()
    assert {(x["watcher_id"], x["kind"]) for x in listed} == {(ids["W1"], "backup"), (ids["W2"], "primary")}
    # Change the watcher: the old link ends (history kept), a new one starts with the same kind.
    r = await staff.send_json("PATCH", f"/api/watch/links/{l1['id']}", {"watcher_id": ids["W3"]})
    assert r.status_code == 200, r.text
    l3 = r.json()
    assert l3["id"] != l1["id"] and l3["watcher_id"] == ids["W3"] and l3["kind"] == "backup"
    assert l3["distance_m"] == pytest.approx(150, abs=2)
    history = (await staff.get("/api/watch/links", params={"household_id": ids["H1"], "include_ended": "true"})).json()
    ended = [x for x in history if x["id"] == l1["id"]]
    assert ended and ended[0]["ended_at"] is not None
    assert (await staff.send_json("PATCH", f"/api/watch/links/{l1['id']}", {"kind": "primary"})).status_code == 409
    bad = await staff.send_json("PATCH", f"/api/watch/links/{l3['id']}", {"watcher_id": ids["W_self"]})
    assert bad.status_code == 400

    # End a link: gone from the active list, kept in history; ending twice is harmless.
    assert (await staff.send_json("DELETE", f"/api/watch/links/{l3['id']}")).status_code == 204
    assert (await staff.send_json("DELETE", f"/api/watch/links/{l3['id']}")).status_code == 204
    assert (await staff.send_json("DELETE", f"/api/watch/links/{uuid.uuid4()}")).status_code == 404
    active = (await staff.get("/api/watch/links", params={"household_id": ids["H1"]})).json()
    assert [x["watcher_id"] for x in active] == [ids["W2"]]
    history = (await staff.get("/api/watch/links", params={"household_id": ids["H1"], "include_ended": "true"})).json()
    assert len(history) == 3 and sum(1 for x in history if x["ended_at"]) == 2
    # W1 is free again after its H1 link was moved to W3: below capacity without override.
    assert (await staff.get("/api/watch/links", params={"watcher_id": ids["W1"]})).json()[0]["household_id"] == ids[
        "H2"
    ]

    assert (
        await staff.send_json(
            "POST",
            "/api/watch/suggestions/reject",
            {"household_id": ids["H2"], "watcher_id": ids["W2"], "reason": "本人が辞退"},
        )
    ).status_code == 204
    assert (
        await staff.send_json(
            "POST", "/api/watch/suggestions/reject", {"household_id": ids["H2"], "watcher_id": str(uuid.uuid4())}
        )
    ).status_code == 404

    async def actions(name: str) -> list[dict[str, Any]]:
        return (await staff.get("/api/audit", params={"action": name})).json()["items"]

    creates = await actions("watch_link.create")
    assert len(creates) == 3  # refusals write nothing
    assert {c["details"]["via"] for c in creates} == {"suggestion", "manual"}
    assert any(c["details"]["override"] and c["details"]["over_capacity"] for c in creates)
    updates = await actions("watch_link.update")
    assert len(updates) == 2 and any(u["details"].get("replaced_link_id") == l1["id"] for u in updates)
    assert len(await actions("watch_link.end")) == 1
    assert len(await actions("watch_suggestion.reject")) == 1
    assert await actions("watch_link.read")


async def test_a_watcher_beyond_walking_distance_is_linked_only_when_confirmed_and_is_weak_cover(
    world, login, sessionmaker
) -> None:
    w = world
    w.household("H", pt(0))
    w.watcher("W_near", pt(0, 100))
    w.watcher("W_far", pt(0, 14_000))  # 14 km north: the district walks 300 m
    w.watcher("W_far2", pt(0, 5_000))
    await w.save(sessionmaker)
    staff = await login(w, "staff")
    ids = {k: str(v) for k, v in w.ids.items()}

    r = await staff.send_json("POST", "/api/watch/links", {"household_id": ids["H"], "watcher_id": ids["W_far"]})
    assert r.status_code == 409 and r.json()["code"] == "watch_link_beyond_radius", r.text
    assert r.json()["distance_m"] == pytest.approx(14_000, abs=20) and r.json()["walking_radius_m"] == 300
    assert "14," in r.json()["message"]["ja"] and "300 m" in r.json()["message"]["en"]
    assert (await staff.get("/api/watch/links", params={"household_id": ids["H"]})).json() == []  # nothing written

    r = await staff.send_json(
        "POST", "/api/watch/links", {"household_id": ids["H"], "watcher_id": ids["W_far"], "confirm_far": True}
    )
    assert r.status_code == 201, r.text
    assert r.json()["beyond_walking_radius"] is True and r.json()["walking_radius_m"] == 300
    near = await staff.send_json(
        "POST", "/api/watch/links", {"household_id": ids["H"], "watcher_id": ids["W_near"], "kind": "backup"}
    )
    assert near.status_code == 201 and near.json()["beyond_walking_radius"] is False
    listed = {
        x["watcher_id"]: x["beyond_walking_radius"]
        for x in (await staff.get("/api/watch/links", params={"household_id": ids["H"]})).json()
    }
    assert listed == {ids["W_far"]: True, ids["W_near"]: False}

    # Two watchers, one of them 14 km away: weak cover, not the two the brief asks for.
    totals = (await staff.get("/api/watch/coverage")).json()["totals"]
    assert (totals["with_0"], totals["with_1"], totals["with_2_plus"], totals["with_far_watcher"]) == (0, 1, 0, 1)
    pockets = (await staff.get("/api/watch/coverage/pockets.geojson")).json()["features"]
    assert pockets == []  # W_near lives within reach: not a pocket

    # Moving a link to a far watcher needs the same confirmation.
    r = await staff.send_json("PATCH", f"/api/watch/links/{near.json()['id']}", {"watcher_id": ids["W_far2"]})
    assert r.status_code == 409 and r.json()["code"] == "watch_link_beyond_radius"
    r = await staff.send_json(
        "PATCH", f"/api/watch/links/{near.json()['id']}", {"watcher_id": ids["W_far2"], "confirm_far": True}
    )
    assert r.status_code == 200 and r.json()["beyond_walking_radius"] is True
    creates = (await staff.get("/api/audit", params={"action": "watch_link.create"})).json()["items"]
    assert any(c["details"]["beyond_walking_radius"] and c["details"]["confirm_far"] for c in creates)


async def test_only_staff_write_links(world, login, sessionmaker) -> None:
    w = world
    w.household("H1", pt(0))
    w.watcher("W1", pt(0, 100))
    await w.save(sessionmaker)
    w.link("H1", "W1")
    await w.save(sessionmaker)
    staff = await login(w, "staff")
    link_id = (await staff.get("/api/watch/links")).json()[0]["id"]
    body = {"household_id": str(w.ids["H1"]), "watcher_id": str(w.ids["W1"]), "kind": "backup"}
    for role in ("watcher", "coordinator", "commissioner", "vc_volunteer"):
        c = await login(w, role)
        assert (await c.send_json("POST", "/api/watch/links", body)).status_code == 403, role
        assert (await c.send_json("PATCH", f"/api/watch/links/{link_id}", {"kind": "backup"})).status_code == 403, role
        assert (await c.send_json("DELETE", f"/api/watch/links/{link_id}")).status_code == 403, role
        assert (await c.send_json("POST", "/api/watch/suggestions/reject", body)).status_code == 403, role
    for role in ("watcher", "vc_volunteer"):
        c = await login(w, role)
        for url in ("/api/watch/links", "/api/watch/coverage", "/api/watch/coverage/pockets.geojson"):
            assert (await c.get(url)).status_code == 403, (role, url)
    coordinator = await login(w, "coordinator")
    assert (await coordinator.get("/api/watch/links")).json() == []  # H1 gave no consent
    assert (await coordinator.get("/api/watch/coverage")).status_code == 200
    admin = await login(w, "admin")
    assert len((await admin.get("/api/watch/links")).json()) == 1


# ---- coverage ------------------------------------------------------------------------------------


async def test_coverage_numbers_per_district_subtree(world, login, sessionmaker) -> None:
    w = world
    w.district("A", box_wkt(140.19, 36.29, 140.29, 36.35), level="area")
    # A1 and B walk 1 km, so the links within each group are within reach; the two from group 0
    # into B (h5–w1, h6–w2, ≈9 km) are not: such a watcher counts as weak cover only.
    w.district("A1", box_wkt(140.19, 36.29, 140.22, 36.35), parent="A", radius=1000)
    w.district("B", box_wkt(140.29, 36.29, 140.39, 36.35), radius=1000)
    w.household("h1", pt(0), district="A1")  # 0 links
    w.household("h2", pt(0, 500), district="A1")  # 1
    w.household("h3", pt(0, 1000), district="A1")  # 2
    w.household("h4", pt(1), district="A")  # 0, hazard
    w.household("h5", pt(2), district="B")  # 1, hazard (two overlapping zones)
    w.household("h6", pt(2, 500), district="B")  # 2, hazard
    w.household("h7", pt(4), district=None)  # 0, no district
    w.watcher("w1", pt(0, 100), capacity=1, district="A1")
    w.watcher("w2", pt(0, 200), capacity=5, district="A1")
    w.watcher("w3", pt(2, 100), capacity=2, district="B")
    w.watcher("w4", pt(2, 200), capacity=0, role="commissioner", district="B")
    w.watcher("w5", pt(4, 100), capacity=5, available=False, district=None)
    w.hazard(around(pt(1), 50))
    w.hazard(around(pt(2), 50))
    w.hazard(around(pt(2, 20), 50))
    w.hazard(around(pt(2, 500), 50))
    await w.save(sessionmaker)
    for h, watcher in (("h2", "w1"), ("h3", "w1"), ("h3", "w2"), ("h5", "w1"), ("h6", "w2"), ("h6", "w3")):
        w.link(h, watcher, "primary" if watcher == "w1" or (h == "h6" and watcher == "w2") else "backup")
    await w.save(sessionmaker)
    staff = await login(w, "staff")

    r = await staff.get("/api/watch/coverage")
    assert r.status_code == 200, r.text
    body = r.json()
    rows = {d["code"]: d["numbers"] for d in body["districts"]}

    def nums(households, c0, c1, c2, hz, hz_weak, watchers, available, over, spare, far=0):
        return {
            "households": households,
            "with_0": c0,
            "with_1": c1,
            "with_2_plus": c2,
            "in_hazard": hz,
            "in_hazard_weak": hz_weak,
            "watchers": watchers,
            "watchers_available": available,
            "watchers_over_capacity": over,
            "spare_capacity": spare,
            "with_far_watcher": far,
        }

    assert rows["A1"] == nums(3, 1, 1, 1, 0, 0, 2, 2, 1, 3)  # w1 carries 3 of 1
    assert rows["A"] == nums(4, 2, 1, 1, 1, 1, 2, 2, 1, 3)  # A itself + A1
    # h6 has two watchers, but w2 lives 9 km away: weak cover, like h5 whose only watcher is w1.
    assert rows["B"] == nums(2, 0, 2, 0, 2, 2, 1, 1, 0, 1, far=2)  # w4 is a commissioner, capacity 0, no links
    assert rows["D"] == nums(0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
    assert body["unassigned"] == nums(1, 1, 0, 0, 0, 0, 1, 0, 0, 0)
    assert body["totals"] == nums(7, 3, 3, 1, 3, 3, 4, 3, 1, 4, far=2)
    assert body["over_capacity"] == [
        {"watcher_id": str(w.ids["w1"]), "district_id": str(w.ids["A1"]), "role": "watcher", "load": 3, "capacity": 1}
    ]

    sub = (await staff.get("/api/watch/coverage", params={"district_id": str(w.ids["A"])})).json()
    assert {d["code"] for d in sub["districts"]} == {"A", "A1"}
    assert sub["totals"] == rows["A"] and sub["unassigned"] is None
    assert (await staff.get("/api/watch/coverage", params={"district_id": str(uuid.uuid4())})).status_code == 404

    # Ending a link moves a household between the columns.
    link_id = (await staff.get("/api/watch/links", params={"household_id": str(w.ids["h2"])})).json()[0]["id"]
    assert (await staff.send_json("DELETE", f"/api/watch/links/{link_id}")).status_code == 204
    after = {d["code"]: d["numbers"] for d in (await staff.get("/api/watch/coverage")).json()["districts"]}
    assert (after["A1"]["with_0"], after["A1"]["with_1"], after["A1"]["watchers_over_capacity"]) == (2, 0, 1)


# ---- pockets -------------------------------------------------------------------------------------


async def test_pockets_layer(world, login, sessionmaker) -> None:
    w = world
    w.district("D_small", around(pt(7), 60), radius=100)
    w.household("p1", pt(0))  # a pocket of three, 100 m apart
    w.household("p2", pt(0, 100))
    w.household("p3", pt(0, 200))
    w.household("p4", pt(1))  # alone, nobody anywhere near
    w.household("h_ok", pt(2))
    w.watcher("w_ok", pt(2, 100))
    w.household("h_self", pt(3))  # only its own resident watches nearby
    w.watcher("w_self", pt(3, 5), household="h_self")
    w.household("h_unavail", pt(4))
    w.watcher("w_unavail", pt(4, 50), available=False)
    w.watcher("w_comm", pt(4, 60), role="commissioner")
    w.household("h_in", pt(5))  # 299 m: inside the 300 m radius
    w.watcher("w_in", pt(5, 299))
    w.household("h_out", pt(6))  # 301 m: outside
    w.watcher("w_out", pt(6, 301))
    w.household("h_small", pt(7), district="D_small")  # 150 m, but the district walks 100 m
    w.watcher("w_small", pt(7, 150), district="D_small")
    w.watcher("w_far", pt(9))
    w.hazard(around(pt(0, 100), 30))
    await w.save(sessionmaker)
    w.link("p1", "w_far")  # linked from afar: still a pocket, counted as weak cover
    await w.save(sessionmaker)
    staff = await login(w, "staff")

    r = await staff.get("/api/watch/coverage/pockets.geojson")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/geo+json")
    assert r.headers["cache-control"] == "private, no-store"
    fc = r.json()
    assert fc["type"] == "FeatureCollection"
    features = fc["features"]
    assert [f["properties"]["households"] for f in features] == [3, 1, 1, 1, 1, 1]
    for f in features:
        assert set(f["properties"]) == {"households", "uncovered", "weak_cover", "in_hazard", "radius_m"}
        assert f["geometry"]["type"] == "Polygon"
    big = features[0]
    assert big["properties"] == {"households": 3, "uncovered": 2, "weak_cover": 1, "in_hazard": 1, "radius_m": 300}

    def members(f: dict[str, Any]) -> set[str]:
        poly = shape(f["geometry"])
        return {
            k
            for k in ("p1", "p2", "p3", "p4", "h_ok", "h_self", "h_unavail", "h_in", "h_out", "h_small")
            if poly.contains(Point(*w.spots[k]))
        }

    assert members(big) == {"p1", "p2", "p3"}
    singles = [members(f) for f in features[1:]]
    assert sorted(next(iter(s)) for s in singles) == ["h_out", "h_self", "h_small", "h_unavail", "p4"]
    small = next(f for f in features if members(f) == {"h_small"})
    assert small["properties"]["radius_m"] == 100
    # The buffer is the walking radius: ~100 m around h_small, so w_small (150 m) is outside it.
    assert not shape(small["geometry"]).contains(Point(*w.spots["w_small"]))

    tight = (await staff.get("/api/watch/coverage/pockets.geojson", params={"eps_m": 50})).json()["features"]
    assert len(tight) == 8  # p1..p3 are 100 m apart: three pockets at eps 50 m
    scoped = (
        await staff.get("/api/watch/coverage/pockets.geojson", params={"district_id": str(w.ids["D_small"])})
    ).json()
    assert [f["properties"]["households"] for f in scoped["features"]] == [1]

    audit = (await staff.get("/api/audit", params={"action": "household.read"})).json()["items"]
    pocket_reads = [a for a in audit if a["details"].get("via") == "watch.pockets"]
    assert pocket_reads and str(w.ids["p1"]) in pocket_reads[-1]["object_ids"]
