"""The planning tool: if a quake hit now, how long until the first report and until 100 %
confirmation in each district, with today's watch network — and with N more watchers placed
where they help most.

A fully simulated safety-check round, computed at once (no clock, nothing written to the
operation tables): every household in the viewer's scope is walked to by its first available
linked watcher (the primary before the backup), each watcher taking its households nearest-first
from home, with the walking model the watcher bots use (`walking`), after the bots' start delay.
A household is confirmed when its watcher arrives; a household with no available linked watcher is
never confirmed by a round (its district's 100 % time is "never").

The simulation lives in a temporary table of the transaction (one row per household: its district,
its walker and its walker's home, its time); each step is one set-based statement in PostGIS.
Added watchers are placed greedily, one at a time, by the rule recorded in decision 0026
(addendum "The planning tool"); each placement re-times only the walkers it touched.
"""

from __future__ import annotations

import math
import uuid
from typing import Any

import msgspec
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from server.core.context import current_tenant
from server.drills.scenario import Bots
from server.drills.walking import DWELL_S, SLOWING_ZONES, leg_seconds_sql, walk_params
from server.watch.common import DEFAULT_RADIUS_M, analysis_transaction, visible_sql

MAX_ADDED = 200
NEW_WATCHER_CAPACITY = 5  # the default load of a neighbourhood watcher (PRODUCT §3 "Watch network")


class Figures(msgspec.Struct):
    """One simulated round over a set of households; times in seconds after the quake, `None` =
    never (some households have no available watcher)."""

    households: int = 0
    watchers: int = 0  # watchers who walk to a household of the set
    unwatched: int = 0  # households with no available linked watcher: never confirmed by a round
    first_report_s: float | None = None
    confirmed_50_s: float | None = None
    confirmed_100_s: float | None = None


class DistrictPlan(msgspec.Struct):
    district_id: uuid.UUID
    parent_id: uuid.UUID | None
    code: str
    name: str
    level: str
    today: Figures  # the district and all its descendants
    with_added: Figures
    added_watchers: int  # of the placed watchers, those living in the district or its descendants


class Placement(msgspec.Struct):
    """An added watcher: the (deepest) district it is recruited in and how many households it takes
    (counts only: no household is named)."""

    district_id: uuid.UUID
    households: int


class Plan(msgspec.Struct):
    hazard: str
    walk_kmh: float
    detour: float
    hazard_slowdown: float
    start_delay_s: float
    dwell_s: float
    added_requested: int
    added_placed: int  # fewer than requested when no district gains from another watcher
    new_watcher_capacity: int
    districts: list[DistrictPlan]
    placements: list[Placement]
    unassigned: Figures  # households without a district
    totals_today: Figures
    totals_with_added: Figures


_CREATE = "CREATE TEMP TABLE plan_hh (id uuid PRIMARY KEY, district_id uuid, location geometry, slowed boolean, walker text, home geometry, at_s float8) ON COMMIT DROP"


def _fill_sql() -> str:
    return f"""
    INSERT INTO plan_hh (id, district_id, location, slowed, walker, home)
    WITH zones AS MATERIALIZED (
        SELECT ST_Union(geom) AS g FROM hazard_zone
        WHERE tenant_id = :tenant AND kind = ANY(CAST(:zones AS text[]))
    ),
    base AS MATERIALIZED (
        SELECT h.id, h.district_id, h.location,
               coalesce(ST_Intersects((SELECT g FROM zones), h.location), false) AS slowed
        FROM household h WHERE h.tenant_id = :tenant {visible_sql("h")}
    ),
    walker AS (
        SELECT DISTINCT ON (l.household_id) l.household_id, w.id, w.home
        FROM base b
        JOIN watch_link l ON l.tenant_id = :tenant AND l.household_id = b.id AND l.ended_at IS NULL
        JOIN watcher w ON w.tenant_id = l.tenant_id AND w.id = l.watcher_id AND w.available
        ORDER BY l.household_id, l.kind = 'primary' DESC, l.id
    )
    SELECT b.id, b.district_id, b.location, b.slowed, wk.id::text, wk.home
    FROM base b LEFT JOIN walker wk ON wk.household_id = b.id
    """


