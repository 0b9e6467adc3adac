"""Mapbox Vector Tile SQL (ST_AsMVT) for the map layers.

Households are filtered by the same disclosure function as every other path out and carry no
names: an id (which the live maps key their statuses on), the district, and flags that are
present only where they hold (`disaster`, `approximate`); an operation's live map adds `status`.
Below zoom 13 they are aggregated into grid clusters (counts only), which keeps a z10 tile small
and holds no individual location (a cluster of fewer than five sits at its grid point).
Geometries come from the stored EPSG:3857 columns, so no per-request transform is needed.
"""

from __future__ import annotations

from sqlalchemy import TextClause, text

from server.registry.disclosure_sql import household_rule

# The disclosure rule, explicitly (RLS applies it too; a connection that bypasses RLS must still
# leak nothing), in its per-statement form: a few comparisons per row instead of SQL-function calls.
# Gated on row_security_active (an InitPlan, once per statement): where the household policy is in
# force it already applied this very rule as a security qual, and PostgreSQL does not merge equal
# quals, so the second copy only doubled the consent probes. Where RLS does not apply (superuser,
# BYPASSRLS, owner without FORCE) the gate is false and the explicit rule filters every row.
_VISIBLE = (
    f"((SELECT row_security_active('household'::regclass)) OR "
    f"{household_rule('h.tenant_id', 'h.id', 'h.district_id', 'h.location', per_statement=True, consent_columns='h.')})"
)

EXTENT = 4096
BUFFER = 64
CLUSTER_BELOW_ZOOM = 13
# Cluster cell in tile pixels (of 4096): 256 → 16×16 cells per tile.
CLUSTER_CELL_PX = 256

_TAIL = f"""
    SELECT (SELECT ST_AsMVT(mvt, 'households', {EXTENT}, 'geom') FROM mvt),
           (SELECT array_agg(id) FROM rows)
    """

# The personal-data read audit inside the tile statement itself (no extra round trips): one row per
# (mode, operation) of the tile's households, as `disclosure.audit_reads` writes them, appended
# through tonari_audit_append() (the only way the app's role writes the audit log). A row's mode is
# what decided its disclosure: 'disaster' where the disaster rule applies to this viewer for the
# household (never for registry keepers), else 'drill' in a drill operation's map, else 'normal'.
# Extra parameters: :actor, :login, :request_id, :client, :tile.
_AUDIT_TAIL = f""",
    ids AS (SELECT array_agg(id) AS ids FROM rows),
    audit AS MATERIALIZED (
        SELECT tonari_audit_append(
                   p_action => 'household.read', p_object_type => 'household',
                   p_object_ids => array_agg(r.id::text ORDER BY r.id), p_mode => r.mode,
                   p_operation_id => r.op_id,
                   p_request_id => CAST(:request_id AS text), p_client_addr => CAST(:client AS inet),
                   p_details => jsonb_build_object('via', 'tile', 'count', count(*), 'tile', CAST(:tile AS text)),
                   p_tenant_id => :tenant, p_actor_user_id => CAST(:actor AS uuid),
                   p_actor_login => CAST(:login AS text)) AS id
        FROM (SELECT rows.id, rows.op_id,
                     CASE WHEN rows.disaster AND NOT (SELECT tonari_sees_all())
                               AND tonari_household_disaster_applies(:tenant, rows.id, rows.location) THEN 'disaster'
                          WHEN rows.op_mode = 'drill' THEN 'drill' ELSE 'normal' END AS mode
              FROM rows) r
        GROUP BY r.mode, r.op_id
    )
    SELECT (SELECT ST_AsMVT(mvt, 'households', {EXTENT}, 'geom') FROM mvt), (SELECT ids FROM ids),
           (SELECT count(*) FROM audit)
    """

# The household features' flags are present only where they hold (ST_AsMVT leaves out NULL
# attributes): `disaster` inside an area under a real disaster declaration, `approximate` for a
# location placed at its town's representative point. Absent means false. Most households carry
# neither, so a tile is smaller and cheaper to encode than with a false on every feature. The
# plain households layer carries no `status` either: outside an operation there is none (the
# operation's live map, below, carries it on every feature).
_DISASTER = "CASE WHEN ST_Covers(area.geom, h.location) THEN true END"
_APPROXIMATE = "CASE WHEN rows.location_approximate THEN true END"


