"""Coverage of the watch network, per district, and the watcher-less pockets as a GeoJSON layer.

Both run over every household in scope (a bench tenant has 100,000 households and 30,000
watchers), so they are single set-based statements; nothing here probes an index per household:

- Coverage counts households by active links (none / weak / two or more within the district's
  walking radius: a watcher linked from beyond it counts as weak cover only), households in hazard
  zones and those of them with fewer than two watchers within reach, and watchers (available,
  over capacity, spare slots; within the viewer's scope), per district. SQL aggregates by each household's own (deepest) district; the district tree (a few
  hundred rows) is then rolled up in Python so that each district's row covers its whole subtree.
  Hazard membership tests each household against the union of the tenant's hazard zones, computed
  once per statement: the same polygon argument on every row lets PostGIS reuse its prepared
  (indexed) geometry, ≈1 µs a point, where a household × zone join cannot use the GiST index on
  `hazard_zone` under row-level security and cost 9 s on the bench copy.
- A pocket household is one with no available neighbourhood watcher (role 'watcher'; someone
  living in that very household does not count) within its district's walking radius; links and
  capacity do not matter: a pocket is where the council needs to recruit. "Within the radius" is a
  hash join on a grid whose cells are at least the largest radius in both directions (each
  watcher is entered in its own and the 8 neighbouring cells), followed by an exact test in the
  local ellipsoidal metric (see `common`). On the bench copy this membership test took 1.8 s
  for 100,000 households against 30,000 watchers, where one KNN probe per household took 6 s. Pocket
  households are then clustered with `ST_ClusterDBSCAN` on the stored EPSG:3857 points (eps given
  in metres, scaled by 1/cos(latitude) because Web Mercator stretches distances), minpoints 1, and
  each cluster is drawn as its convex hull buffered by the walking radius: the area where a new
  watcher would reach at least one of its households. Features carry counts only.

Measured end to end (HTTP, as staff) on a copy of the bench prefecture — 100,000 households,
30,000 watchers, 100,000 active links, 41 hazard zones (13,700 vertices), 632 districts, 2 cores:
coverage 0.8 s, pockets 1.6 s (6,346 pocket households in 1,875 pockets). About half of each is
the row-level-security check on `household` itself (≈9 µs a row for staff). For coordinators and
commissioners it cost ≈150 µs a row until migration 0006 made the rule plannable; since then a
responder's whole-prefecture view takes 0.3–0.4 s (bench/HISTORY.md).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import msgspec
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from server.core.context import current_tenant
from server.registry.disclosure_watchers import watcher_scope_sql
from server.watch.common import (
    DEFAULT_RADIUS_M,
    SUBTREE_CTE,
    TARGET_WATCHERS,
    analysis_transaction,
    metres_per_degree_lat,
    metres_per_degree_lon,
    visible_sql,
)

OVER_CAPACITY_LIST_MAX = 500


class Numbers(msgspec.Struct):
    """Households by cover: `with_0` no watcher at all; `with_2_plus` two or more within the
    district's walking radius; `with_1` the rest (weak cover: one watcher, or watchers of whom
    fewer than two live within walking distance)."""

    households: int = 0
    with_0: int = 0
    with_1: int = 0
    with_2_plus: int = 0
    in_hazard: int = 0
    in_hazard_weak: int = 0  # in a hazard zone with fewer than two watchers within walking distance
    with_far_watcher: int = 0  # households with a watcher beyond the walking radius (weak cover)
    watchers: int = 0  # neighbourhood watchers (role 'watcher') living in the district
    watchers_available: int = 0
    watchers_over_capacity: int = 0  # any role, active links > capacity
    spare_capacity: int = 0  # free slots of available neighbourhood watchers

    def add(self, other: Numbers) -> None:
        for f in self.__struct_fields__:
            setattr(self, f, getattr(self, f) + getattr(other, f))


class DistrictCoverage(msgspec.Struct):
    district_id: uuid.UUID
    parent_id: uuid.UUID | None
    code: str
    name: str
    level: str
    walking_radius_m: int
    numbers: Numbers  # the district and all its descendants


class OverCapacity(msgspec.Struct):
    watcher_id: uuid.UUID
    district_id: uuid.UUID | None
    role: str
    load: int
    capacity: int


class Coverage(msgspec.Struct):
    district_id: uuid.UUID | None  # the filter, if any
    districts: list[DistrictCoverage]
    unassigned: Numbers | None  # households/watchers without a district (whole-tenant view only)
    totals: Numbers
    over_capacity: list[OverCapacity]


def _scope(district: bool, column: str) -> str:
    return f" AND {column} IN (SELECT id FROM subtree)" if district else ""


def _with(district: bool) -> str:
    return f"WITH RECURSIVE {SUBTREE_CTE if district else 'subtree(id) AS (SELECT NULL::uuid)'}"


def _links_sql(base: str) -> str:
    """`links(household_id, n, near)`: the active links of each household of `base` (id, x, y, r)
    and how many of them reach it within its district's walking radius (the local metric, see
    `common`). A watcher beyond it still counts as a watcher, but only as weak cover.

    MATERIALIZED: computed once. Inlined, a planner that underestimates `base` (statistics taken
    before a bulk load) may rescan it per household, and a 2,500-household demo ran for hours."""
    return f"""links AS MATERIALIZED (
        SELECT l.household_id, count(*)::int AS n,
               count(*) FILTER (WHERE ((ST_X(w.home) - b.x) * {metres_per_degree_lon("b.y")})^2
                                      + ((ST_Y(w.home) - b.y) * {metres_per_degree_lat("b.y")})^2 <= b.r^2)::int AS near
        FROM {base} b
        JOIN watch_link l ON l.tenant_id = :tenant AND l.household_id = b.id AND l.ended_at IS NULL
        JOIN watcher w ON w.tenant_id = l.tenant_id AND w.id = l.watcher_id
        GROUP BY l.household_id
    )"""


def household_numbers_sql(district: bool) -> str:
    return f"""
    {_with(district)},
    zones AS MATERIALIZED (SELECT ST_Union(geom) AS g FROM hazard_zone WHERE tenant_id = :tenant),
    base AS MATERIALIZED (
        SELECT h.id, h.district_id, ST_X(h.location) AS x, ST_Y(h.location) AS y,
               coalesce(d.walking_radius_m, {DEFAULT_RADIUS_M})::float8 AS r,
               coalesce(ST_Intersects((SELECT g FROM zones), h.location), false) AS in_hazard
        FROM household h
        LEFT JOIN district d ON d.tenant_id = h.tenant_id AND d.id = h.district_id
        WHERE h.tenant_id = :tenant{_scope(district, "h.district_id")}
          {visible_sql("h")}
    ),
    {_links_sql("base")},
    hh AS (
        SELECT b.district_id, b.in_hazard, coalesce(l.n, 0) AS n, coalesce(l.near, 0) AS near
        FROM base b LEFT JOIN links l ON l.household_id = b.id
    )
    SELECT district_id, count(*)::int,
           count(*) FILTER (WHERE n = 0)::int,
           count(*) FILTER (WHERE n > 0 AND near < {TARGET_WATCHERS})::int,
           count(*) FILTER (WHERE near >= {TARGET_WATCHERS})::int,
           count(*) FILTER (WHERE in_hazard)::int,
           count(*) FILTER (WHERE in_hazard AND near < {TARGET_WATCHERS})::int,
           count(*) FILTER (WHERE n > near)::int
    FROM hh GROUP BY district_id
    """


def _watcher_load_sql(district: bool, watcher_scope: str = "") -> str:
    return f"""
    {_with(district)},
    load AS (
        SELECT watcher_id, count(*)::int AS n FROM watch_link
        WHERE tenant_id = :tenant AND ended_at IS NULL GROUP BY watcher_id
    ),
    ww AS (
        SELECT w.id, w.district_id, w.role, w.available, w.capacity, coalesce(l.n, 0) AS n
        FROM watcher w LEFT JOIN load l ON l.watcher_id = w.id
        WHERE w.tenant_id = :tenant{_scope(district, "w.district_id")}{watcher_scope}
    )"""


def watcher_numbers_sql(district: bool, watcher_scope: str = "") -> str:
    return f"""{_watcher_load_sql(district, watcher_scope)}
    SELECT district_id,
           count(*) FILTER (WHERE role = 'watcher')::int,
           count(*) FILTER (WHERE role = 'watcher' AND available)::int,
           count(*) FILTER (WHERE n > capacity)::int,
           coalesce(sum(greatest(capacity - n, 0)) FILTER (WHERE role = 'watcher' AND available), 0)::int
    FROM ww GROUP BY district_id
    """


def over_capacity_sql(district: bool, watcher_scope: str = "") -> str:
    return f"""{_watcher_load_sql(district, watcher_scope)}
    SELECT id, district_id, role, n, capacity FROM ww WHERE n > capacity
    ORDER BY n - capacity DESC, id LIMIT {OVER_CAPACITY_LIST_MAX}
    """


@dataclass
class _District:
    id: uuid.UUID
    parent_id: uuid.UUID | None
    code: str
    name: str
    level: str
    walking_radius_m: int


def _roll_up(districts: list[_District], own: dict[uuid.UUID | None, Numbers]) -> dict[uuid.UUID, Numbers]:
    """Each district's numbers over its subtree (the tree is small: one pass per district)."""
    by_id = {d.id: d for d in districts}
    rolled = {d.id: Numbers() for d in districts}
    for did, numbers in own.items():
        seen: set[uuid.UUID] = set()
        cur = did
        while cur is not None and cur in by_id and cur not in seen:
            seen.add(cur)
            rolled[cur].add(numbers)
            cur = by_id[cur].parent_id
    return rolled


