"""The planning tool: if a quake hit now, how long until the first report and until 100 %
confirmation in each district, with today's watch network — and with N more watchers placed
where they help most.

A fully simulated safety-check round, computed at once (no clock, nothing written to the
operation tables): every household in the viewer's scope is walked to by its first available
linked watcher (the primary before the backup), each watcher taking its households nearest-first
from home, with the walking model the watcher bots use (`walking`), after the bots' start delay.
A household is confirmed when its watcher arrives; a household with no available linked watcher is
never confirmed by a round (its district's 100 % time is "never").

Today's round is one set-based statement (PostGIS and window functions). With added watchers it
also keeps the round in scratch tables of the transaction (households, walkers' homes, a summary per
district) and places them greedily, one at a time, by the rule recorded in decision 0026 (addendum
"The planning tool"); each placement reads and re-times only the district and the walkers it
touched, so its cost does not grow with the tenant.
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


# The round's scratch tables, dropped with the transaction: one row per household (its district,
# its walker, its time), the walkers' homes, and per district what picks the weakest (kept up to date
# for the districts a placement touches, so a placement never re-reads every household).
_CREATE = (
    "CREATE TEMP TABLE plan_hh (id uuid NOT NULL, district_id uuid, location geometry, slowed boolean,"
    " walker uuid, at_s float8) ON COMMIT DROP",
    "CREATE TEMP TABLE plan_walker (walker uuid PRIMARY KEY, home geometry) ON COMMIT DROP",
    "CREATE TEMP TABLE plan_district (district_id uuid PRIMARY KEY, unwatched int, last_s float8) ON COMMIT DROP",
)


def _walk_sql(rows: str, homes: str) -> str:
    """`rows` (id, district_id, walker, location, slowed) timed: each walker's households nearest-first
    from its home (KNN `<->`, as the bots), legs by the walking model, after the start delay. Returns
    the rows with at_s (NULL without a walker)."""
    return f"""
        SELECT id, district_id, location, slowed, walker,
               CASE WHEN walker IS NOT NULL THEN :delay + sum(leg_s) OVER (PARTITION BY walker ORDER BY k) END AS at_s
        FROM (
            SELECT id, district_id, location, slowed, walker, k,
                   CASE WHEN walker IS NOT NULL THEN {leg_seconds_sql("origin", "location", "slowed")} END AS leg_s
            FROM (
                SELECT r.id, r.district_id, r.walker, r.location, r.slowed,
                       coalesce(lag(r.location) OVER w, hm.home) AS origin, row_number() OVER w AS k
                FROM {rows} r LEFT JOIN {homes} hm ON hm.walker = r.walker
                WINDOW w AS (PARTITION BY r.walker ORDER BY r.location <-> hm.home, r.id)
            ) walk
        ) legs
    """


def _figures_sql(source: str) -> str:
    """Per district (with its subtree, through the ancestor closure), for the households without a
    district, and in total: households, walkers, unwatched, first report, 50 % and 100 % (never = ∞)."""
    return f"""
    up(district_id, ancestor) AS (
        SELECT id, id FROM district WHERE tenant_id = :tenant
        UNION
        SELECT up.district_id, d.parent_id FROM up
        JOIN district d ON d.tenant_id = :tenant AND d.id = up.ancestor
        WHERE d.parent_id IS NOT NULL
    ),
    fig_rows AS (
        SELECT up.ancestor AS key, p.walker, p.at_s FROM {source} p JOIN up ON up.district_id = p.district_id
        UNION ALL
        SELECT NULL, p.walker, p.at_s FROM {source} p WHERE p.district_id IS NULL
    )
    SELECT key, false AS total, count(*)::int, count(DISTINCT walker)::int, count(*) FILTER (WHERE walker IS NULL)::int,
           min(at_s), percentile_disc(0.5) WITHIN GROUP (ORDER BY coalesce(at_s, 'Infinity')),
           percentile_disc(1.0) WITHIN GROUP (ORDER BY coalesce(at_s, 'Infinity'))
    FROM fig_rows GROUP BY key
    UNION ALL
    SELECT NULL, true, count(*)::int, count(DISTINCT walker)::int, count(*) FILTER (WHERE walker IS NULL)::int,
           min(at_s), percentile_disc(0.5) WITHIN GROUP (ORDER BY coalesce(at_s, 'Infinity')),
           percentile_disc(1.0) WITHIN GROUP (ORDER BY coalesce(at_s, 'Infinity'))
    FROM {source}
    """


def round_sql(keep: bool = False) -> str:
    """Today's round in one statement: who walks where, every walk timed, today's figures; with `keep`
    the round is also written to the scratch tables for the placements (data-modifying CTEs that
    share the computed rows, so nothing is read twice)."""
    kept = (
        """,
    kept_walkers AS (INSERT INTO plan_walker (walker, home) SELECT DISTINCT ON (walker) walker, home FROM walker_of),
    kept_hh AS (
        INSERT INTO plan_hh (id, district_id, location, slowed, walker, at_s)
        SELECT id, district_id, location, slowed, walker, at_s FROM timed
    ),
    kept_districts AS (
        INSERT INTO plan_district (district_id, unwatched, last_s)
        SELECT district_id, count(*) FILTER (WHERE walker IS NULL), max(at_s)
        FROM timed WHERE district_id IS NOT NULL GROUP BY district_id
    )"""
        if keep
        else ""
    )
    return f"""
    WITH RECURSIVE zones AS MATERIALIZED (
        SELECT ST_Union(geom) AS g FROM hazard_zone
        WHERE tenant_id = :tenant AND kind = ANY(CAST(:zones AS text[]))
    ),
    base AS MATERIALIZED (
        SELECT h.id, h.district_id, h.location,
               coalesce(ST_Intersects((SELECT g FROM zones), h.location), false) AS slowed
        FROM household h WHERE h.tenant_id = :tenant {visible_sql("h")}
    ),
    walker_of AS MATERIALIZED (
        SELECT DISTINCT ON (l.household_id) l.household_id, w.id AS walker, w.home
        FROM base b
        JOIN watch_link l ON l.tenant_id = :tenant AND l.household_id = b.id AND l.ended_at IS NULL
        JOIN watcher w ON w.tenant_id = l.tenant_id AND w.id = l.watcher_id AND w.available
        ORDER BY l.household_id, l.kind = 'primary' DESC, l.id
    ),
    timed AS MATERIALIZED ({
        _walk_sql(
            "(SELECT b.id, b.district_id, wk.walker, b.location, b.slowed FROM base b"
            " LEFT JOIN walker_of wk ON wk.household_id = b.id)",
            "(SELECT DISTINCT ON (walker) walker, home FROM walker_of)",
        )
    }){kept},
    {_figures_sql("timed")}
    """


# Re-time the walks of the walkers in `:walkers` (a placement took some of their households):
# only the rows whose time changed are written.
_RETIME = f"""
    UPDATE plan_hh p SET at_s = r.at_s
    FROM ({
    _walk_sql(
        "(SELECT id, district_id, walker, location, slowed FROM plan_hh WHERE walker = ANY(CAST(:walkers AS uuid[])))",
        "(SELECT walker, home FROM plan_walker WHERE walker = ANY(CAST(:walkers AS uuid[])))",
    )
}) r
    WHERE p.walker = ANY(CAST(:walkers AS uuid[])) AND p.id = r.id AND p.at_s IS DISTINCT FROM r.at_s