def _households_ctes(visible: str) -> str:
    return f"""
    WITH bounds AS (SELECT ST_TileEnvelope(:z, :x, :y) AS geom),
    area AS MATERIALIZED (SELECT tonari_disaster_area() AS geom),  -- once, not once per household
    rows AS (
        SELECT h.id, h.district_id, h.location_approximate, h.location_3857, h.location,
               {_DISASTER} AS disaster, NULL::uuid AS op_id, NULL::text AS op_mode
        FROM household h, bounds, area
        WHERE h.tenant_id = :tenant
          AND h.location_3857 && bounds.geom
          AND {visible}
    ),
    mvt AS (
        SELECT ST_AsMVTGeom(rows.location_3857, bounds.geom, {EXTENT}, {BUFFER}, true) AS geom,
               rows.id::text AS id, rows.district_id::text AS district_id,
               {_APPROXIMATE} AS approximate, rows.disaster AS disaster
        FROM rows, bounds
    )
"""


_HOUSEHOLDS_CTES = _households_ctes(_VISIBLE)
_HOUSEHOLDS = text(_HOUSEHOLDS_CTES + _TAIL)

# The live map of one operation: its target households with their derived status, and for the
# unreached ones 'late' past the first-report target and 'overdue' past the completion target
# (PRODUCT.md: they turn red).
_OPERATION_HOUSEHOLDS_CTES = f"""
    WITH bounds AS (SELECT ST_TileEnvelope(:z, :x, :y) AS geom),
    area AS MATERIALIZED (SELECT tonari_disaster_area() AS geom),  -- once, not once per household
    rows AS (
        SELECT h.id, h.district_id, h.location_approximate, h.location_3857, h.location,
               {_DISASTER} AS disaster, o.id AS op_id, o.mode AS op_mode,
               CASE WHEN t.status <> 'unreached' THEN t.status
                    WHEN now() > o.started_at + make_interval(mins => o.completion_minutes) THEN 'overdue'
                    WHEN now() > o.started_at + make_interval(mins => o.first_report_minutes) THEN 'late'
                    ELSE t.status END AS status
        FROM household h
        JOIN operation_target t ON t.tenant_id = h.tenant_id AND t.household_id = h.id AND t.operation_id = :op
        JOIN operation o ON o.tenant_id = t.tenant_id AND o.id = t.operation_id, bounds, area
        WHERE h.tenant_id = :tenant
          AND h.location_3857 && bounds.geom
          AND {_VISIBLE}
          -- the operation's map only for those who take part (server/operations/access.py): a
          -- responder's visible households are in their scope, so it touches their scope; a
          -- watcher must be assigned somewhere in it (an InitPlan, once per tile)
          AND ((SELECT tonari_role()) <> 'watcher' OR (SELECT EXISTS (
                SELECT 1 FROM operation_target t2 WHERE t2.tenant_id = :tenant AND t2.operation_id = :op
                  AND t2.watcher_ids && tonari_my_watcher_ids())))
    ),
    mvt AS (
        SELECT ST_AsMVTGeom(rows.location_3857, bounds.geom, {EXTENT}, {BUFFER}, true) AS geom,
               rows.id::text AS id, rows.district_id::text AS district_id,
               {_APPROXIMATE} AS approximate, rows.disaster AS disaster, rows.status AS status
        FROM rows, bounds
    )
"""
_OPERATION_HOUSEHOLDS = text(_OPERATION_HOUSEHOLDS_CTES + _TAIL)

_HOUSEHOLDS_AUDITED = text(_HOUSEHOLDS_CTES + _AUDIT_TAIL)
_OPERATION_HOUSEHOLDS_AUDITED = text(_OPERATION_HOUSEHOLDS_CTES + _AUDIT_TAIL)

# A cluster of fewer than CLUSTER_MIN_SIZE households is drawn at its grid point (the cell's
# centre), never at its households' centroid: a cluster of one would otherwise sit on the home.
CLUSTER_MIN_SIZE = 5


def _household_clusters(visible: str) -> TextClause:
    return text(
        f"""
    WITH bounds AS (SELECT ST_TileEnvelope(:z, :x, :y) AS geom),
    cell AS (SELECT (ST_XMax(geom) - ST_XMin(geom)) * {CLUSTER_CELL_PX} / {EXTENT} AS size FROM bounds),
    rows AS (
        SELECT ST_SnapToGrid(h.location_3857, cell.size) AS key, h.location_3857
        FROM household h, bounds, cell
        WHERE h.tenant_id = :tenant
          AND h.location_3857 && bounds.geom
          AND {visible}
    ),
    mvt AS (
        SELECT ST_AsMVTGeom(CASE WHEN count(*) < {CLUSTER_MIN_SIZE} THEN key
                                 ELSE ST_Centroid(ST_Collect(location_3857)) END,
                            bounds.geom, {EXTENT}, {BUFFER}, true) AS geom,
               count(*)::int AS count
        FROM rows, bounds GROUP BY key, bounds.geom
    )
    SELECT (SELECT ST_AsMVT(mvt, 'households', {EXTENT}, 'geom') FROM mvt), NULL::text[]
    """
    )