async def coverage(db: AsyncSession, district_id: uuid.UUID | None = None) -> Coverage:
    await analysis_transaction(db)
    district = district_id is not None
    params: dict[str, Any] = {"tenant": current_tenant()}
    if district:
        params["district"] = district_id
    own: dict[uuid.UUID | None, Numbers] = {}
    for did, *vals in await db.execute(text(household_numbers_sql(district)), params):
        n = own.setdefault(did, Numbers())
        n.households, n.with_0, n.with_1, n.with_2_plus, n.in_hazard, n.in_hazard_weak, n.with_far_watcher = vals
    # Watchers are counted and listed within the viewer's scope (disclosure_watchers), like households.
    watcher_scope, scope_params = watcher_scope_sql("w")
    for did, *vals in await db.execute(text(watcher_numbers_sql(district, watcher_scope)), {**params, **scope_params}):
        n = own.setdefault(did, Numbers())
        n.watchers, n.watchers_available, n.watchers_over_capacity, n.spare_capacity = vals
    over = [
        OverCapacity(*r)
        for r in await db.execute(text(over_capacity_sql(district, watcher_scope)), {**params, **scope_params})
    ]
    tree_sql = (
        f"{_with(True)} SELECT d.id, d.parent_id, d.code, d.name, d.level, d.walking_radius_m"
        f" FROM district d WHERE d.tenant_id = :tenant AND d.id IN (SELECT id FROM subtree) ORDER BY d.code"
        if district
        else "SELECT d.id, d.parent_id, d.code, d.name, d.level, d.walking_radius_m"
        " FROM district d WHERE d.tenant_id = :tenant ORDER BY d.code"
    )
    districts = [_District(*r) for r in await db.execute(text(tree_sql), params)]
    if district:  # the root's parent is outside the filter: stop the roll-up at the root
        districts = [
            (_District(d.id, None, d.code, d.name, d.level, d.walking_radius_m) if d.id == district_id else d)
            for d in districts
        ]
    rolled = _roll_up(districts, own)
    totals = Numbers()
    for numbers in own.values():
        totals.add(numbers)
    return Coverage(
        district_id=district_id,
        districts=[
            DistrictCoverage(d.id, d.parent_id, d.code, d.name, d.level, d.walking_radius_m, rolled[d.id])
            for d in districts
        ],
        unassigned=None if district else own.get(None, Numbers()),
        totals=totals,
        over_capacity=over,
    )