"""

# The districts whose households those walkers walk to: their summary again (one index lookup per
# district: the scratch tables have no statistics, so the plan is spelled out).
_RESUM = """
    UPDATE plan_district s SET unwatched = x.unwatched, last_s = x.last_s
    FROM (SELECT DISTINCT district_id FROM plan_hh
          WHERE walker = ANY(CAST(:walkers AS uuid[])) AND district_id IS NOT NULL) d,
    LATERAL (SELECT count(*) FILTER (WHERE walker IS NULL) AS unwatched, max(at_s) AS last_s
             FROM plan_hh WHERE district_id = d.district_id) x
    WHERE s.district_id = d.district_id
"""

# The weakest (deepest) district: households never confirmed first (most of them), then the
# latest 100 % time.
_WEAKEST = """
    SELECT district_id FROM plan_district
    WHERE NOT district_id = ANY(CAST(:exhausted AS uuid[]))
    ORDER BY unwatched DESC, last_s DESC NULLS LAST, district_id
    LIMIT 1
"""

# Where the new watcher is recruited: next to the unwatched household with the most unwatched
# households within the district's walking radius, or else next to the household confirmed last.
# The district's unwatched households are read once and counted against each other; a box in degrees
# that holds the radius with room to spare (1° of latitude ≥ 110.5 km; 1° of longitude ≥ 110 km ×
# cos of the box's farthest latitude) skips the exact geography test for pairs plainly apart.
_ANCHOR = f"""
    WITH r AS (
        SELECT coalesce((SELECT walking_radius_m FROM district WHERE tenant_id = :tenant AND id = :d),
                        {DEFAULT_RADIUS_M})::float8 AS m
    ),
    u AS MATERIALIZED (
        SELECT id, location::geography AS g, ST_X(location) AS x, ST_Y(location) AS y
        FROM plan_hh WHERE district_id = :d AND walker IS NULL
    ),
    box AS MATERIALIZED (
        SELECT m, 1.5 * m / 110000 AS dy,
               CASE WHEN cos(radians(least(90, (SELECT max(abs(y)) FROM u) + 1.5 * m / 110000))) > 0.01
                    THEN 1.5 * m / (110000 * cos(radians(least(90, (SELECT max(abs(y)) FROM u) + 1.5 * m / 110000))))
                    ELSE 360 END AS dx
        FROM r
    ),
    pick AS (
        SELECT a.id, 0 AS tier,
               (SELECT count(*) FROM u b, box WHERE abs(b.y - a.y) <= box.dy AND abs(b.x - a.x) <= box.dx
                  AND ST_DWithin(b.g, a.g, box.m)) AS n,
               NULL::float8 AS at_s
        FROM u a
        UNION ALL
        (SELECT id, 1, NULL, at_s FROM plan_hh WHERE district_id = :d AND walker IS NOT NULL
         ORDER BY at_s DESC NULLS LAST, id LIMIT 1)
    )
    SELECT id, (SELECT m FROM r) AS radius FROM pick ORDER BY tier, n DESC NULLS LAST, at_s DESC NULLS LAST, id LIMIT 1
