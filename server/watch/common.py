"""Pieces shared by the watch-network queries: scope, disclosure filter, walking radius, metres.

- Households are filtered with the disclosure rule explicitly (as every path out does) unless
  the viewer is a registry keeper: for admin/staff `tonari_household_visible` is true for every
  row of the tenant, and RLS evaluates the very same function anyway. Skipping the duplicate
  call halves the per-row cost of a whole-tenant scan (the function is not inlinable: ≈8 µs a
  call), and changes no result.
- `district_id` filters mean the district and all its descendants (households are assigned to
  the deepest district containing them, so a branch alone would otherwise look empty).
- Distances are metres on the ellipsoid: `geography` where a handful of rows is involved, and the
  local ellipsoidal metric below (metres per degree at the household's latitude, GRS80) inside
  set-based joins over whole tenants; at walking distances the two agree to millimetres.
"""

from __future__ import annotations

import uuid

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from server.core import context
from server.core.context import current_tenant
from server.core.problems import Problem
from server.registry.disclosure import SEES_ALL

DEFAULT_RADIUS_M = 300
TARGET_WATCHERS = 2  # a primary and a backup

# Metres per degree of longitude / latitude at latitude `lat` (degrees) on the GRS80 ellipsoid.
_E2 = "0.00669438002290"
_A = "6378137.0"


def metres_per_degree_lon(lat: str) -> str:
    return f"(pi() / 180 * {_A} * cos(radians({lat})) / sqrt(1 - {_E2} * sin(radians({lat}))^2))"


def metres_per_degree_lat(lat: str) -> str:
    return f"(pi() / 180 * {_A} * (1 - {_E2}) / (1 - {_E2} * sin(radians({lat}))^2)^1.5)"


def visible_sql(alias: str = "h") -> str:
    """`AND <disclosure rule>` for the household alias, or nothing for admin/staff (see above)."""
    if (context.current().role or "") in SEES_ALL:
        return ""
    a = alias
    return f"AND tonari_household_visible({a}.tenant_id, {a}.id, {a}.district_id, {a}.location)"


# The district and its descendants (UNION, not UNION ALL: a parent cycle cannot loop forever).
SUBTREE_CTE = """subtree(id) AS (
        SELECT id FROM district WHERE tenant_id = :tenant AND id = :district
        UNION
        SELECT c.id FROM district c JOIN subtree s ON c.parent_id = s.id WHERE c.tenant_id = :tenant
    )"""


async def ensure_district(db: AsyncSession, district_id: uuid.UUID) -> None:
    found = await db.execute(
        text("SELECT 1 FROM district WHERE tenant_id = :tenant AND id = :district"),
        {"tenant": current_tenant(), "district": district_id},
    )
    if found.first() is None:
        raise Problem("not_found", detail_ja="地区が見つかりません。", detail_en="District not found.")


async def analysis_transaction(db: AsyncSession, work_mem_mb: int | None = None) -> None:
    """Settings for one whole-tenant analysis statement, local to the current transaction.

    JIT is off: these statements are long enough to trigger it, but their time goes into
    function calls (the disclosure rule, PostGIS), which JIT does not speed up, while compiling
    cost ≈1 s on the bench copy.
    """
    await db.execute(text("SET LOCAL jit = off"))
    if work_mem_mb:
        await db.execute(text(f"SET LOCAL work_mem = '{int(work_mem_mb)}MB'"))