_HOUSEHOLD_CLUSTERS = _household_clusters(_VISIBLE)

_DISTRICTS = text(
    f"""
    WITH bounds AS (SELECT ST_TileEnvelope(:z, :x, :y) AS geom),
    mvt AS (
        SELECT ST_AsMVTGeom(d.geom_3857, bounds.geom, {EXTENT}, {BUFFER}, true) AS geom,
               d.id::text AS id, d.code, d.name, d.level, d.parent_id::text AS parent_id
        FROM district d, bounds
        WHERE d.tenant_id = :tenant AND d.geom_3857 && bounds.geom
    )
    SELECT ST_AsMVT(mvt, 'districts', {EXTENT}, 'geom'), NULL::text[] FROM mvt
    """
)

_SHELTERS = text(
    f"""
    WITH bounds AS (SELECT ST_TileEnvelope(:z, :x, :y) AS geom),
    mvt AS (
        SELECT ST_AsMVTGeom(s.location_3857, bounds.geom, {EXTENT}, {BUFFER}, true) AS geom,
               s.id::text AS id, s.name, s.kind, s.is_open, s.occupancy, s.capacity,
               array_to_string(s.hazards, ',') AS hazards
        FROM shelter s, bounds
        WHERE s.tenant_id = :tenant AND s.location_3857 && bounds.geom
    )
    SELECT ST_AsMVT(mvt, 'shelters', {EXTENT}, 'geom'), NULL::text[] FROM mvt
    """
)

_HAZARDS = text(
    f"""
    WITH bounds AS (SELECT ST_TileEnvelope(:z, :x, :y) AS geom),
    mvt AS (
        SELECT ST_AsMVTGeom(z.geom_3857, bounds.geom, {EXTENT}, {BUFFER}, true) AS geom,
               z.id::text AS id, z.kind, z.level, z.name
        FROM hazard_zone z, bounds
        WHERE z.tenant_id = :tenant AND z.geom_3857 && bounds.geom
    )
    SELECT ST_AsMVT(mvt, 'hazard_zones', {EXTENT}, 'geom'), NULL::text[] FROM mvt
    """
)

LAYERS = ("households", "districts", "shelters", "hazard-zones")
PERSONAL_LAYERS = frozenset({"households"})


def tile_sql(layer: str, z: int, operation: bool = False) -> TextClause:
    """The statement for a layer; parameters :tenant, :z, :x, :y (and :op for an operation's
    live map, which is never clustered: it is drawn at district zooms). Returns (mvt bytes, ids)."""
    if layer == "households" and operation:
        return _OPERATION_HOUSEHOLDS
    if layer == "households":
        return _HOUSEHOLD_CLUSTERS if z < CLUSTER_BELOW_ZOOM else _HOUSEHOLDS
    return {"districts": _DISTRICTS, "shelters": _SHELTERS, "hazard-zones": _HAZARDS}[layer]


def audited_tile_sql(layer: str, z: int, operation: bool = False) -> TextClause | None:
    """`tile_sql` for the tiles that carry household ids, with their read audit row written by the
    same statement (third column: rows written). None for layers and zooms without ids."""
    if layer != "households":
        return None
    if operation:
        return _OPERATION_HOUSEHOLDS_AUDITED
    return None if z < CLUSTER_BELOW_ZOOM else _HOUSEHOLDS_AUDITED


def unfiltered_households_sql(z: int) -> TextClause:
    """The served households tile of zoom `z` (points with the same attributes and ids column,
    or below CLUSTER_BELOW_ZOOM the same grid clusters) with the disclosure filter taken out.
    Only for bench/ (what the filter costs), never served."""
    if z < CLUSTER_BELOW_ZOOM:
        return _household_clusters("true")
    return text(_households_ctes("true") + _TAIL)


def bare_households_sql() -> TextClause:
    """A bare ST_AsMVT of the same points (no filter, no disaster flag, no ids column). Only for
    bench/, as a reference beside the unfiltered tile; never served."""
    return text(
        f"""
        WITH bounds AS (SELECT ST_TileEnvelope(:z, :x, :y) AS geom),
        mvt AS (
            SELECT ST_AsMVTGeom(h.location_3857, bounds.geom, {EXTENT}, {BUFFER}, true) AS geom,
                   h.id::text AS id, h.district_id::text AS district_id,
                   CASE WHEN h.location_approximate THEN true END AS approximate
            FROM household h, bounds WHERE h.tenant_id = :tenant AND h.location_3857 && bounds.geom
        )
        SELECT ST_AsMVT(mvt, 'households', {EXTENT}, 'geom') FROM mvt
        """
    )