"""

# The households the new watcher takes: within walking radius of its home in its district, nearest
# first, up to its capacity, and only those it would reach sooner than they are reached today
# (skipping a stop only shortens the walk, so each taken household is reached sooner still).
_TAKE = f"""
    WITH home AS MATERIALIZED (SELECT location AS g FROM plan_hh WHERE id = :anchor),
    new_walker AS (INSERT INTO plan_walker (walker, home) SELECT :walker, g FROM home),
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
        UPDATE plan_hh p SET walker = :walker
        FROM taken WHERE p.id = taken.id
        RETURNING (SELECT walker FROM plan_hh o WHERE o.id = p.id) AS old_walker
    )
    SELECT old_walker FROM moved
"""


def _figures(row: Any) -> Figures:
    def t(v: float | None) -> float | None:
        return None if v is None or math.isinf(v) else round(float(v), 1)

    return Figures(row[2], row[3], row[4], t(row[5]), t(row[6]), t(row[7]))


def _split_figures(rows: Any) -> tuple[dict[uuid.UUID | None, Figures], Figures]:
    by_key: dict[uuid.UUID | None, Figures] = {}
    total = Figures()
    for row in rows:
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
    if added:
        for create in _CREATE:
            await db.execute(text(create))
    today, total_today = _split_figures(
        await db.execute(text(round_sql(keep=added > 0)), {**params, "zones": SLOWING_ZONES[hazard]})
    )

    placements: list[Placement] = []
    if added:
        await db.execute(text("CREATE UNIQUE INDEX ON plan_hh (id)"))
        await db.execute(text("CREATE INDEX ON plan_hh (district_id)"))
        await db.execute(text("CREATE INDEX ON plan_hh (walker)"))
        exhausted: list[uuid.UUID] = []
        while len(placements) < added:
            district = (await db.execute(text(_WEAKEST), {"exhausted": exhausted})).scalar_one_or_none()
            if district is None:
                break
            anchor = (await db.execute(text(_ANCHOR), {"tenant": tenant, "d": district})).one()
            walker = uuid.uuid4()
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
            walkers = [walker, *{w for w in old if w is not None}]
            await db.execute(text(_RETIME), {**params, "walkers": walkers})
            await db.execute(text(_RESUM), {"walkers": walkers})
            placements.append(Placement(district, len(old)))
    with_added, total_added = (
        _split_figures(await db.execute(text(f"WITH RECURSIVE {_figures_sql('plan_hh')}"), params))
        if placements
        else (today, total_today)
    )

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