def _time_sql(some: bool) -> str:
    """Time every walk (or only the walkers in `:walkers`): the bots' order and legs."""
    only = "AND walker = ANY(CAST(:walkers AS text[]))" if some else ""
    return f"""
    UPDATE plan_hh p SET at_s = r.at_s
    FROM (
        SELECT id, :delay + sum(leg_s) OVER (PARTITION BY walker ORDER BY k) AS at_s
        FROM (
            SELECT id, walker, k, {leg_seconds_sql("origin", "location", "slowed")} AS leg_s
            FROM (
                SELECT id, walker, location, slowed, coalesce(lag(location) OVER w, home) AS origin,
                       row_number() OVER w AS k
                FROM plan_hh WHERE walker IS NOT NULL {only}
                WINDOW w AS (PARTITION BY walker ORDER BY location <-> home, id)
            ) walk
        ) legs
    ) r
    WHERE p.id = r.id
    """


_FIGURES = """
    WITH RECURSIVE up(district_id, ancestor) AS (
        SELECT id, id FROM district WHERE tenant_id = :tenant
        UNION
        SELECT up.district_id, d.parent_id FROM up
        JOIN district d ON d.tenant_id = :tenant AND d.id = up.ancestor
        WHERE d.parent_id IS NOT NULL
    ),
    rows AS (
        SELECT up.ancestor AS key, p.walker, p.at_s FROM plan_hh p JOIN up ON up.district_id = p.district_id
        UNION ALL
        SELECT NULL, p.walker, p.at_s FROM plan_hh p WHERE p.district_id IS NULL
    )
    SELECT key, false AS total, count(*)::int, count(DISTINCT walker)::int, count(*) FILTER (WHERE walker IS NULL)::int,
           min(at_s), percentile_disc(0.5) WITHIN GROUP (ORDER BY coalesce(at_s, 'Infinity')),
           percentile_disc(1.0) WITHIN GROUP (ORDER BY coalesce(at_s, 'Infinity'))
    FROM rows GROUP BY key
    UNION ALL
    SELECT NULL, true, count(*)::int, count(DISTINCT walker)::int, count(*) FILTER (WHERE walker IS NULL)::int,
           min(at_s), percentile_disc(0.5) WITHIN GROUP (ORDER BY coalesce(at_s, 'Infinity')),
           percentile_disc(1.0) WITHIN GROUP (ORDER BY coalesce(at_s, 'Infinity'))
    FROM plan_hh
"""

# The weakest (deepest) district: households never confirmed first (most of them), then the
# latest 100 % time.
_WEAKEST = """
    SELECT district_id FROM plan_hh
    WHERE district_id IS NOT NULL AND NOT district_id = ANY(CAST(:exhausted AS uuid[]))
    GROUP BY district_id
    ORDER BY count(*) FILTER (WHERE walker IS NULL) DESC, max(at_s) DESC NULLS LAST, district_id
    LIMIT 1
"""

# Where the new watcher is recruited: next to the unwatched household with the most unwatched
# households within the district's walking radius, or else next to the household confirmed last.
_ANCHOR = f"""
    WITH r AS (
        SELECT coalesce((SELECT walking_radius_m FROM district WHERE tenant_id = :tenant AND id = :d),
                        {DEFAULT_RADIUS_M})::float8 AS m
    )
    SELECT a.id, (SELECT m FROM r) AS radius
    FROM plan_hh a
    WHERE a.district_id = :d
    ORDER BY a.walker IS NULL DESC,
             CASE WHEN a.walker IS NULL THEN
                 (SELECT count(*) FROM plan_hh b WHERE b.district_id = :d AND b.walker IS NULL
                  AND ST_DWithin(b.location::geography, a.location::geography, (SELECT m FROM r)))
             END DESC NULLS LAST,
             a.at_s DESC NULLS LAST, a.id
    LIMIT 1
"""

# The households the new watcher takes: within walking radius of its home in its district, nearest
# first, up to its capacity, and only those it would reach sooner than they are reached today
# (skipping a stop only shortens the walk, so each taken household is reached sooner still).
_TAKE = f"""
    WITH home AS MATERIALIZED (SELECT location AS g FROM plan_hh WHERE id = :anchor),
    cand AS (
        SELECT id, location, slowed, at_s,
               coalesce(lag(location) OVER w, (SELECT g FROM home)) AS origin, row_number() OVER w AS k
        FROM plan_hh
        WHERE district_id = :d AND ST_DWithin(location::geography, (SELECT g FROM home)::geography, :radius)
        WINDOW w AS (ORDER BY location <-> (SELECT g FROM home), id)
    ),
    timed AS (
        SELECT id, at_s, k, :delay + sum({leg_seconds_sql("origin", "location", "slowed")}) OVER (ORDER BY k) AS new_s
        FROM cand
    ),
    taken AS (
        SELECT id FROM timed WHERE new_s < coalesce(at_s, 'Infinity') ORDER BY k LIMIT :capacity
    ),
    moved AS (
        UPDATE plan_hh p SET walker = :walker, home = (SELECT g FROM home)
        FROM taken WHERE p.id = taken.id
        RETURNING (SELECT walker FROM plan_hh o WHERE o.id = p.id) AS old_walker
    )
    SELECT old_walker FROM moved
"""