# ---- pockets -----------------------------------------------------------------------------------

_OFFSETS = "(VALUES (-1, -1), (-1, 0), (-1, 1), (0, -1), (0, 0), (0, 1), (1, -1), (1, 0), (1, 1))"
_CELL = 4294967296  # 2^32: (column, row) packed into one bigint hash key


def pockets_sql(district: bool) -> str:
    return f"""
    {_with(district)},
    base AS MATERIALIZED (
        SELECT h.id, h.location, h.location_3857, ST_X(h.location) AS x, ST_Y(h.location) AS y,
               coalesce(d.walking_radius_m, {DEFAULT_RADIUS_M})::float8 AS r
        FROM household h
        LEFT JOIN district d ON d.tenant_id = h.tenant_id AND d.id = h.district_id
        WHERE h.tenant_id = :tenant{_scope(district, "h.district_id")}
          {visible_sql("h")}
    ),
    {_links_sql("base")},
    hh AS MATERIALIZED (
        SELECT b.*, coalesce(l.n, 0) AS n, coalesce(l.near, 0) AS near
        FROM base b LEFT JOIN links l ON l.household_id = b.id
    ),
    -- Cells at least as large as the largest radius: ≥ 110,574 m per degree of latitude anywhere,
    -- ≥ 111,000·cos(φ) m per degree of longitude (φ rounded up half a degree).
    grid AS MATERIALIZED (
        SELECT max(r) / 110000.0 AS dlat,
               max(r) / (111000.0 * cos(radians(least(89.0, max(abs(y)) + 0.5)))) AS dlon
        FROM hh
    ),
    ww AS MATERIALIZED (
        SELECT w.household_id, ST_X(w.home) AS x, ST_Y(w.home) AS y,
               (floor(ST_X(w.home) / g.dlon)::bigint + o.dx) * {_CELL}
                 + (floor(ST_Y(w.home) / g.dlat)::bigint + o.dy) AS cell
        FROM watcher w CROSS JOIN grid g CROSS JOIN {_OFFSETS} AS o(dx, dy)
        WHERE w.tenant_id = :tenant AND w.role = 'watcher' AND w.available
    ),
    hm AS MATERIALIZED (
        SELECT hh.*, floor(hh.x / g.dlon)::bigint * {_CELL} + floor(hh.y / g.dlat)::bigint AS cell,
               {metres_per_degree_lon("hh.y")} AS mx, {metres_per_degree_lat("hh.y")} AS my
        FROM hh CROSS JOIN grid g
    ),
    pocket AS MATERIALIZED (
        SELECT hm.id, hm.location, hm.location_3857, hm.y, hm.r, hm.n, hm.near FROM hm
        WHERE NOT EXISTS (
            SELECT 1 FROM ww
            WHERE ww.cell = hm.cell AND ww.household_id IS DISTINCT FROM hm.id
              AND ((ww.x - hm.x) * hm.mx)^2 + ((ww.y - hm.y) * hm.my)^2 <= hm.r^2)
    ),
    zones AS MATERIALIZED (SELECT ST_Union(geom) AS g FROM hazard_zone WHERE tenant_id = :tenant),
    clustered AS (
        SELECT p.*, ST_ClusterDBSCAN(p.location_3857,
                                     eps := (SELECT CAST(:eps AS float8) / cos(radians(avg(y))) FROM pocket),
                                     minpoints := 1) OVER () AS cid
        FROM pocket p
    ),
    groups AS (
        SELECT count(*)::int AS households,
               count(*) FILTER (WHERE n = 0)::int AS uncovered,
               count(*) FILTER (WHERE n > 0 AND near < {TARGET_WATCHERS})::int AS weak,
               count(*) FILTER (WHERE coalesce(ST_Intersects((SELECT g FROM zones), location), false))::int AS in_hazard,
               max(r)::int AS radius_m,
               ST_Buffer(ST_ConvexHull(ST_Collect(location_3857)), max(r) / cos(radians(avg(y))), 'quad_segs=8') AS area,
               array_agg(id) AS ids
        FROM clustered GROUP BY cid
    )
    SELECT households, uncovered, weak, in_hazard, radius_m,
           ST_AsGeoJSON(ST_Transform(area, 4326), 6) AS geometry, ids
    FROM groups
    ORDER BY households DESC, ST_XMin(area), ST_YMin(area)
    """


@dataclass
class Pockets:
    features: list[dict[str, Any]]
    household_ids: list[uuid.UUID]


async def pockets(db: AsyncSession, district_id: uuid.UUID | None = None, eps_m: float = DEFAULT_RADIUS_M) -> Pockets:
    await analysis_transaction(db, work_mem_mb=32)
    params: dict[str, Any] = {"tenant": current_tenant(), "eps": float(eps_m)}
    if district_id is not None:
        params["district"] = district_id
    features: list[dict[str, Any]] = []
    ids: list[uuid.UUID] = []
    rows: Iterable[Any] = await db.execute(text(pockets_sql(district_id is not None)), params)
    for i, (households, uncovered, weak, in_hazard, radius_m, geometry, member_ids) in enumerate(rows, 1):
        features.append(
            {
                "type": "Feature",
                "id": i,
                "geometry": msgspec.json.decode(geometry),
                "properties": {
                    "households": households,
                    "uncovered": uncovered,
                    "weak_cover": weak,
                    "in_hazard": in_hazard,
                    "radius_m": radius_m,
                },
            }
        )
        ids.extend(member_ids)
    return Pockets(features, ids)