def _figures(row: Any) -> Figures:
    def t(v: float | None) -> float | None:
        return None if v is None or math.isinf(v) else round(float(v), 1)

    return Figures(row[2], row[3], row[4], t(row[5]), t(row[6]), t(row[7]))


async def _all_figures(db: AsyncSession, params: dict[str, Any]) -> tuple[dict[uuid.UUID | None, Figures], Figures]:
    by_key: dict[uuid.UUID | None, Figures] = {}
    total = Figures()
    for row in await db.execute(text(_FIGURES), params):
        if row[1]:
            total = _figures(row)
        else:
            by_key[row[0]] = _figures(row)
    return by_key, total


async def plan(db: AsyncSession, *, added: int = 0, hazard: str = "earthquake", bots: Bots | None = None) -> Plan:
    """Simulate today's round and the round with `added` more watchers; nothing is stored."""
    bots = bots or Bots()
    await analysis_transaction(db, work_mem_mb=32)
    tenant = current_tenant()
    delay = 60 * bots.start_delay_minutes
    params: dict[str, Any] = {"tenant": tenant, "delay": delay, **walk_params(bots)}
    await db.execute(text(_CREATE))
    await db.execute(text(_fill_sql()), {"tenant": tenant, "zones": SLOWING_ZONES[hazard]})
    await db.execute(text("CREATE INDEX ON plan_hh (district_id)"))
    await db.execute(text("CREATE INDEX ON plan_hh (walker)"))
    await db.execute(text("ANALYZE plan_hh"))
    await db.execute(text(_time_sql(False)), params)
    today, total_today = await _all_figures(db, params)

    placements: list[Placement] = []
    exhausted: list[uuid.UUID] = []
    while len(placements) < added:
        district = (await db.execute(text(_WEAKEST), {"exhausted": exhausted})).scalar_one_or_none()
        if district is None:
            break
        anchor = (await db.execute(text(_ANCHOR), {"tenant": tenant, "d": district})).one()
        walker = f"new:{len(placements)}"
        old = [
            r[0]
            for r in await db.execute(
                text(_TAKE),
                {
                    **params,
                    "d": district,
                    "anchor": anchor.id,
                    "radius": anchor.radius,
                    "capacity": NEW_WATCHER_CAPACITY,
                    "walker": walker,
                },
            )
        ]
        if not old:
            exhausted.append(district)
            continue
        walkers = sorted({walker, *(w for w in old if w is not None)})
        await db.execute(text(_time_sql(True)), {**params, "walkers": walkers})
        placements.append(Placement(district, len(old)))
    with_added, total_added = await _all_figures(db, params) if placements else (today, total_today)

    tree = await db.execute(
        text("SELECT id, parent_id, code, name, level FROM district WHERE tenant_id = :tenant ORDER BY code"),
        {"tenant": tenant},
    )
    districts = [(r.id, r.parent_id, r.code, r.name, r.level) for r in tree]
    parents = {d[0]: d[1] for d in districts}
    added_in: dict[uuid.UUID, int] = {}
    for p in placements:
        cur: uuid.UUID | None = p.district_id
        seen: set[uuid.UUID] = set()
        while cur is not None and cur not in seen:
            seen.add(cur)
            added_in[cur] = added_in.get(cur, 0) + 1
            cur = parents.get(cur)
    return Plan(
        hazard=hazard,
        walk_kmh=bots.walk_kmh,
        detour=bots.detour,
        hazard_slowdown=bots.hazard_slowdown,
        start_delay_s=delay,
        dwell_s=DWELL_S,
        added_requested=added,
        added_placed=len(placements),
        new_watcher_capacity=NEW_WATCHER_CAPACITY,
        districts=[
            DistrictPlan(
                did,
                parent,
                code,
                name,
                level,
                today.get(did, Figures()),
                with_added.get(did, Figures()),
                added_in.get(did, 0),
            )
            for did, parent, code, name, level in districts
        ],
        placements=placements,
        unassigned=today.get(None, Figures()),
        totals_today=total_today,
        totals_with_added=total_added,
    )
